#!/usr/bin/env bash
# Strong scaling of the study PWAS (configs/study_pwas.toml: 2 exposures x 2 covariate models x 2,920 proteins,
# logistic, RIN) on one many-core machine, 1..R ranks x 1 thread, plus a weak-scaling series (proteins grown with
# the rank count). Writes scaling.csv, machine.txt and the run logs into OUT.
# Usage: device_scaling.sh PWAS OUT [RANKS...]     (the cohort is simulated straight to HDF5 in a temp folder)
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

echo "kind,ranks,threads,proteins,fits,wall_s" >"$out/scaling.csv"
run_point() {  # run_point KIND RANKS COHORT PROTEINS
  local kind=$1 r=$2 cohort=$3 proteins=$4 start end
  start=$(date +%s.%N)
  mpirun -n "$r" --bind-to none -x OMP_NUM_THREADS=1 -x LD_LIBRARY_PATH "$pwas" run "$config" --cohort "$cohort" \
    --out "$work/out_${kind}_$r" --threads 1 --force --quiet
  end=$(date +%s.%N)
  cp "$work/out_${kind}_$r/run.log" "$out/run_${kind}_$r.log"
  awk -v k="$kind" -v r="$r" -v p="$proteins" -v s="$start" -v e="$end" \
    'BEGIN { printf "%s,%d,1,%d,%d,%.3f\n", k, r, p, 4 * p, e - s }' >>"$out/scaling.csv"
}
for r in "${ranks_list[@]}"; do run_point strong "$r" "$work/cohort.h5" "$proteins"; done
# The outputs must not depend on the rank count.
for r in "${ranks_list[@]}"; do
  cmp -s "$work/out_strong_${ranks_list[0]}/full.tsv" "$work/out_strong_$r/full.tsv" || echo "DIFFERENT: $r ranks" >>"$out/machine.txt"
done
# Weak scaling: 365 proteins per rank (2,920 at 8 ranks), same samples.
for r in ${PWAS_SCALING_WEAK_RANKS:-1 4 16}; do
  p=$((per_rank * r))
  "$pwas" simulate --out "$work/simw$r" --n "$n" --proteins "$p" --seed 1 --cohort "$work/weak$r.h5" --no-olink-text >/dev/null
  run_point weak "$r" "$work/weak$r.h5" "$p"
  rm -f "$work/weak$r.h5"
done
echo "loadavg after: $(cat /proc/loadavg)" >>"$out/machine.txt"
cat "$out/scaling.csv"
