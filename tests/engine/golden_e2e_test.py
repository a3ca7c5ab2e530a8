#!/usr/bin/env python3
"""Exactness end to end: `pwas import` + `pwas run` on a small simulated cohort against R (tests/golden/e2e).

tests/golden/e2e/make_golden.R fits every protein the study's way with glm/lm (complete cases, RIN within them,
glm converged to epsilon 1e-14 with the SE from the information matrix at its estimate) and wrote expected.tsv,
and with coxph / cox.zph (Surv(time_gap_days, isolation), Efron) expected_cox.tsv.
Here pwas must match every row: OBS_CT, CASE_CT and EVENT_CT exactly, BETA and SE to a relative 1e-6, P (and Cox's
P_SCORE, P_LRT) to a relative 1e-6 or an absolute 1e-12, Cox's P_PH and P_PH_GLOBAL to a relative 1e-4, with
ERRCODE OK. Usage: golden_e2e_test.py PWAS GOLDEN_DIR WORK_DIR
"""
import os
import shutil
import subprocess
import sys

CONFIG = """cohort = "cohort.h5"
[[analysis]]
name = "logit"
model = "logistic"
outcome = ["isolation", "loneliness"]
covariates = ["age", "sex", "centre", "bmi", "smoking", "ethnicity", "pc1", "pc2"]
categorical = ["centre"]
protein_max_missing = 1.0
min_case_ct = 1
[[analysis]]
name = "prot_outcome"
model = "linear"
outcome = "protein"
predictor = "isolation"
covariates = ["age", "sex", "centre", "bmi", "smoking", "ethnicity", "pc1", "pc2"]
categorical = ["centre"]
protein_max_missing = 1.0
[[analysis]]
name = "marker"
model = "linear"
outcome = "time_gap_days"
predictor = "protein"
covariates = ["age", "sex", "centre", "bmi", "smoking", "ethnicity", "pc1", "pc2"]
categorical = ["centre"]
protein_max_missing = 1.0
[[analysis]]
name = "cox"
model = "cox"
outcome = { time = "time_gap_days", event = "isolation" }
covariates = ["age", "sex", "centre", "bmi", "smoking", "ethnicity", "pc1", "pc2"]
categorical = ["centre"]
protein_max_missing = 1.0
min_case_ct = 1
[[analysis]]
name = "cox_screen"
model = "cox"
outcome = { time = "time_gap_days", event = "isolation" }
covariates = ["age", "sex", "centre", "bmi", "smoking", "ethnicity", "pc1", "pc2"]
categorical = ["centre"]
protein_max_missing = 1.0
min_case_ct = 1
score_screen_p = 0.3
[[analysis]]
name = "cox_perm"
model = "cox"
outcome = { time = "time_gap_days", event = "isolation" }
covariates = ["age", "sex", "centre", "bmi", "smoking", "ethnicity", "pc1", "pc2"]
categorical = ["centre"]
protein_max_missing = 1.0
min_case_ct = 1
mediation_exposure = "bmi"
mediation_bootstrap = 50
"""


def read(path):
    lines = open(path).read().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, [c.strip() for c in l.split("\t")])) for l in lines[1:]]


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(a), abs(b))


