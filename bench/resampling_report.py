#!/usr/bin/env python3
"""Report of bench/resampling_validation.sh: reads its work folder, prints the figures the resampling issue asks
for and writes them as JSON.  Usage: resampling_report.py WORK OUT.json"""
import csv
import json
import math
import re
import sys


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(x):
    return float("nan") if x in ("NA", "") else float(x)


def pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    return sab / math.sqrt(saa * sbb)


def log_figures(folder):
    text = open(f"{folder}/run.log").read()
    m = re.search(r"spent ([0-9.]+) s on replicates \(([0-9.]+) GFLOP of products, ([0-9.]+) GFLOP/s\)", text)
    done = re.search(r"done in ([0-9.]+) s", text)
    fit = re.search(r"rank 0 read ([0-9.]+) s, fit ([0-9.]+) s", text)
    out = {"total_s": float(done.group(1)) if done else None}
    if m:
        out.update(replicate_s=float(m.group(1)), gflop=float(m.group(2)), gflops=float(m.group(3)))
    if fit:
        out.update(read_s=float(fit.group(1)), fit_s=float(fit.group(2)))
    try:
        t = open(f"{folder}.time").read().split()
        out.update(wall_s=float(t[0]), max_rss_kb=int(t[2]))
    except (OSError, IndexError, ValueError):
        pass
    return out


def calibration(path):
    r = [x for x in rows(path) if x["ERRCODE"] == "OK"]
    n = len(r)
    frac = sum(num(x["P_PERM"]) <= 0.05 for x in r) / n
    frac_p = sum(num(x["P"]) <= 0.05 for x in r) / n
    half = 2.5758 * math.sqrt(0.05 * 0.95 / n)
    return {"tests": n, "frac_pperm_le_0.05": frac, "frac_p_le_0.05": frac_p,
            "binomial_99_interval": [0.05 - half, 0.05 + half], "inside": 0.05 - half <= frac <= 0.05 + half,
            "min_p_maxt": min(num(x["P_MAXT"]) for x in r)}


def agreement(path):
    r = [x for x in rows(path) if x["ERRCODE"] == "OK"]
    b = max(int(num(x["N_PERM"])) for x in r)
    resolvable = [x for x in r if num(x["P"]) >= 10.0 / b]
    lp = [-math.log10(num(x["P"])) for x in resolvable]
    lq = [-math.log10(num(x["P_PERM"])) for x in resolvable]
    hits = [x for x in r if num(x["P"]) < 1.0 / b]
    return {"permutations": b, "rows_with_P_ge_10_over_B": len(resolvable),
            "corr_log10_pperm_log10_p": pearson(lp, lq),
            "rows_with_P_below_1_over_B": len(hits),
            "of_those_at_the_floor": sum(num(x["P_PERM"]) <= 1.5 / (b + 1) for x in hits)}


def coverage(work, name):
    truth = {t["symbol"]: t for t in rows(f"{work}/planted/truth.tsv")}
    r = [x for x in rows(f"{work}/boot/{name}.tsv") if x["ERRCODE"] == "OK"]
    out = {}
    for label, keep in (("all_non_mnar", lambda t: t["mnar"] == "0"),
                        ("planted_non_mnar", lambda t: t["mnar"] == "0" and t["planted_isolation"] == "1")):
        sel = [x for x in r if keep(truth[x["PROTEIN"]])]
        g = [float(truth[x["PROTEIN"]]["gamma_isolation"]) for x in sel]
        boot = sum(num(x["BOOT_L95"]) <= v <= num(x["BOOT_U95"]) for x, v in zip(sel, g)) / len(sel)
        wald = sum(num(x["EFFECT_L95"]) <= v <= num(x["EFFECT_U95"]) for x, v in zip(sel, g)) / len(sel)
        out[label] = {"proteins": len(sel), "bootstrap_coverage": boot, "t_interval_coverage": wald,
                      "binomial_sd": math.sqrt(0.95 * 0.05 / len(sel))}
    return out


