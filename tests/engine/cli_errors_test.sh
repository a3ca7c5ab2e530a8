#!/usr/bin/env bash
# Honest under bad input, through the command line: a bad file or config stops with file:line:column and exit 2;
# a bad protein gets an ERRCODE and the scan goes on; nothing is written half.
# Usage: cli_errors_test.sh PWAS WORKDIR
set -uo pipefail
pwas=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_error NAME PATTERN CMD...: exit code 2 and stderr containing PATTERN.
expect_error() {
  local name=$1 pattern=$2
  shift 2
  "$@" >out.txt 2>err.txt
  local rc=$?
  if [[ $rc -ne 2 ]]; then fail "$name: exit $rc, expected 2"; return; fi
  if ! grep -qF -- "$pattern" err.txt; then fail "$name: message lacks '$pattern': $(cat err.txt)"; return; fi
  echo "ok: $name: $(head -c 160 err.txt)"
}

# A small cohort: 400 participants, 6 proteins; p_const is constant, p_sep separates the outcome `sep`,
# p_allna is missing everywhere.
python3 - <<'PY'
import math, random
random.seed(3)
n = 400
with open("participants.csv", "w") as f:
    f.write("eid,age,sex,grp,y,one_class,sep,age_copy\n")
    for i in range(n):
        age = 40 + (i * 7) % 30
        sex = i % 2
        y = 1 if random.random() < 0.3 else 0
        f.write(f"{1000 + i},{age},{sex},{'abc'[i % 3]},{y},0,{1 if i % 4 == 0 else 0},{age}\n")
with open("olink.csv", "w") as f:
    f.write("eid,p1,p2,p_const,p_sep,p_allna,p_inf\n")
    for i in range(n):
        sep = (1.0 if i % 4 == 0 else -1.0) + random.random() * 0.1
        inf = "Inf" if i == 5 else ("NaN" if i == 6 else f"{random.gauss(0, 1):.4f}")
        f.write(f"{1000 + i},{random.gauss(0, 1):.4f},{random.gauss(0, 1):.4f},1.5,{sep:.4f},,{inf}\n")
PY

# --- import: bad files stop with a message naming the file (and line/column where there is one).
expect_error "missing participants file" "nope.csv" "$pwas" import --participants nope.csv --olink olink.csv --out c.h5
: > empty.csv
expect_error "empty participants file" "empty.csv" "$pwas" import --participants empty.csv --olink olink.csv --out c.h5
printf 'id,age\n1,50\n' > noeid.csv
expect_error "header without eid" "noeid.csv:1" "$pwas" import --participants noeid.csv --olink olink.csv --out c.h5
printf 'eid,age\n1,50\n2,51\n1,52\n' > dup.csv
expect_error "duplicated eid" "dup.csv:4" "$pwas" import --participants dup.csv --olink olink.csv --out c.h5
printf 'eid,age,bmi\n1000,50,25.1\n1001,51,24.0\n1002,52,abc\n' > mixed.csv
expect_error "text in a numeric column" "mixed.csv:4:3" "$pwas" import --participants mixed.csv --olink olink.csv --out c.h5
printf 'eid,p1\n1000,0.5\n1001,zz\n' > badolink.csv
expect_error "text in an Olink value" "badolink.csv:3:2" "$pwas" import --participants participants.csv --olink badolink.csv --out c.h5
[[ -e c.h5 ]] && fail "a failed import left c.h5 behind"

# CRLF line ends and a UTF-8 BOM are accepted.
printf '\xef\xbb\xbf' > bom.csv && sed 's/$/\r/' participants.csv >> bom.csv
if "$pwas" import --participants bom.csv --olink olink.csv --out bom.h5 > bom.txt 2>&1; then echo "ok: CRLF + BOM accepted"; else fail "CRLF + BOM: $(cat bom.txt)"; fi

"$pwas" import --participants participants.csv --olink olink.csv --out cohort.h5 > import.txt 2>&1 || fail "import: $(cat import.txt)"
grep -q "not finite (Inf; set missing): 1" import.txt && echo "ok: Inf in Olink values counted and set missing" || fail "Inf not reported: $(cat import.txt)"

