#!/usr/bin/env python3
"""Report of one bench/study_pwas.sh run: reads the run folder, writes PREFIX.csv, PREFIX.json and PREFIX.svg (a
bar chart of wall times), prints tables.

    study_pwas_report.py RUN_DIR PREFIX

CSV columns: section,item,config,value,unit,note. Extrapolated figures say so in `note`.
"""
import csv
import math
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

run = Path(sys.argv[1])
prefix = Path(sys.argv[2])
rows = []


def add(section, item, config, value, unit, note=""):
    rows.append({"section": section, "item": item, "config": config, "value": value, "unit": unit, "note": note})


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def gnu_time(name):
    p = run / "times" / name
    if not p.exists():
        return None, None
    wall, rss = p.read_text().split()[:2]
    return float(wall), float(rss) / 1024


machine = dict(line.split("=", 1) for line in (run / "machine.txt").read_text().splitlines() if "=" in line)
for k, v in machine.items():
    add("machine", k, "", v, "")

# Load average: samples every 10 s during the timed part, and at the start of each phase.
samples = [float(l.split()[2]) for l in (run / "load.txt").read_text().splitlines() if l.split()[0] in ("start", "sample", "end")]
add("load", "load1_start", "", samples[0], "", "1-minute load average when the timed part started")
add("load", "load1_mean", "", round(statistics.mean(samples), 2), "",
    f"{len(samples)} samples, every 10 s, timed part; the benchmark itself keeps ~2 threads busy, so ~2.0 = no other load")
add("load", "load1_max", "", max(samples), "", "includes this benchmark's own 2 busy threads")
marks = {}
for l in (run / "marks.txt").read_text().splitlines():
    name, t, load1 = l.split()
    marks[name] = (float(t), float(load1))
for name, (t, load1) in marks.items():
    add("load", "load1_at_phase_start", name, load1, "")

# Ceilings.
ceil = {}
for when in ("before", "after"):
    p = run / f"ceilings_{when}.csv"
    for line in p.read_text().splitlines():
        metric, threads, value, unit = line.split(",")
        ceil[(metric.split("_")[0], int(threads), when)] = float(value)
        add("ceiling", metric, f"{threads} thread(s), {when}", float(value), unit)
dgemm2 = max(ceil[("dgemm", 2, "before")], ceil[("dgemm", 2, "after")])
dgemm1 = max(ceil[("dgemm", 1, "before")], ceil[("dgemm", 1, "after")])

# Preparation (untimed in the comparison).
for name in ("simulate", "import"):
    wall, rss = gnu_time(name)
    if wall is not None:
        when = "simulation cached, timed when first made" if name == "simulate" else "this run"
        add("prep", f"pwas {name}", "", wall, "s", f"peak RSS {rss:.0f} MB; {when}; not part of any ratio")

# pwas runs.
def pwas_run(folder):
    log = (folder / "run.log").read_text()
    fit = defaultdict(dict)
    for m in re.finditer(r"analysis (\S+): rank (\d+) read ([\d.]+) s, fit ([\d.]+) s", log):
        fit[m.group(1)][int(m.group(2))] = (float(m.group(3)), float(m.group(4)))
    design = {}
    for m in re.finditer(r"analysis (\S+) \[(\S+) ~ (\S+)\]: design (\d+) rows x (\d+) columns", log):
        design[(m.group(1), m.group(2) if m.group(2) != "protein" else m.group(3))] = (int(m.group(4)), int(m.group(5)))
    tables = {p.stem: read_tsv(p) for p in folder.glob("*.tsv")}
    return fit, design, tables


fits_per_analysis = {}
logistic = {}
for cfg, label in (("1x2", "1 rank x 2 threads"), ("2x1", "2 ranks x 1 thread")):
    fit, design, tables = pwas_run(run / f"pwas-{cfg}")
    wall, rss = gnu_time(f"pwas_{cfg}")
    nfit = sum(len(t) for t in tables.values())
    ok = sum(1 for t in tables.values() for r in t if r["ERRCODE"] == "OK")
    logistic[cfg] = {"wall": wall, "fit": fit, "design": design, "tables": tables, "fits": nfit}
    for a, t in tables.items():
        fits_per_analysis[a] = len(t)
    add("pwas", "study PWAS wall (logistic, 2 exposures x 2 models)", label, wall, "s",
        f"{nfit} fits ({ok} OK); simulate/import excluded; peak RSS {rss:.0f} MB per process")
    add("pwas", "study PWAS throughput", label, round(nfit / wall, 1), "fits/s", "fits / wall")
    for a, ranks in sorted(fit.items()):
        for r, (read_s, fit_s) in sorted(ranks.items()):
            add("pwas", f"fit phase {a}", f"{label}, rank {r}", fit_s, "s", f"read {read_s:.2f} s (run.log)")
