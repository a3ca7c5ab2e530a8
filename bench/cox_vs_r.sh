#!/usr/bin/env bash
# The issue-5 speed criterion on this machine: R's coxph (+ cox.zph) loop against fit_cox, one thread each, on
# the same simulated cohort (bench/cox_vs_r.R: n rows, 59 covariate columns incl. dummies + the protein, ~5%
# events, whole-day ties, 10% missing per protein), with the estimates compared.
# Usage: bench/cox_vs_r.sh BUILD_DIR [N=40000] [N_PROTEINS=10] [SEED=5]
set -euo pipefail
build=${1:?usage: cox_vs_r.sh BUILD_DIR [N] [N_PROTEINS] [SEED]}
n=${2:-40000}
k=${3:-10}
seed=${4:-5}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; R $(Rscript -e 'cat(as.character(getRversion()), as.character(packageVersion("survival")))' 2>/dev/null)"
OPENBLAS_NUM_THREADS=1 Rscript "$here/cox_vs_r.R" "$out" "$n" "$k" "$seed"
"$build/bench/cox_r_compare" "$out"
