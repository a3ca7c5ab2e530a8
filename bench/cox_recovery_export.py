#!/usr/bin/env python3
"""Exports what bench/cox_recovery.R needs from a simulated cohort: every participant column and the protein
columns planted for any survival outcome, plus N_NULL proteins planted for nothing (a false-hit check).
Usage: cox_recovery_export.py COHORT.h5 TRUTH.tsv OUT.csv NULLS.txt [N_NULL=40]   (needs h5py)"""
import csv
import sys

import h5py
import numpy as np

OUTCOMES = ["cvd", "t2d", "stroke", "dementia", "depression", "death"]


def main():
    cohort, truth_path, out_csv, nulls_txt = sys.argv[1:5]
    n_null = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    truth = list(csv.DictReader(open(truth_path), delimiter="\t"))
    planted = {t["symbol"] for t in truth for o in OUTCOMES if t["planted_" + o] == "1"}
    candidates = [t["symbol"] for t in truth if t["symbol"] not in planted and t["qc_drop"] == "0"
                  and t["planted_isolation"] == "0" and t["planted_loneliness"] == "0"]
    nulls = list(np.random.default_rng(1).choice(candidates, min(n_null, len(candidates)), replace=False))
    with h5py.File(cohort, "r") as f:
        names = list(f["proteins/name"].asstr()[:])
        index = sorted(names.index(p) for p in planted | set(nulls))
        npx = f["proteins/npx"][:, index]
        columns = list(f["participants"].attrs["columns"])
        data = []
        for c in columns:
            d = f["participants/" + c]
            if d.attrs["kind"] == "categorical":
                levels = list(d.attrs["levels"])
                data.append([levels[x] if x >= 0 else "NA" for x in d[:]])
            else:   # numeric, and dates as days since 1970-01-01
                data.append(["NA" if np.isnan(x) else repr(float(x)) for x in d[:]])
    with open(out_csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns + [names[i] for i in index])
        for i in range(npx.shape[0]):
            w.writerow([col[i] for col in data] + ["NA" if np.isnan(x) else "%.4f" % x for x in npx[i]])
    with open(nulls_txt, "w") as fh:
        fh.write("\n".join(nulls) + "\n")
    print(f"{len(index)} proteins ({len(planted)} planted, {len(nulls)} null) x {npx.shape[0]} samples -> {out_csv}")


if __name__ == "__main__":
    main()
