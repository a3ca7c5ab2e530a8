#!/usr/bin/env bash
# Strong scaling of the study PWAS (configs/study_pwas.toml: 2 exposures x 2 covariate models x 2,920 proteins,
# logistic, RIN) on one many-core machine, 1..R ranks x 1 thread, plus a weak-scaling series (proteins grown with
# the rank count). Writes scaling.csv, machine.txt and the run logs into OUT.
# Usage: device_scaling.sh PWAS OUT [RANKS...]     (the cohort is simulated straight to HDF5 in a temp folder)
# Environment: PWAS_SCALING_BIND=none|core (mpirun --bind-to; core also maps by core), PWAS_SCALING_WEAK_RANKS
# ("" skips weak scaling), PWAS_SCALING_EXTRA_BIND (a second binding to run at the largest rank count too),
# PWAS_SCALING_EXTRA_STATIC=1 (the largest rank count once more with schedule = "static"), PWAS_SCALING_HYBRID
# ("4x4 1x16": ranks x OpenMP threads per rank, the same logistic job), PWAS_SCALING_COX_RANKS ("8 16": the Cox
# study, configs/study_cox.toml, 6 outcomes x every protein, at those rank counts with 1 thread each),
# PWAS_SCALING_COMPARE (another pwas binary, e.g. an AVX2 build: the logistic job and the Cox job once more at the
# largest rank count with it, kinds compare and compare_cox).
# scaling.csv gives the wall time of mpirun (launcher start-up included) and app_s, the time pwas itself reports
# from start to finish ("done in" in run.log), so the launcher's share of the fixed cost can be told apart.
set -euo pipefail
pwas=$(realpath "$1") out=$(realpath -m "$2")
shift 2
ranks_list=("${@:-1 2 4 8 16}")
read -r -a ranks_list <<<"${ranks_list[*]}"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
config=$(cd "$(dirname "$0")/.." && pwd)/configs/study_pwas.toml
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "cores: $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "mpirun: $(mpirun --version 2>&1 | head -n1)"
  echo "loadavg before: $(cat /proc/loadavg)"
} >"$out/machine.txt"

n=${PWAS_SCALING_N:-42062} proteins=${PWAS_SCALING_PROTEINS:-2920} per_rank=${PWAS_SCALING_WEAK_PER_RANK:-365}
"$pwas" simulate --out "$work/sim" --n "$n" --proteins "$proteins" --seed 1 --cohort "$work/cohort.h5" --no-olink-text \
  >"$out/simulate.log" 2>&1

bind=${PWAS_SCALING_BIND:-none}
echo "kind,ranks,threads,proteins,fits,bind,wall_s,app_s" >"$out/scaling.csv"
run_point() {  # run_point KIND RANKS COHORT PROTEINS [BIND] [CONFIG] [THREADS] [FITS PER PROTEIN]
  local kind=$1 r=$2 cohort=$3 proteins=$4 b=${5:-$bind} cfg=${6:-$config} t=${7:-1} per=${8:-4} start end app binding
  binding=(--bind-to "$b")
  [[ $b == core ]] && binding+=(--map-by core)
  [[ $t -gt 1 && $b == core ]] && binding=(--bind-to none)  # a rank's threads need more than one core
  local tag="${kind}_${b}_${r}"
  [[ $t -gt 1 ]] && tag="${tag}x$t"
  start=$(date +%s.%N)
  mpirun -n "$r" "${binding[@]}" -x OMP_NUM_THREADS="$t" -x LD_LIBRARY_PATH "${run_binary:-$pwas}" run "$cfg" --cohort "$cohort" \
    --out "$work/out_$tag" --threads "$t" --force --quiet
  end=$(date +%s.%N)
  cp "$work/out_$tag/run.log" "$out/run_$tag.log"
  app=$(sed -n 's/.*done in \([0-9.]*\) s.*/\1/p' "$work/out_$tag/run.log")
  awk -v k="$kind" -v r="$r" -v t="$t" -v p="$proteins" -v f="$per" -v s="$start" -v e="$end" -v b="$b" -v a="$app" \
    'BEGIN { printf "%s,%d,%d,%d,%d,%s,%.3f,%s\n", k, r, t, p, f * p, b, e - s, a }' >>"$out/scaling.csv"
}
for r in "${ranks_list[@]}"; do run_point strong "$r" "$work/cohort.h5" "$proteins"; done
last=${ranks_list[-1]}
[[ -n ${PWAS_SCALING_EXTRA_BIND:-} ]] && run_point strong "$last" "$work/cohort.h5" "$proteins" "$PWAS_SCALING_EXTRA_BIND"
if [[ -n ${PWAS_SCALING_EXTRA_STATIC:-} ]]; then
  { echo 'schedule = "static"'; cat "$config"; } > "$work/static.toml"
  run_point static "$last" "$work/cohort.h5" "$proteins" "$bind" "$work/static.toml"