# --- run: config errors name config:line:column, before anything is written.
cat > bad_column.toml <<'T'
cohort = "cohort.h5"
[[analysis]]
name = "ok_first"
model = "logistic"
outcome = "y"
covariates = ["age"]
[[analysis]]
name = "a"
model = "logistic"
outcome = "y"
covariates = ["age", "bmi_typo"]
T
expect_error "config names an unknown column" "bad_column.toml:11:22" "$pwas" run bad_column.toml --out out_bad --quiet
[[ -e out_bad/ok_first.tsv ]] && fail "a config error left a result table of an earlier analysis"
cat > collinear.toml <<'T'
cohort = "cohort.h5"
[[analysis]]
name = "a"
model = "logistic"
outcome = "y"
covariates = ["age", "sex", "age_copy"]
T
expect_error "collinear covariates" "collinear" "$pwas" run collinear.toml --out out_col --quiet

# A Cox outcome derived from a column that is not a date stops with the location of the column in the config.
cat > cox_not_date.toml <<'T'
cohort = "cohort.h5"
[[survival]]
name = "y_surv"
baseline = "age"
event_date = "age"
censor_date = "2022-11-30"
[[analysis]]
name = "cox"
model = "cox"
outcome = "y_surv"
covariates = ["sex"]
T
expect_error "survival dates from a numeric column" "cox_not_date.toml:4:12" "$pwas" run cox_not_date.toml --out out_cox --quiet
[[ -e out_cox/cox.tsv ]] && fail "a refused Cox run wrote cox.tsv"

# --- run: bad proteins get an ERRCODE, the scan goes on.
cat > scan.toml <<'T'
cohort = "cohort.h5"
[[analysis]]
name = "logit"
model = "logistic"
outcome = ["y", "one_class", "sep"]
covariates = ["age", "sex", "grp"]
min_case_ct = 5
T
if "$pwas" run scan.toml --out out_scan --quiet 2>err.txt; then
  code() { awk -F'\t' -v o="$1" -v p="$2" '$2 == o && $4 == p { print $17 }' out_scan/logit.tsv; }
  [[ $(code y P1) == OK ]] && echo "ok: a normal protein fits" || fail "P1 on y: $(code y P1)"
  [[ $(code y P_CONST) == CONSTANT ]] && echo "ok: constant protein -> CONSTANT" || fail "P_CONST: $(code y P_CONST)"
  [[ $(code one_class P1) == TOO_FEW_CASES ]] && echo "ok: outcome with one class -> TOO_FEW_CASES" || fail "one_class: $(code one_class P1)"
  [[ $(code sep P_SEP) == SEPARATION ]] && echo "ok: complete separation -> SEPARATION" || fail "P_SEP on sep: $(code sep P_SEP)"
  [[ $(code y P_INF) == OK ]] && echo "ok: protein with an Inf value fits on the rest" || fail "P_INF: $(code y P_INF)"
  [[ -z $(code y P_ALLNA) ]] && grep -q "QC dropped 1 proteins.*P_ALLNA" out_scan/run.log && echo "ok: all-missing protein dropped by QC, logged" || fail "P_ALLNA not dropped by QC"
  grep -Eq "\] build: (AVX-512|AVX2|SSE2) vectors, [248] fits per batch$" out_scan/run.log \
    && echo "ok: run.log names the build's vector extensions" || fail "run.log lacks the build line"
  [[ -s out_scan/results.h5 ]] || fail "results.h5 missing"
else
  fail "scan run failed: $(cat err.txt)"
fi

# --- re-running into a folder with results is refused without --force.
expect_error "existing output folder" "--force" "$pwas" run scan.toml --out out_scan --quiet
"$pwas" run scan.toml --out out_scan --quiet --force 2>/dev/null && echo "ok: --force replaces" || fail "--force run failed"
ls out_scan | grep -q "tmp-partial" && fail "temporary files left in out_scan"

if [[ $failures -gt 0 ]]; then echo "$failures check(s) failed" >&2; exit 1; fi
echo "all bad-input checks passed"
