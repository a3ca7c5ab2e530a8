#!/usr/bin/env bash
# Issue 5's speed criterion at full size, in one run: pwas' whole Cox study (configs/study_cox.toml: 2,920 proteins x
# 6 outcomes, 63 design columns, cox.zph) on this machine against R's loop over the same fits, timed on a sample of
# them (bench/cox_e2e_vs_r.R: R's default coxph and cox.zph per fit, on the study's own rows; it also checks pwas'
# estimates against tightly converged R fits). R's loop is single-threaded, as users run it; the report gives the
# ratio both for one R process and for R spread over every core.
# Usage: bench/cox_study_vs_r.sh BUILD_DIR WORK_DIR [PROTEINS_PER_OUTCOME=4] [THREADS=nproc]
set -euo pipefail
build=${1:?usage: cox_study_vs_r.sh BUILD_DIR WORK_DIR [PROTEINS_PER_OUTCOME] [THREADS]}
work=${2:?usage: cox_study_vs_r.sh BUILD_DIR WORK_DIR [PROTEINS_PER_OUTCOME] [THREADS]}
k=${3:-4}
threads=${4:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
pwas=$(cd "$build" && pwd)/engine/pwas
sim="$work/sim"
mkdir -p "$work"
if [[ ! -f "$sim/cohort.h5" || ! -f "$sim/olink_instance_0.csv" ]]; then
  "$pwas" simulate --out "$sim" --n 42062 --proteins 2920 --seed 1 --cohort "$sim/cohort.h5" --force >/dev/null
  rm -f "$sim/olink_data.txt"  # the long file (2.5 GB): R reads the wide one
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $("$pwas" --version 2>/dev/null | head -1); R $(Rscript -e 'cat(as.character(getRversion()), as.character(packageVersion("survival")))' 2>/dev/null)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
out="$work/results"
rm -rf "$out"
start=$(date +%s.%N)
"$pwas" run "$root/configs/study_cox.toml" --cohort "$sim/cohort.h5" --out "$out" --threads "$threads" --quiet
wall=$(echo "$(date +%s.%N) - $start" | bc)
fits=$(($(wc -l < "$out/cox.tsv") - 1))
ok=$(awk -F'\t' 'NR > 1 && $NF == "OK"' "$out/cox.tsv" | wc -l)
echo "pwas: $fits fits ($ok OK) in $wall s on $threads threads"
r_log="$work/r_e2e.log"
OPENBLAS_NUM_THREADS=1 Rscript "$here/cox_e2e_vs_r.R" "$sim" "$out/cox.tsv" cvd,t2d,stroke,dementia,depression,death "$k" | tee "$r_log"
read -r coxph_ms zph_ms < <(sed -n 's/^R per fit .*: coxph \([0-9.]*\) ms, cox.zph \([0-9.]*\) ms$/\1 \2/p' "$r_log")
awk -v fits="$fits" -v wall="$wall" -v c="$coxph_ms" -v z="$zph_ms" -v cores="$(nproc)" 'BEGIN {
  loop = fits * c / 1000; loop_z = fits * (c + z) / 1000
  printf "R loop over the %d fits (one process): coxph %.0f s, + cox.zph %.0f s\n", fits, loop, loop_z
  printf "ratio, R loop (one process) / pwas: coxph %.1fx, coxph + cox.zph %.1fx\n", loop / wall, loop_z / wall
  printf "ratio, R loop on %d cores / pwas: coxph %.1fx, coxph + cox.zph %.1fx\n", cores, loop / cores / wall, loop_z / cores / wall
}'
