#!/usr/bin/env bash
# Strong scaling of the study PWAS (configs/study_pwas.toml: 2 exposures x 2 covariate models x 2,920 proteins,
# logistic, RIN) on one many-core machine, 1..R ranks x 1 thread, plus a weak-scaling series (proteins grown with
# the rank count). Writes scaling.csv, machine.txt and the run logs into OUT.
# Usage: device_scaling.sh PWAS OUT [RANKS...]     (the cohort is simulated straight to HDF5 in a temp folder)
# Environment: PWAS_SCALING_BIND=none|core (mpirun --bind-to; core also maps by core), PWAS_SCALING_WEAK_RANKS
# ("" skips weak scaling), PWAS_SCALING_EXTRA_BIND (a second binding to run at the largest rank count too).
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
run_point() {  # run_point KIND RANKS COHORT PROTEINS [BIND]
  local kind=$1 r=$2 cohort=$3 proteins=$4 b=${5:-$bind} start end app binding
  binding=(--bind-to "$b")
  [[ $b == core ]] && binding+=(--map-by core)
  start=$(date +%s.%N)
  mpirun -n "$r" "${binding[@]}" -x OMP_NUM_THREADS=1 -x LD_LIBRARY_PATH "$pwas" run "$config" --cohort "$cohort" \
    --out "$work/out_${kind}_${b}_$r" --threads 1 --force --quiet
  end=$(date +%s.%N)
  cp "$work/out_${kind}_${b}_$r/run.log" "$out/run_${kind}_${b}_$r.log"
  app=$(sed -n 's/.*done in \([0-9.]*\) s.*/\1/p' "$work/out_${kind}_${b}_$r/run.log")
  awk -v k="$kind" -v r="$r" -v p="$proteins" -v s="$start" -v e="$end" -v b="$b" -v a="$app" \
    'BEGIN { printf "%s,%d,1,%d,%d,%s,%.3f,%s\n", k, r, p, 4 * p, b, e - s, a }' >>"$out/scaling.csv"
}
for r in "${ranks_list[@]}"; do run_point strong "$r" "$work/cohort.h5" "$proteins"; done
last=${ranks_list[-1]}
[[ -n ${PWAS_SCALING_EXTRA_BIND:-} ]] && run_point strong "$last" "$work/cohort.h5" "$proteins" "$PWAS_SCALING_EXTRA_BIND"
# The outputs must not depend on the rank count.
for r in "${ranks_list[@]}"; do
  cmp -s "$work/out_strong_${bind}_${ranks_list[0]}/full.tsv" "$work/out_strong_${bind}_$r/full.tsv" || echo "DIFFERENT: $r ranks" >>"$out/machine.txt"
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