linear = {}
for cfg, label in (("1x2", "1 rank x 2 threads"), ("2x1", "2 ranks x 1 thread")):
    fit, design, tables = pwas_run(run / f"pwas-linear-{cfg}")
    wall, rss = gnu_time(f"pwas_linear_{cfg}")
    nfit = sum(len(t) for t in tables.values())
    linear[cfg] = {"wall": wall, "fits": nfit}
    fits_per_analysis["linear"] = nfit
    add("pwas", "linear protein ~ isolation + full covariates wall", label, wall, "s", f"{nfit} fits")
    add("pwas", "linear throughput", label, round(nfit / wall, 1), "fits/s", "fits / wall")
add("check", "pwas results 1x2 vs 2x1", "", (run / "ranks_check.txt").read_text().strip(), "", "byte-wise TSV comparison")

# R glm / lm loops: per-fit seconds from the two concurrent processes (one per core).
def r_loops(mode):
    per = defaultdict(lambda: [0.0, 0])
    fits = []
    for p in ("a", "b"):
        f = run / f"r_{mode}_{p}.timing.tsv"
        if not f.exists():
            continue
        for r in read_tsv(f):
            if r["step"].startswith("loop_") or (mode == "lm" and r["step"] == "loop"):
                key = r["step"].split("_")[1] if mode == "glm" else "linear"
                per[key][0] += float(r["seconds"])
                per[key][1] += int(r["fits"])
        fits += read_tsv(run / f"r_{mode}_{p}.fits.tsv")
    return per, fits


r_sample = int(machine["r_sample"])
glm_per, glm_fits = r_loops("glm")
r_glm_1core = 0.0
for a, (sec, nf) in sorted(glm_per.items()):
    add("R", f"glm per fit ({a} model)", "2 R processes at once, 1 per core", round(sec / nf, 4), "s/fit",
        f"measured: {nf} fits ({r_sample} proteins x 2 exposures x 2 processes), loop only (data load excluded)")
    r_glm_1core += sec / nf * fits_per_analysis[a]
add("R", "glm full scan, extrapolated", "1 core", round(r_glm_1core, 1), "s",
    f"EXTRAPOLATED: per-fit time x {fits_per_analysis['simple'] + fits_per_analysis['full']} fits")
add("R", "glm full scan, extrapolated", "2 cores (2 R processes)", round(r_glm_1core / 2, 1), "s",
    "EXTRAPOLATED: the 1-core figure / 2 (the per-fit times were measured with both cores busy)")
lm_per, lm_fits = r_loops("lm")
sec, nf = lm_per["linear"]
r_lm_fit = sec / nf
r_lm_1core = r_lm_fit * fits_per_analysis["linear"]
add("R", "lm per fit (linear direction)", "2 R processes at once, 1 per core", round(r_lm_fit, 5), "s/fit",
    f"measured: {nf} fits, loop only")
add("R", "lm full scan, extrapolated", "1 core", round(r_lm_1core, 1), "s", f"EXTRAPOLATED: x {fits_per_analysis['linear']} fits")
add("R", "lm full scan, extrapolated", "2 cores (2 R processes)", round(r_lm_1core / 2, 1), "s", "EXTRAPOLATED: / 2")
for p in ("a", "b"):
    for mode in ("glm", "lm"):
        wall, rss = gnu_time(f"r_{mode}_{p}")
        if wall is not None:
            add("R", f"{mode} process {p} wall", "1 core", wall, "s",
                f"measured, whole Rscript incl. data load{' and the untimed warm-start refits' if mode == 'glm' else ''}; peak RSS {rss:.0f} MB")

# Iterations pwas needs, estimated by R from pwas's start and tolerance (pwas does not report them).
pwas_status = {}
for a, t in logistic["1x2"]["tables"].items():
    for r in t:
        pwas_status[(a, r["OUTCOME"], r["PROTEIN"])] = r["ERRCODE"]