fi
for rt in ${PWAS_SCALING_HYBRID:-}; do run_point hybrid "${rt%x*}" "$work/cohort.h5" "$proteins" "$bind" "$config" "${rt#*x}"; done
# The outputs must not depend on the rank or thread count.
first="$work/out_strong_${bind}_${ranks_list[0]}/full.tsv"
for o in "$work"/out_strong_* "$work"/out_hybrid_*; do
  [[ -e $o/full.tsv ]] || continue
  cmp -s "$first" "$o/full.tsv" || echo "DIFFERENT: ${o##*/out_}" >>"$out/machine.txt"
done
cox_config=$(dirname "$config")/study_cox.toml
for r in ${PWAS_SCALING_COX_RANKS:-}; do run_point cox "$r" "$work/cohort.h5" "$proteins" "$bind" "$cox_config" 1 6; done
if [[ -n ${PWAS_SCALING_COMPARE:-} ]]; then
  run_binary=$(realpath "$PWAS_SCALING_COMPARE")
  run_point compare "$last" "$work/cohort.h5" "$proteins"
  [[ -n ${PWAS_SCALING_COX_RANKS:-} ]] && run_point compare_cox "$last" "$work/cohort.h5" "$proteins" "$bind" "$cox_config" 1 6
  run_binary=
fi
# Another build gives other roundings: its estimates are compared by the largest relative difference instead.
max_rel() {  # max_rel A.tsv B.tsv: over BETA and SE of rows with ERRCODE OK in both
  awk -F'\t' 'FNR == 1 { for (i = 1; i <= NF; ++i) c[$i] = i; next }
    NR == FNR { b[FNR] = $c["BETA"]; s[FNR] = $c["SE"]; e[FNR] = $c["ERRCODE"]; next }
    $c["ERRCODE"] == "OK" && e[FNR] == "OK" {
      for (k = 0; k < 2; ++k) { x = k ? $c["SE"] : $c["BETA"]; y = k ? s[FNR] : b[FNR]; d = x - y; if (d < 0) d = -d
        m = y < 0 ? -y : y; if (m > 0 && d / m > worst) worst = d / m } ++n }
    END { printf "%d rows, max relative difference %.2e\n", n, worst }' "$1" "$2"
}
if [[ -n ${PWAS_SCALING_COMPARE:-} ]]; then
  cmp_first="$work/out_strong_${bind}_$last"
  [[ -e $work/out_compare_${bind}_$last/full.tsv ]] &&
    echo "compare build, full.tsv: $(max_rel "$cmp_first/full.tsv" "$work/out_compare_${bind}_$last/full.tsv")" >>"$out/machine.txt"
  [[ -e $work/out_compare_cox_${bind}_$last/cox.tsv && -e $work/out_cox_${bind}_$last/cox.tsv ]] &&
    echo "compare build, cox.tsv: $(max_rel "$work/out_cox_${bind}_$last/cox.tsv" "$work/out_compare_cox_${bind}_$last/cox.tsv")" >>"$out/machine.txt"
fi
cox_runs=("$work"/out_cox_*)
for o in "${cox_runs[@]}"; do
  [[ -e $o/cox.tsv ]] || continue
  cmp -s "${cox_runs[0]}/cox.tsv" "$o/cox.tsv" || echo "DIFFERENT: ${o##*/out_}" >>"$out/machine.txt"
done
# Weak scaling: 365 proteins per rank (2,920 at 8 ranks), same samples.
for r in ${PWAS_SCALING_WEAK_RANKS-1 4 16}; do
  p=$((per_rank * r))
  "$pwas" simulate --out "$work/simw$r" --n "$n" --proteins "$p" --seed 1 --cohort "$work/weak$r.h5" --no-olink-text >/dev/null
  run_point weak "$r" "$work/weak$r.h5" "$p"
  rm -f "$work/weak$r.h5"
done
echo "loadavg after: $(cat /proc/loadavg)" >>"$out/machine.txt"
cat "$out/scaling.csv"
