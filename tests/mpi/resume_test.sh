#!/usr/bin/env bash
# Preemption and crashes lose nothing: a run stopped by SIGUSR1 (Slurm's --signal) exits 3 after checkpointing,
# a rank killed with SIGKILL fails the job without a hang, and `--resume` (with another rank count) completes
# either to outputs byte-identical to an uninterrupted run.
# Usage: resume_test.sh PWAS MPIEXEC WORKDIR
set -uo pipefail
pwas=$1 mpiexec=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$pwas" simulate --out sim --n 30000 --proteins 240 --seed 5 >/dev/null || fail simulate
"$pwas" import --participants sim/participants.csv --olink sim/olink_data.txt --coding sim/coding143.tsv \
  --out cohort.h5 >/dev/null || fail import
cat > config.toml <<'TOML'
cohort = "cohort.h5"
block_proteins = 4
resample_block_proteins = 8
[[analysis]]
name = "perm"
model = "linear"
outcome = "protein"
predictor = "isolation"
covariates = ["age", "sex", "bmi"]
permutations = 200
max_t = true
[[analysis]]
name = "logit"
model = "logistic"
outcome = ["isolation", "loneliness"]
covariates = ["age", "sex", "centre", "olink_batch", "bmi", "smoking", "pc1", "pc2", "pc3"]
categorical = ["centre", "olink_batch"]
TOML

"$pwas" run config.toml --out ref --threads 1 --quiet || fail "reference run"

# wait_for_blocks DIR N: until the checkpoint holds N blocks (or the run has ended).
wait_for_blocks() {
  for _ in $(seq 1 600); do
    [[ $(find "$1/.pwas-checkpoint" -name '*.bin' 2>/dev/null | wc -l) -ge $2 ]] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

same_as_reference() {
  for f in perm.tsv logit.tsv results.h5; do
    cmp -s "ref/$f" "$1/$f" || { diff "ref/$f" "$1/$f" | head -5 >&2; grep -E "checkpoint|ranks:" "$1/run.log" >&2; fail "$f after $2 differs from the uninterrupted run"; }
  done
  [[ -d "$1/.pwas-checkpoint" ]] && fail "checkpoint left behind after a complete run ($2)"
  echo "ok: $2: outputs byte-identical to the uninterrupted run"
}

# 1. SIGUSR1 to mpirun (forwarded to every rank): exit 3, checkpoint kept, no final outputs.
"$mpiexec" -n 2 --bind-to none "$pwas" run config.toml --out pre --threads 1 --quiet &
job=$!
wait_for_blocks pre 6 $job || fail "the run ended before it could be signalled"
kill -USR1 $job
wait $job
rc=$?
[[ $rc -eq 3 ]] || fail "preempted run exited $rc, expected 3"
[[ -e pre/results.h5 || -e pre/logit.tsv ]] && fail "a preempted run wrote final outputs"
blocks=$(find pre/.pwas-checkpoint -name '*.bin' | wc -l)
echo "ok: SIGUSR1 -> exit 3 with $blocks checkpointed blocks"
"$mpiexec" -n 3 --bind-to none "$pwas" run config.toml --out pre --threads 1 --quiet --resume || fail "resume after SIGUSR1"
grep -q "proteins from the checkpoint" pre/run.log || fail "the resumed run did not use the checkpoint"
same_as_reference pre "SIGUSR1 on 2 ranks, resumed on 3"

# 2. SIGKILL one rank: the job fails without hanging; --resume on 1 rank completes it.
"$mpiexec" -n 2 --bind-to none "$pwas" run config.toml --out killed --threads 1 --quiet &
job=$!
wait_for_blocks killed 6 $job || fail "the run ended before a rank could be killed"
victim=$(pgrep -f "pwas run config.toml --out killed" | grep -v "^$job\$" | tail -1)
kill -KILL "$victim"
for _ in $(seq 1 600); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
kill -0 $job 2>/dev/null && { kill -KILL $job; fail "the job hung after a rank was killed"; }
wait $job
rc=$?
[[ $rc -ne 0 ]] || fail "the job with a killed rank exited 0"
echo "ok: SIGKILL of a rank -> job exit $rc, no hang"
"$pwas" run config.toml --out killed --threads 2 --quiet --resume || fail "resume after SIGKILL"
same_as_reference killed "SIGKILL on 2 ranks, resumed on 1"

# 3. A checkpoint is refused for another config.
sed 's/"pc3"/"pc4"/' config.toml > other.toml
"$mpiexec" -n 2 --bind-to none "$pwas" run config.toml --out other --threads 1 --quiet &
job=$!
wait_for_blocks other 2 $job || fail "the run ended before it could be signalled"
kill -USR1 $job; wait $job
"$pwas" run other.toml --out other --quiet --resume 2>err.txt && fail "resume with another config accepted"
grep -q "another config" err.txt && echo "ok: resume with another config refused" || fail "unexpected message: $(cat err.txt)"