iters = defaultdict(list)
for r in glm_fits:
    if r["iter_warm"] not in ("NA", "") and pwas_status.get((r["analysis"], r["outcome"], r["protein"])) == "OK":
        iters[r["analysis"]].append(float(r["iter_warm"]))
flops = 0.0
p_of = {}
for a in ("simple", "full"):
    it = statistics.mean(iters[a]) if iters[a] else 5.0
    add("derived", f"IRLS iterations per fit ({a})", "", round(it, 2), "iterations",
        f"ESTIMATED: mean of {len(iters[a])} R glm refits from pwas's start (covariates-only fit, 0 for the protein) "
        "with pwas's tolerance 1e-12" if iters[a] else "ASSUMED: 5")
    p = next(c for (aa, _), (_, c) in logistic["1x2"]["design"].items() if aa == a) + 1
    p_of[a] = p
    add("derived", f"design columns p ({a})", "", p, "columns", "run.log design columns + the protein")
    for r in logistic["1x2"]["tables"][a]:
        if r["ERRCODE"] == "OK":
            flops += it * float(r["OBS_CT"]) * p * p
fit_1x2 = sum(ranks[0][1] for ranks in logistic["1x2"]["fit"].values())
fit_2x1 = sum(max(f for _, f in ranks.values()) for ranks in logistic["2x1"]["fit"].values())
sweeps = sum(float(r["OBS_CT"]) * p_of[a] ** 2 for a in ("simple", "full")
             for r in logistic["1x2"]["tables"][a] if r["ERRCODE"] == "OK")
add("derived", "logistic flops, Newton-equivalent, whole study PWAS", "", round(flops / 1e9, 1), "GFLOP",
    "model: Newton iterations x OBS_CT x p^2 per OK fit (one X'WX Gram per IRLS iteration; score and solves not "
    "counted). pwas's chord iteration (fixed Hessian, level-coded dummies) does less work than this")
add("derived", "logistic flops, one X'WX sweep per fit", "", round(sweeps / 1e9, 1), "GFLOP",
    "model: OBS_CT x p^2 per OK fit (one dense information pass at the estimate)")
for cfg, fit_s in (("1x2", fit_1x2), ("2x1", fit_2x1)):
    g = flops / fit_s / 1e9
    add("derived", "logistic Newton-equivalent rate", cfg, round(g, 1), "GFLOP/s",
        f"Newton-equivalent flops / fit-phase seconds ({fit_s:.2f} s, run.log; slowest rank for 2x1); "
        "not hardware utilisation when pwas does fewer flops")
    add("derived", "logistic Newton-equivalent rate / DGEMM 2 threads", cfg, round(g / dgemm2, 3), "fraction",
        f"DGEMM 2 threads {dgemm2:.1f} GFLOP/s")
    add("derived", "logistic one-sweep rate / DGEMM 2 threads", cfg, round(sweeps / fit_s / 1e9 / dgemm2, 3), "fraction",
        f"{sweeps / fit_s / 1e9:.1f} GFLOP/s of one-sweep-per-fit work")

# limma.
if (run / "limma.timing.tsv").exists():
    lt = {r["step"]: float(r["seconds"]) for r in read_tsv(run / "limma.timing.tsv")}
    wall, rss = gnu_time("limma")
    add("limma", "lmFit, every protein", "1 R process", lt["lmFit"], "s", f"measured, whole; {fits_per_analysis['linear']} proteins")
    add("limma", "RIN of every protein before lmFit", "1 R process", lt["rin"], "s", "measured")
    add("limma", "Rscript wall", "1 R process", wall, "s", f"incl. data load {lt['load']:.1f} s; peak RSS {rss:.0f} MB")

# PLINK 2.
plink_log = 0.0
have_plink = (run / "times" / "plink_linear").exists()
if have_plink:
    for tag in ("simple_isolation", "simple_loneliness", "full_isolation", "full_loneliness"):
        wall, rss = gnu_time(f"plink_{tag}")
        plink_log += wall
        add("PLINK2", f"--glm logistic {tag}", "--threads 2", wall, "s", f"measured; peak RSS {rss:.0f} MB")
    add("PLINK2", "--glm logistic, the 4 scans", "--threads 2", round(plink_log, 2), "s", "sum of the 4 runs")
    plink_lin, rss = gnu_time("plink_linear")
    add("PLINK2", "--glm linear (proteins as phenotypes)", "--threads 2", plink_lin, "s", f"measured; peak RSS {rss:.0f} MB")

