#!/usr/bin/env bash
# Issue "resampling inference" measured end to end (docs/resampling.md): calibration of P_PERM on a --null cohort,
# agreement of P_PERM with the analytic P on the planted cohort, family-wise error of max-T over repeated null
# simulations, bootstrap coverage of the planted effects, and the speed of 10,000 linear and 1,000 logistic
# permutations against this machine's DGEMM rate and the plain scans. Prints a report (bench/resampling_report.py)
# and writes bench/results/resampling_<date>.json.
# Usage: bench/resampling_validation.sh [--n 42062] [--proteins 2920] [--fwer-sims 200] [--work DIR] [--skip-speed]
#                                      [--speed-only]
# (about 25 minutes on this machine at the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
n=42062 proteins=2920 sims=200 work=/tmp/pwas-resampling skip_speed=0 speed_only=0 threads=$(nproc)
while (( $# )); do
  case $1 in
    --n) n=$2; shift ;;
    --proteins) proteins=$2; shift ;;
    --fwer-sims) sims=$2; shift ;;
    --work) work=$2; shift ;;
    --skip-speed) skip_speed=1 ;;
    --speed-only) speed_only=1 ;;   # ceilings and the four planted-cohort runs only (reuses the other results)
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$work" bench/results
# A copy of the binary, so that a rebuild during the run cannot change what is measured.
cp build/engine/pwas "$work/pwas"
pwas=$work/pwas
git rev-parse --short HEAD > "$work/commit"; git status --porcelain --untracked-files=no | wc -l >> "$work/commit"
full='["age", "sex", "centre", "olink_batch", "time_gap_days", "pc1", "pc2", "pc3", "pc4", "pc5", "pc6", "pc7", "pc8",
       "pc9", "pc10", "pc11", "pc12", "pc13", "pc14", "pc15", "pc16", "pc17", "pc18", "pc19", "pc20", "ethnicity",
       "education", "income", "smoking", "alcohol", "bmi"]'

# config NAME COHORT OUT MODEL OUTCOME PREDICTOR EXTRA...
config() {
  local file=$1 cohort=$2 out=$3 model=$4 outcome=$5 predictor=$6; shift 6
  {
    echo "cohort = \"$cohort\""; echo "out = \"$out\""; echo "seed = 2026"
    echo "[[analysis]]"; echo "name = \"a\""; echo "model = \"$model\""; echo "outcome = $outcome"
    echo "predictor = $predictor"; echo "covariates = $full"; echo 'categorical = ["centre", "olink_batch"]'
    for line in "$@"; do echo "$line"; done
  } > "$file"
}

echo "== cohorts: planted (seed 1) and --null (seed 2), ${n} x ${proteins}"
[[ -f $work/planted.h5 ]] || "$pwas" simulate --out "$work/planted" --n "$n" --proteins "$proteins" --seed 1 \
  --cohort "$work/planted.h5" --no-olink-text --force >/dev/null
[[ -f $work/null.h5 ]] || "$pwas" simulate --out "$work/null" --n "$n" --proteins "$proteins" --seed 2 --null \
  --cohort "$work/null.h5" --no-olink-text --force >/dev/null

run() { /usr/bin/time -f "%e s, %M KB" -o "$2.time" "$pwas" run "$1" --force --quiet --threads "$threads"; }

if (( ! skip_speed )); then
  echo "== ceilings: DGEMM (OpenBLAS 4000^3) and triad on 1 and 2 threads, this machine"
  g++ -O3 -march=native -fopenmp -o "$work/ceilings" bench/ceilings.cpp -lopenblas
  for t in 1 2; do "$work/ceilings" $t; done > "$work/ceilings.csv"
fi

if (( ! speed_only )); then
echo "== 1. calibration on the null cohort: logistic (1,000 permutations) and linear (10,000)"
config "$work/null_logit.toml" "$work/null.h5" "$work/null_logit" logistic '["isolation", "loneliness"]' '"protein"' \
  "permutations = 1000" "max_t = true"
run "$work/null_logit.toml" "$work/null_logit"
config "$work/null_lin.toml" "$work/null.h5" "$work/null_lin" linear '"protein"' '"isolation"' \
  "permutations = 10000" "max_t = true"
run "$work/null_lin.toml" "$work/null_lin"
fi

echo "== 2. planted cohort: P_PERM against P, and the speed runs (plain scans in the same session)"
config "$work/plan_logit.toml" "$work/planted.h5" "$work/plan_logit" logistic '["isolation", "loneliness"]' '"protein"' \
  "permutations = 1000" "max_t = true"
run "$work/plan_logit.toml" "$work/plan_logit"
config "$work/plan_logit_plain.toml" "$work/planted.h5" "$work/plan_logit_plain" logistic '["isolation", "loneliness"]' '"protein"'
run "$work/plan_logit_plain.toml" "$work/plan_logit_plain"
config "$work/plan_lin.toml" "$work/planted.h5" "$work/plan_lin" linear '"protein"' '"isolation"' \
  "permutations = 10000" "max_t = true"
run "$work/plan_lin.toml" "$work/plan_lin"
config "$work/plan_lin_plain.toml" "$work/planted.h5" "$work/plan_lin_plain" linear '"protein"' '"isolation"'
run "$work/plan_lin_plain.toml" "$work/plan_lin_plain"

if (( ! speed_only )); then
echo "== 3. bootstrap coverage of the planted NPX shifts: protein ~ isolation + loneliness + covariates, untransformed"
{
  echo "cohort = \"$work/planted.h5\""; echo "out = \"$work/boot\""; echo "seed = 2026"
  for name in a bca; do
    echo "[[analysis]]"; echo "name = \"$name\""; echo 'model = "linear"'; echo 'outcome = "protein"'
    echo 'predictor = "isolation"'; echo "covariates = ${full%]}, \"loneliness\"]"
    echo 'categorical = ["centre", "olink_batch"]'; echo 'protein_transform = "none"'; echo "bootstrap = 1000"
  done
  echo 'bootstrap_ci = "bca"'; echo "split_half = 100"   # both belong to the last analysis, "bca"
} > "$work/boot.toml"
run "$work/boot.toml" "$work/boot"

echo "== 4. repeated simulations (5,000 x 200): ${sims} null cohorts (max-T family-wise error, P_PERM share) and"
echo "   $((sims / 2)) planted cohorts (bootstrap coverage); independent cohorts, unlike correlated proteins"
bash bench/resampling_repeated.sh "$pwas" "$work/repeated" "$sims" $((sims / 2))
fi

python3 bench/resampling_report.py "$work" "bench/results/resampling_$(date +%Y%m%d).json"