def module0_calibration(work):
    """Share of P_PERM <= 0.05 among the proteins outside co-expression modules (independent tests) of the null
    cohort: the within-cohort calibration that correlated module proteins cannot give."""
    truth = {t["symbol"]: t for t in rows(f"{work}/null/truth.tsv")}
    out = {}
    for name in ("null_lin", "null_logit"):
        r = [x for x in rows(f"{work}/{name}/a.tsv") if x["ERRCODE"] == "OK" and truth[x["PROTEIN"]]["module"] == "0"]
        n = len(r)
        half = 2.5758 * math.sqrt(0.05 * 0.95 / n)
        frac = sum(num(x["P_PERM"]) <= 0.05 for x in r) / n
        out[name] = {"tests": n, "frac_pperm_le_0.05": frac, "frac_p_le_0.05": sum(num(x["P"]) <= 0.05 for x in r) / n,
                     "binomial_99_interval": [0.05 - half, 0.05 + half], "inside": 0.05 - half <= frac <= 0.05 + half}
    return out


def repeated(folder):
    """bench/resampling_repeated.sh: family-wise error and P_PERM share over null cohorts, coverage over planted ones."""
    out = {}
    null = [l.split() for l in open(f"{folder}/null.txt") if l.strip()]
    if null:
        k = sum(float(x[0]) <= 0.05 for x in null)
        tests = sum(int(x[1]) for x in null)
        fr = [int(x[2]) / int(x[1]) for x in null]
        m = sum(fr) / len(fr)
        sd = math.sqrt(sum((f - m) ** 2 for f in fr) / (len(fr) - 1))
        out["fwer"] = {"null_cohorts": len(null), "cohorts_with_any_p_maxt_le_0.05": k, "fwer": k / len(null),
                       "binomial_sd_at_0.05": math.sqrt(0.05 * 0.95 / len(null))}
        out["null_cohorts_pperm"] = {"tests": tests, "pooled_frac_pperm_le_0.05": sum(int(x[2]) for x in null) / tests,
                                     "pooled_frac_p_le_0.05": sum(int(x[3]) for x in null) / tests,
                                     "between_cohort_sd_of_the_share": sd,
                                     "binomial_sd_if_independent": math.sqrt(0.05 * 0.95 / int(null[0][1]))}
    planted = [l.split() for l in open(f"{folder}/planted.txt") if l.strip()]
    for name in ("a", "bca"):
        for label, keep in (("planted", "1"), ("not_planted", "0")):
            s = [x for x in planted if x[0] == name and x[1] == keep]
            if s:
                out[f"coverage_{'percentile' if name == 'a' else 'bca'}_{label}"] = {
                    "intervals": len(s), "bootstrap": sum(int(x[2]) for x in s) / len(s),
                    "t_interval": sum(int(x[3]) for x in s) / len(s), "binomial_sd": math.sqrt(0.0475 / len(s))}
    return out


def main():
    work, out_json = sys.argv[1], sys.argv[2]
    rep = {}
    try:
        for line in open(f"{work}/ceilings.csv"):
            metric, threads, value, unit = line.strip().split(",")
            rep[f"{metric.split('_')[0]}_{threads}t_{unit.replace('/', 'per')}"] = float(value)
    except OSError:
        pass
    rep["null_logistic_1000"] = calibration(f"{work}/null_logit/a.tsv")
    rep["null_linear_10000"] = calibration(f"{work}/null_lin/a.tsv")
    rep["planted_logistic_1000"] = agreement(f"{work}/plan_logit/a.tsv")
    rep["planted_linear_10000"] = agreement(f"{work}/plan_lin/a.tsv")
    for k in ("null_logit", "null_lin", "plan_logit", "plan_logit_plain", "plan_lin", "plan_lin_plain", "boot"):
        rep[f"time_{k}"] = log_figures(f"{work}/{k}")
    rep["bootstrap_percentile"] = coverage(work, "a")
    rep["bootstrap_bca"] = coverage(work, "bca")
    m = re.search(r"split half .*", open(f"{work}/boot/run.log").read())
    rep["split_half"] = m.group(0) if m else None
    rep["null_module0"] = module0_calibration(work)
    rep.update(repeated(f"{work}/repeated"))
    gemm = rep.get("dgemm_2t_GFLOPpers")
    lin, log_ = rep["time_plan_lin"], rep["time_plan_logit"]
    if gemm and "gflops" in lin:
        rep["linear_10000_rate_vs_dgemm"] = lin["gflops"] / gemm
        rep["linear_10000_whole_run_rate_vs_dgemm"] = lin["gflop"] / lin["total_s"] / gemm
    if log_.get("total_s") and rep["time_plan_logit_plain"].get("total_s"):
        rep["logistic_1000_vs_plain_scan"] = log_["total_s"] / rep["time_plan_logit_plain"]["total_s"]
    json.dump(rep, open(out_json, "w"), indent=1)
    print(json.dumps(rep, indent=1))


if __name__ == "__main__":
    main()