# Ratios (peer time / pwas time; both on this machine's 2 cores unless said).
best_log = min(logistic["1x2"]["wall"], logistic["2x1"]["wall"])
best_log_cfg = "1x2" if logistic["1x2"]["wall"] <= logistic["2x1"]["wall"] else "2x1"
best_lin = min(linear["1x2"]["wall"], linear["2x1"]["wall"])
best_lin_cfg = "1x2" if linear["1x2"]["wall"] <= linear["2x1"]["wall"] else "2x1"
ratios = []


def ratio(name, peer_s, pwas_s, target, note):
    r = peer_s / pwas_s
    ratios.append((name, peer_s, pwas_s, r, target, note))
    add("ratio", name, "", round(r, 1), "x", f"{note}; target {target}" if target else note)


# The targets compare with R's loop as a user runs it, one R process over the proteins: its own figure for
# glm is "~0.34 s per fit, so the whole scan takes close to an hour in R". The rows "on 2 cores" give R both cores
# (two processes, each half the proteins): a stricter comparison, shown beside it.
ratio("pwas vs R glm loop (one R process)", r_glm_1core, best_log, ">= 50",
      f"R EXTRAPOLATED, one process (loop only; per-fit times measured with 2 R processes at once) / pwas wall "
      f"{best_log_cfg} (whole run incl. read + write)")
ratio("pwas vs R glm loop on 2 cores", r_glm_1core / 2, best_log, "",
      f"stricter: R EXTRAPOLATED on 2 cores (2 processes, loop only) / pwas wall {best_log_cfg}")
pwas_core_s_per_fit = fit_1x2 * 2 / logistic["1x2"]["fits"]
ratio("R glm per fit / pwas per fit (core-seconds)", r_glm_1core / logistic["1x2"]["fits"], pwas_core_s_per_fit, "",
      "kernel-level: R loop s per fit vs pwas fit-phase core-s per fit (1x2)")
ratio("pwas linear vs R lm loop (one R process)", r_lm_1core, best_lin, ">= 200",
      f"R EXTRAPOLATED, one process (loop only; per-fit times measured with 2 R processes at once) / pwas linear "
      f"wall {best_lin_cfg}")
ratio("pwas linear vs R lm loop on 2 cores", r_lm_1core / 2, best_lin, "",
      f"stricter: R EXTRAPOLATED on 2 cores (2 processes, loop only) / pwas linear wall {best_lin_cfg}")
if (run / "limma.timing.tsv").exists():
    ratio("pwas linear vs limma lmFit", lt["lmFit"], best_lin, "", f"limma lmFit alone, 1 core, measured / pwas linear wall {best_lin_cfg}")
    ratio("pwas linear vs limma RIN + lmFit", lt["lmFit"] + lt["rin"], best_lin, "", "limma's RIN + lmFit, 1 core")
if have_plink:
    ratio("pwas vs PLINK 2 logistic", plink_log, best_log, "", f"4 PLINK --glm runs (2 threads) / pwas wall {best_log_cfg}")
    ratio("pwas linear vs PLINK 2 linear", plink_lin, best_lin, "", f"PLINK --glm, proteins as phenotypes / pwas linear wall {best_lin_cfg}")

# Cross-check of estimates.
compare = list(csv.DictReader(open(run / "compare.csv")))
for c in compare:
    add("check", f"{c['peer']} vs pwas ({c['analysis']})", "", c["max_rel_beta"], "max rel BETA diff",
        f"compared {c['compared']} of {c['fits']}; max rel SE {c['max_rel_se']}; max |dBETA|/SE {c['max_dbeta_over_se']}; "
        f"status mismatches {c['status_mismatch']} {c['mismatches']}; OBS_CT mismatches {c['obs_ct_mismatch']}")

