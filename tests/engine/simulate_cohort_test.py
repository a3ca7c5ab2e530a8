#!/usr/bin/env python3
"""`pwas simulate --cohort` writes exactly the cohort `pwas import --missing-codes -1,-3` makes of the simulated
delivery files: same samples, protein matrix (bit for bit), participant columns, levels, names and counts.
Usage: simulate_cohort_test.py PWAS WORK_DIR   (needs h5py)"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np


def main():
    pwas, work = sys.argv[1:3]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    sim = os.path.join(work, "sim")
    subprocess.run([pwas, "simulate", "--out", sim, "--n", "2500", "--proteins", "30", "--seed", "4",
                    "--cohort", f"{work}/direct.h5"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([pwas, "import", "--participants", f"{sim}/participants.csv", "--olink", f"{sim}/olink_data.txt",
                    "--coding", f"{sim}/coding143.tsv", "--missing-codes", "-1,-3", "--out", f"{work}/imported.h5"],
                   check=True, stdout=subprocess.DEVNULL)
    a, b = h5py.File(f"{work}/direct.h5", "r"), h5py.File(f"{work}/imported.h5", "r")
    bad = []
    if not np.array_equal(a["samples/eid"][:], b["samples/eid"][:]):
        bad.append("eids differ")
    x, y = a["proteins/npx"][:], b["proteins/npx"][:]
    if x.shape != y.shape or not np.array_equal(x.view(np.uint32), y.view(np.uint32)):
        bad.append("protein matrices differ")
    for d in ("name", "full_name"):
        if list(a[f"proteins/{d}"].asstr()[:]) != list(b[f"proteins/{d}"].asstr()[:]):
            bad.append(f"/proteins/{d} differs")
    if not np.array_equal(a["proteins/n_observed"][:], b["proteins/n_observed"][:]):
        bad.append("/proteins/n_observed differs")
    cols = list(b["participants"].attrs["columns"])
    if list(a["participants"].attrs["columns"]) != cols:
        bad.append("participant columns differ")
    for c in cols:
        u, v = a[f"participants/{c}"], b[f"participants/{c}"]
        if u.attrs["kind"] != v.attrs["kind"] or not np.array_equal(u[:], v[:], equal_nan=u.dtype.kind == "f"):
            bad.append(f"column {c} differs")
        if "levels" in v.attrs and list(u.attrs["levels"]) != list(v.attrs["levels"]):
            bad.append(f"levels of {c} differ")
    if bad:
        print("\n".join(bad), file=sys.stderr)
        sys.exit(1)
    print(f"ok: direct cohort equals the imported one ({x.shape[0]} samples x {x.shape[1]} proteins, "
          f"{len(cols)} columns)")


if __name__ == "__main__":
    main()