def main():
    pwas, golden, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    subprocess.run([pwas, "import", "--participants", f"{golden}/participants.csv", "--olink",
                    f"{golden}/olink_wide.csv", "--out", f"{work}/cohort.h5"], check=True, stdout=subprocess.DEVNULL)
    with open(f"{work}/config.toml", "w") as f:
        f.write(CONFIG)
    subprocess.run([pwas, "run", f"{work}/config.toml", "--out", f"{work}/out", "--quiet"], check=True)
    got = {}
    for analysis in ("logit", "prot_outcome", "marker", "cox"):
        for r in read(f"{work}/out/{analysis}.tsv"):
            got[(analysis, r["OUTCOME"].lower(), r["PREDICTOR"].lower())] = r
    expected = read(f"{golden}/expected.tsv") + read(f"{golden}/expected_cox.tsv")
    tolerance = {"BETA": 1e-6, "SE": 1e-6, "P": 1e-6, "P_SCORE": 1e-6, "P_LRT": 1e-6, "P_PH": 1e-4, "P_PH_GLOBAL": 1e-4}
    bad, worst = [], {c: 0.0 for c in tolerance}
    for e in expected:
        key = (e["ANALYSIS"], e["OUTCOME"].lower(), e["PREDICTOR"].lower())
        g = got.get(key)
        if g is None:
            bad.append(f"{key}: no row")
            continue
        if g["ERRCODE"] != "OK":
            bad.append(f"{key}: ERRCODE {g['ERRCODE']}")
            continue
        if int(g["OBS_CT"]) != int(e["OBS_CT"]):
            bad.append(f"{key}: OBS_CT {g['OBS_CT']} vs R {e['OBS_CT']}")
        for count in ("CASE_CT", "EVENT_CT"):
            if e.get(count, "NA") != "NA" and int(g[count]) != int(e[count]):
                bad.append(f"{key}: {count} {g[count]} vs R {e[count]}")
        for col, tol in tolerance.items():
            if col not in e:
                continue
            a, b = float(g[col]), float(e[col])
            rel = abs(a - b) / max(abs(b), 1e-300)
            is_p = col.startswith("P")
            worst[col] = max(worst[col], rel if not (is_p and abs(a - b) <= 1e-12) else 0.0)
            ok = close(a, b, tol) or (is_p and abs(a - b) <= 1e-12)
            if not ok:
                bad.append(f"{key}: {col} {a!r} vs R {b!r} (relative {rel:.2e})")
    # The score screen: proteins whose screening P (score test from the null model) is >= 0.3 are SCREENED_OUT with
    # that P in P and P_SCORE; the others are the same fits as without the screen. The screen approximates the
    # exact score test (rows a protein lacks stay in the null's risk sets) and applies only to proteins missing at
    # most 5% of the rows, so proteins with R's P_SCORE < 0.2 pass.
    screened = {r["PREDICTOR"].lower(): r for r in read(f"{work}/out/cox_screen.tsv")}
    codes = {r["ERRCODE"] for r in screened.values()}
    if codes != {"OK", "SCREENED_OUT"}:
        bad.append(f"cox_screen: ERRCODEs {sorted(codes)}, expected OK and SCREENED_OUT")
    for e in expected:
        if e["ANALYSIS"] != "cox":
            continue
        prot = e["PREDICTOR"].lower()
        r, full = screened[prot], got[("cox", "isolation", prot)]
        if r["ERRCODE"] == "OK" and any(r[c] != full[c] for c in ("BETA", "SE", "P", "P_PH_GLOBAL")):
            bad.append(f"cox_screen {prot}: a fit that passed the screen differs from the unscreened fit")
        if r["ERRCODE"] == "SCREENED_OUT" and not (float(r["P"]) >= 0.3 and r["P"] == r["P_SCORE"] and r["BETA"] == "NA"):
            bad.append(f"cox_screen {prot}: SCREENED_OUT row with P {r['P']}, P_SCORE {r['P_SCORE']}, BETA {r['BETA']}")
        if float(e["P_SCORE"]) < 0.2 and r["ERRCODE"] != "OK":
            bad.append(f"cox_screen {prot}: R's score test P {e['P_SCORE']} but {r['ERRCODE']}")
    # Mediation: bmi's HR without and with the protein and PERM = (without - with) / (without - 1) x 100 against R's
    # two coxph fits on the protein's rows; the protein's own fit is the unmediated analysis' fit.
    perm = {r["PREDICTOR"].lower(): r for r in read(f"{work}/out/cox_perm.tsv")}
    for e in expected:
        if e["ANALYSIS"] != "cox":
            continue
        prot = e["PREDICTOR"].lower()
        r, full = perm[prot], got[("cox", "isolation", prot)]
        if any(r[c] != full[c] for c in ("BETA", "SE", "P", "P_PH_GLOBAL")):
            bad.append(f"cox_perm {prot}: the protein's fit differs from the cox analysis")
        for col in ("HR_EXPOSURE", "HR_EXPOSURE_ADJ", "PERM"):
            a, b = float(r[col]), float(e[col])
            rel = abs(a - b) / max(abs(b), 1e-300)
            worst[col] = max(worst.get(col, 0.0), rel)
            if not close(a, b, 1e-6):
                bad.append(f"cox_perm {prot}: {col} {a!r} vs R {b!r} (relative {rel:.2e})")
        # The bootstrap interval needs 20 replicates in which both fits exist; with 50 replicates that holds for
        # every protein with enough events (a replicate losing all events of its reference level has none).
        lo, hi = (float("nan") if r[c] == "NA" else float(r[c]) for c in ("PERM_L95", "PERM_U95"))
        if int(r["EVENT_CT"]) >= 50 and not lo < hi:
            bad.append(f"cox_perm {prot}: bootstrap interval {lo}..{hi}")
    print(f"{len(expected)} rows compared with R; max relative difference " +
          ", ".join(f"{c} {w:.2e}" for c, w in worst.items()))
    if bad:
        print("\n".join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