# Write.
with open(f"{prefix}.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["section", "item", "config", "value", "unit", "note"])
    w.writeheader()
    w.writerows(rows)
with open(f"{prefix}.json", "w") as f:
    json.dump({"machine": machine, "rows": rows, "compare": compare,
               "ratios": [dict(zip(("name", "peer_s", "pwas_s", "ratio", "target", "note"), r)) for r in ratios]}, f, indent=1)


def bars_svg(groups):
    """Horizontal bars, log10 seconds: groups = [(title, [(label, seconds, extrapolated)])]."""
    vals = [v for _, bars in groups for _, v, _ in bars]
    lo, hi = 10 ** int(math.floor(math.log10(min(vals)))), max(vals) * 1.5
    log = math.log10
    x0, w, bh = 330, 420, 18
    y = 40
    out = []
    for title, bars in groups:
        out.append(f'<text x="10" y="{y}" font-weight="bold">{title}</text>')
        y += 8
        for label, v, extrap in bars:
            bw = w * (log(v) - log(lo)) / (log(hi) - log(lo))
            fill = "#bbbbbb" if extrap else ("#1f77b4" if label.startswith("pwas") else "#ff7f0e")
            out.append(f'<text x="{x0 - 6}" y="{y + 13}" text-anchor="end">{label}</text>')
            out.append(f'<rect x="{x0}" y="{y}" width="{bw:.1f}" height="{bh}" fill="{fill}"/>')
            out.append(f'<text x="{x0 + bw + 4:.1f}" y="{y + 13}">{v:.3g} s{" (extrapolated)" if extrap else ""}</text>')
            y += bh + 4
        y += 22
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{y + 10}" font-family="sans-serif" font-size="12">'
            f'<text x="10" y="18">Study PWAS, {machine["n"]} x {machine["proteins"]}, {machine["cores"]} cores '
            f'({machine["cpu"]}); wall seconds, log scale; grey = extrapolated from a sample</text>')
    return head + "".join(out) + "</svg>\n"


log_bars = [("pwas 1 rank x 2 threads", logistic["1x2"]["wall"], False), ("pwas 2 ranks x 1 thread", logistic["2x1"]["wall"], False),
            ("R glm loop, 2 processes", r_glm_1core / 2, True)]
lin_bars = [("pwas 1 rank x 2 threads", linear["1x2"]["wall"], False), ("pwas 2 ranks x 1 thread", linear["2x1"]["wall"], False),
            ("R lm loop, 2 processes", r_lm_1core / 2, True)]
if have_plink:
    log_bars.append(("PLINK 2 --glm, 4 runs, 2 threads", plink_log, False))
    lin_bars.append(("PLINK 2 --glm, 2 threads", plink_lin, False))
if (run / "limma.timing.tsv").exists():
    lin_bars.append(("limma lmFit, 1 process", lt["lmFit"], False))
Path(f"{prefix}.svg").write_text(bars_svg([("Logistic: exposure ~ RIN(protein) + covariates, 2 exposures x 2 models", log_bars),
                                           ("Linear: RIN(protein) ~ isolation + full covariates", lin_bars)]))


def fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"
    return str(v)


print(f"\n# {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; cohort {machine['n']} x {machine['proteins']}; "
      f"load1 mean {statistics.mean(samples):.2f} max {max(samples):.2f}")
width = max(len(r["item"]) + len(r["config"]) for r in rows if r["section"] not in ("machine", "check")) + 3
for r in rows:
    if r["section"] in ("machine", "check", "ratio") or r["item"] == "load1_at_phase_start":
        continue
    label = f"{r['item']} [{r['config']}]" if r["config"] else r["item"]
    print(f"{r['section']:8} {label:<{width}} {fmt(r['value']):>10} {r['unit']:<10} {r['note']}")
print("\n# ratios (peer time / pwas time)")
for name, peer_s, pwas_s, r, target, note in ratios:
    print(f"{name:<46} {peer_s:>10.2f} s / {pwas_s:>8.3f} s = {r:>8.1f}x  {('target ' + target) if target else '':<10} {note}")
print("\n# BETA/SE cross-check (fits where both are OK)")
print(f"{'peer':<16} {'analysis':<8} {'cmp':>5} {'max rel BETA':>13} {'max rel SE':>11} {'max dB/SE':>10} {'status mism.':>12}")
for c in compare:
    print(f"{c['peer']:<16} {c['analysis']:<8} {c['compared']:>5} {num(c['max_rel_beta']):>13.2e} {num(c['max_rel_se']):>11.2e} "
          f"{num(c['max_dbeta_over_se']):>10.2e} {c['status_mismatch']:>12} {c['mismatches']}")
print(f"\nwrote {prefix}.csv, {prefix}.json and {prefix}.svg (run folder {run})")
