#!/usr/bin/env bash
# Repeated small simulations for the resampling checks that one cohort cannot make: proteins share co-expression
# module factors, so within one cohort their tests are correlated and a proportion over proteins is far noisier
# than binomial. Independent cohorts are independent replicates.
#   null cohorts:    family-wise error of max-T (any P_MAXT <= 0.05) and the share of P_PERM <= 0.05, per cohort
#   planted cohorts: coverage of the planted NPX shifts by the bootstrap intervals (percentile and BCa)
# Usage: resampling_repeated.sh PWAS WORK [NULL_SIMS=200] [PLANTED_SIMS=100] [N=5000] [PROTEINS=200]
set -euo pipefail
pwas=$1 work=$2 null_sims=${3:-200} planted_sims=${4:-100} n=${5:-5000} proteins=${6:-200}
threads=$(nproc)
full='["age", "sex", "centre", "olink_batch", "time_gap_days", "pc1", "pc2", "pc3", "pc4", "pc5", "ethnicity",
       "education", "income", "smoking", "alcohol", "bmi"'
mkdir -p "$work"

# run_sim KIND SEED EXTRA...: simulate one cohort, run one analysis on it, print one summary line, clean up.
run_sim() {
  local kind=$1 seed=$2 d="$work/$1_$2"; shift 2
  local flag=""; [[ $kind == null ]] && flag="--null"
  "$pwas" simulate --out "$d" --n "$n" --proteins "$proteins" --seed "$seed" $flag --cohort "$d.h5" --no-olink-text \
    --force >/dev/null
  {
    echo "cohort = \"$d.h5\""; echo "out = \"$d.out\""; echo "seed = $seed"
    echo "[[analysis]]"; echo 'name = "a"'; echo 'model = "linear"'; echo 'outcome = "protein"'
    echo 'predictor = "isolation"'; echo 'categorical = ["centre", "olink_batch"]'
    for line in "$@"; do echo "$line"; done
  } > "$d.toml"
  "$pwas" run "$d.toml" --force --quiet --threads "$threads"
  python3 - "$kind" "$d" <<'PY'
import csv, sys
kind, d = sys.argv[1], sys.argv[2]
rows = [x for x in csv.DictReader(open(f"{d}.out/a.tsv"), delimiter="\t") if x["ERRCODE"] == "OK"]
if kind == "null":
    print(min(float(x["P_MAXT"]) for x in rows), len(rows), sum(float(x["P_PERM"]) <= 0.05 for x in rows),
          sum(float(x["P"]) <= 0.05 for x in rows))
else:
    truth = {t["symbol"]: t for t in csv.DictReader(open(f"{d}/truth.tsv"), delimiter="\t")}
    for name in ("a", "bca"):
        r = [x for x in csv.DictReader(open(f"{d}.out/{name}.tsv"), delimiter="\t") if x["ERRCODE"] == "OK"]
        for x in r:
            t = truth[x["PROTEIN"]]
            if t["mnar"] != "0":
                continue
            g = float(t["gamma_isolation"])
            print(name, t["planted_isolation"], int(float(x["BOOT_L95"]) <= g <= float(x["BOOT_U95"])),
                  int(float(x["EFFECT_L95"]) <= g <= float(x["EFFECT_U95"])))
PY
  rm -rf "$d" "$d.h5" "$d.out" "$d.toml"
}

: > "$work/null.txt"
for s in $(seq 1 "$null_sims"); do
  run_sim null $((1000 + s)) "covariates = $full]" "permutations = 1000" "max_t = true" >> "$work/null.txt"
done
: > "$work/planted.txt"
for s in $(seq 1 "$planted_sims"); do
  run_sim planted $((5000 + s)) "covariates = $full, \"loneliness\"]" 'protein_transform = "none"' "bootstrap = 1000" \
    '[[analysis]]' 'name = "bca"' 'model = "linear"' 'outcome = "protein"' 'predictor = "isolation"' \
    'categorical = ["centre", "olink_batch"]' "covariates = $full, \"loneliness\"]" 'protein_transform = "none"' \
    "bootstrap = 1000" 'bootstrap_ci = "bca"' >> "$work/planted.txt"
done
