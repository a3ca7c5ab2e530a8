#!/usr/bin/env bash
# Resampling results do not depend on the decomposition: permutation p-values, max-T, Besag–Clifford stopping and
# bootstrap intervals are byte-identical for 1 and 3 ranks (and 1 or 2 threads), with several blocks per rank, and
# the permutation p-values are computed against the observed statistic (checked against their definition here).
# Usage: resampling_test.sh PWAS MPIEXEC WORKDIR
set -euo pipefail
pwas=$1 mpiexec=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

"$pwas" simulate --out "$work/sim" --n 2000 --proteins 60 --seed 21 --cohort "$work/cohort.h5" --no-olink-text >/dev/null
cat > "$work/config.toml" <<'TOML'
cohort = "cohort.h5"
seed = 99
resample_block_proteins = 7
[[analysis]]
name = "lin"
model = "linear"
outcome = "protein"
predictor = "isolation"
covariates = ["age", "sex", "centre", "bmi", "smoking"]
categorical = ["centre"]
permutations = 300
max_t = true
bootstrap = 200
[[analysis]]
name = "logit"
model = "logistic"
outcome = ["isolation", "loneliness"]
covariates = ["age", "sex", "bmi", "smoking"]
permutations = 300
max_t = true
bootstrap = 100
bootstrap_ci = "bca"
[[analysis]]
name = "stop"
model = "logistic"
outcome = "isolation"
covariates = ["age", "sex"]
permutations = 2000
permutation_stop = 15
TOML

reference=""
for cell in 1x1 3x1 1x2 3x2; do
  ranks=${cell%x*} threads=${cell#*x}
  out="$work/out_$cell"
  "$mpiexec" -n "$ranks" --bind-to none "$pwas" run "$work/config.toml" --out "$out" --threads "$threads" --quiet
  if [[ -z "$reference" ]]; then reference=$out; continue; fi
  for f in lin.tsv logit.tsv stop.tsv results.h5; do
    cmp -s "$reference/$f" "$out/$f" || { echo "FAIL: $f differs between $(basename "$reference") and $cell" >&2; exit 1; }
  done
  echo "ok: $cell byte-identical to $(basename "$reference")"
done
grep -q "resampling with seed 99" "$reference/run.log" || { echo "FAIL: the run log does not record the seed" >&2; exit 1; }
python3 - "$reference" <<'PY'
import csv, sys
out = sys.argv[1]
def rows(name):
    return list(csv.DictReader(open(f"{out}/{name}.tsv"), delimiter="\t"))
for name, b in (("lin", 300), ("logit", 300)):
    r = [x for x in rows(name) if x["ERRCODE"] == "OK"]
    assert r, name
    for x in r:
        p, pm, n = float(x["P_PERM"]), float(x["P_MAXT"]), int(float(x["N_PERM"]))
        assert n == b, (name, n)
        # (1 + exceedances) / (B + 1): a multiple of 1 / (B + 1) in (0, 1]; max-T never below the marginal p.
        k = p * (b + 1)
        assert abs(k - round(k)) < 1e-6 and 1 <= round(k) <= b + 1, (name, p)
        assert pm >= p - 1e-12, (name, p, pm)
        lo, hi, beta = float(x["BOOT_L95"]), float(x["BOOT_U95"]), float(x["BETA"])
        assert lo < beta < hi, (name, lo, beta, hi)
        # The permutation statistic is the model's own t (linear: partial correlation on the kept rows, up to the
        # all-rows residualisation of the exposure) or the score z that goes with the Wald z (logistic).
        t, stat = float(x["T_PERM"]), float(x["STAT"])
        tol = 0.005 if name == "lin" else 0.05
        assert abs(t - stat) < tol * max(1.0, abs(stat)), (name, t, stat)
s = rows("stop")
stopped = [x for x in s if int(float(x["N_PERM"])) < 2000]
assert stopped, "no protein stopped early"
for x in stopped:
    n = int(float(x["N_PERM"]))
    assert n % 512 == 0, n                      # stops are decided after rounds of 512 permutations
    assert float(x["P_PERM"]) >= 15 / n - 1e-12  # Besag-Clifford: h / n with h >= 15 exceedances
print(f"ok: p-values well formed; {len(stopped)} of {len(s)} proteins stopped early")
PY
