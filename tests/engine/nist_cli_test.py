#!/usr/bin/env python3
"""NIST StRD linear regression through the command line: `pwas import` + `pwas run` with report = "all".

Each data set in tests/nist/ becomes a participants CSV (eid, y and every polynomial term as a column), is imported
with a one-protein Olink file, and is fitted as `y ~ terms` (the last term as the predictor, the others as
covariates). Every certified coefficient and standard deviation must be reproduced to a log relative error
(LRE = -log10(|est - cert| / |cert|)) of at least 9 digits for Norris, Pontius and Longley and 6 for Wampler1-4;
certified zeros (Wampler1/2 SEs) need |est| < 1e-8 * mean|y|. Wampler5 is reported, not required.
Usage: nist_cli_test.py PWAS NIST_DIR WORK_DIR
"""
import math
import os
import shutil
import subprocess
import sys

REQUIRED = {"norris": 9, "pontius": 9, "longley": 9, "wampler1": 6, "wampler2": 6, "wampler3": 6, "wampler4": 6,
            "wampler5": 0}


def read_set(path):
    terms, cert, header, rows = None, [], None, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("# terms"):
            terms = line.split("\t")[1:]
        elif line.startswith("# certified"):
            _, name, est, sd = line.split("\t")
            cert.append((name, float(est), float(sd)))
        elif line.startswith("#") or not line:
            continue
        elif header is None:
            header = line.split("\t")
        else:
            rows.append([float(v) for v in line.split("\t")])
    return terms, cert, header, rows


def term_value(term, row, header):
    name, _, power = term.partition("^")
    x = row[header.index(name)]
    return x ** int(power) if power else x


def lre(est, cert, scale):
    if cert == 0.0:
        return 15.0 if abs(est) < 1e-8 * scale else 0.0
    if est == cert:
        return 15.0
    return min(15.0, -math.log10(abs(est - cert) / abs(cert)))


def main():
    pwas, nist_dir, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    failures = []
    for name, need in REQUIRED.items():
        terms, cert, header, rows = read_set(os.path.join(nist_dir, name + ".tsv"))
        cols = [t.replace("^", "_pow") for t in terms[1:]]
        d = os.path.join(work, name)
        os.makedirs(d)
        with open(os.path.join(d, "participants.csv"), "w") as f:
            f.write("eid,y," + ",".join(cols) + "\n")
            for i, row in enumerate(rows):
                values = [repr(term_value(t, row, header)) for t in terms[1:]]
                f.write(f"{1000001 + i},{row[header.index('y')]!r}," + ",".join(values) + "\n")
        with open(os.path.join(d, "olink.csv"), "w") as f:
            f.write("eid,dummy\n")
            for i in range(len(rows)):
                f.write(f"{1000001 + i},{0.1 * i}\n")
        subprocess.run([pwas, "import", "--participants", f"{d}/participants.csv", "--olink", f"{d}/olink.csv",
                        "--out", f"{d}/cohort.h5"], check=True, stdout=subprocess.DEVNULL)
        covariates = ", ".join(f'"{c}"' for c in cols[:-1])
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write(f'cohort = "cohort.h5"\n[[analysis]]\nname = "nist"\nmodel = "linear"\noutcome = "y"\n'
                    f'predictor = "{cols[-1]}"\ncovariates = [{covariates}]\nreport = "all"\n')
        subprocess.run([pwas, "run", f"{d}/config.toml", "--out", f"{d}/out", "--quiet"], check=True)
        lines = open(f"{d}/out/nist.tsv").read().splitlines()
        head = lines[0].split("\t")
        got = [dict(zip(head, l.split("\t"))) for l in lines[1:]]
        if len(got) != len(cert):
            failures.append(f"{name}: {len(got)} rows for {len(cert)} certified parameters")
            continue
        scale = sum(abs(r[header.index("y")]) for r in rows) / len(rows)
        worst_b, worst_se = 15.0, 15.0
        for row, (pname, b, sd) in zip(got, cert):
            if row["ERRCODE"] != "OK":
                failures.append(f"{name} {pname}: ERRCODE {row['ERRCODE']}")
                continue
            worst_b = min(worst_b, lre(float(row["BETA"]), b, scale))
            worst_se = min(worst_se, lre(float(row["SE"]), sd, scale))
        status = "ok" if min(worst_b, worst_se) >= need else "FAIL"
        print(f"{status}: {name:9s} min LRE coefficients {worst_b:5.2f}, standard errors {worst_se:5.2f} "
              f"(required {need})")
        if status == "FAIL":
            failures.append(f"{name}: LRE below {need}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
