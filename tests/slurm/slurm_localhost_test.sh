#!/usr/bin/env bash
# The slurm/ templates on a real, private, one-node Slurm cluster on localhost: every result they produce must be
# byte-identical to a direct run of the same config, and the scaling CSV must hold one row per rank count.
# Usage: slurm_localhost_test.sh PWAS MPIEXEC [WORKDIR]
# Needs root and Debian's slurm-wlm and munge packages; it FAILS (never skips) when they are missing.
# munged, slurmctld and slurmd run from a private folder on free loopback ports and are stopped by the PIDs in
# their pid files when the script exits, whatever the outcome.
set -euo pipefail

(( $# >= 2 )) || { echo "usage: $0 PWAS MPIEXEC [WORKDIR]" >&2; exit 2; }
pwas=$(realpath -- "$1")
mpiexec=$(command -v -- "$2" || true)
root=$(cd "$(dirname "$0")/../.." && pwd)
templates=$root/slurm
budget=${PWAS_SLURM_TEST_BUDGET:-270}  # below ctest's TIMEOUT, so that the EXIT trap always gets to stop the daemons
deadline=$((SECONDS + budget))

# A test started from inside a Slurm job must not inherit that job's allocation.
unset "${!SLURM_@}" "${!SBATCH_@}" "${!SRUN_@}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

cluster=""  # private folder: munge key and socket, slurm.conf, state, spool, pid files, logs
work=""     # cohort, configs, job outputs and results
job_out=""  # output file of the job being checked, printed on failure
job_id=""
logs=()

say() { printf '[%(%T)T] %s\n' -1 "$*"; }

diagnose() {
  local f
  for f in "${logs[@]}" ${job_out:+"$job_out"}; do
    [[ -f $f ]] || continue
    echo "----- last 40 lines of $f -----" >&2
    tail -n 40 "$f" >&2 || true
  done
  if [[ -n $job_id && -n ${SLURM_CONF:-} ]]; then
    echo "----- scontrol show job $job_id -----" >&2
    timeout 10 scontrol show job "$job_id" >&2 2>&1 || true
  fi
}

fail() {
  echo "FAIL: $*" >&2
  diagnose
  exit 1
}

# ---- prerequisites: missing packages are a failure with the fix in the message --------------------------------
missing=()
for cmd in munged munge unmunge slurmctld slurmd sbatch srun sinfo squeue scontrol scancel timeout; do
  command -v "$cmd" >/dev/null || missing+=("$cmd")
done
(( ${#missing[@]} == 0 )) || fail "not installed: ${missing[*]}. Install Debian's Slurm and MUNGE:" \
  "apt-get install --no-install-recommends slurm-wlm munge   (as root; .ci/setup installs them)"
(( $(id -u) == 0 )) || fail "must run as root: slurmd runs as root to start jobs (SlurmdUser=root)"
[[ -x $pwas ]] || fail "pwas binary '$1' not found or not executable"
[[ -n $mpiexec ]] || fail "mpiexec '$2' not found"
for t in pwas_run pwas_array pwas_scaling; do
  [[ -r $templates/$t.sbatch ]] || fail "template $templates/$t.sbatch missing"
done

# ---- stop everything by pid file, whatever happened ---------------------------------------------------------------
# stop_daemon NAME PIDFILE: SIGTERM the process named in PIDFILE if it is NAME, then SIGKILL after 10 s.
stop_daemon() {
  local name=$1 file=$2 pid i
  [[ -s $file ]] || return 0
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  grep -qa -- "$name" "/proc/$pid/cmdline" 2>/dev/null || return 0  # gone, or the pid now belongs to another process
  kill -TERM "$pid" 2>/dev/null || return 0
  for (( i = 0; i < 100; i++ )); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "warning: $name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if [[ -n $cluster && -s $cluster/run/slurmctld.pid ]]; then
    # Running jobs outlive slurmd (slurmstepd is a separate process): cancel them and let them end first.
    local jobs
    jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [[ -n ${jobs// /} ]]; then
      # shellcheck disable=SC2086  # a list of job ids
      timeout 10 scancel $jobs 2>/dev/null || true
      for (( i = 0; i < 40; i++ )); do
        [[ -z $(timeout 5 squeue -h -o %A 2>/dev/null || true) ]] && break
        sleep 0.5
      done
    fi
  fi
  if [[ -n $cluster ]]; then
    stop_daemon slurmd "$cluster/run/slurmd.pid"
    stop_daemon slurmctld "$cluster/run/slurmctld.pid"
    stop_daemon munged "$cluster/munge/munged.pid"
    if [[ -d $work ]]; then
      mkdir -p "$work/logs"
      cp "$cluster"/log/*.log "$cluster/munge/munged.log" "$cluster/slurm.conf" "$work/logs/" 2>/dev/null || true
    fi
    if (( rc == 0 )); then
      rm -rf "$cluster"
    else
      echo "kept for inspection: $cluster (cluster) and $work (data, job outputs, copies of the daemon logs)" >&2
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a private cluster ----------------------------------------------------------------------------------------
cluster=$(mktemp -d "${TMPDIR:-/tmp}/pwas-slurm.XXXXXX")
chmod 0755 "$cluster"  # munged refuses a socket whose parent folders are not searchable by all
mkdir -p "$cluster"/{munge,state,spool,run,log,tmp}
if [[ -n ${3:-} ]]; then
  work=$3
  rm -rf "$work"
else
  work=$cluster/work
fi
mkdir -p "$work/jobs"
work=$(cd "$work" && pwd)
logs=("$cluster/log/slurmctld.log" "$cluster/log/slurmd.log" "$cluster/munge/munged.log")

# Two free ports below the kernel's ephemeral range, so that this cluster never meets another one (or a site's
# real Slurm on 6817/6818) on the same machine.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ctld_port=""
for (( i = 0; i < 50; i++ )); do
  p=$((20000 + (RANDOM % 6000) * 2))
  if ! port_in_use "$p" && ! port_in_use $((p + 1)); then ctld_port=$p; break; fi
done
[[ -n $ctld_port ]] || fail "no two free loopback ports found in 20000-32000"
slurmd_port=$((ctld_port + 1))

dd if=/dev/urandom of="$cluster/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$cluster/munge/munge.key"
socket=$cluster/munge/munge.socket
munged --socket="$socket" --key-file="$cluster/munge/munge.key" --log-file="$cluster/munge/munged.log" \
  --pid-file="$cluster/munge/munged.pid" --seed-file="$cluster/munge/munged.seed" \
  || fail "munged did not start"
for (( i = 0; i < 50; i++ )); do
  munge -n -S "$socket" 2>/dev/null | unmunge -S "$socket" >/dev/null 2>&1 && break
  sleep 0.1
done
munge -n -S "$socket" | unmunge -S "$socket" >/dev/null || fail "munge credentials do not round-trip on $socket"

node=$(hostname -s)
cat >"$cluster/slurm.conf" <<EOF
ClusterName=pwastest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool
TmpFS=$cluster/tmp
SlurmctldPidFile=$cluster/run/slurmctld.pid
SlurmdPidFile=$cluster/run/slurmd.pid
SlurmctldLogFile=$cluster/log/slurmctld.log
SlurmdLogFile=$cluster/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MailProg=/bin/true
KillWait=5
# 4 CPUs declared on whatever the machine has, so that 4 one-CPU tasks fit on a 2-core machine.
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$cluster/slurm.conf

slurmctld -i -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N "$node" || fail "slurmd did not start"
state=""
for (( i = 0; i < 60; i++ )); do
  state=$(timeout 5 sinfo -h -n "$node" -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.5
done
[[ $state == idle ]] || fail "node $node is '${state:-not reported}' after 30 s, not idle ($(sinfo -h -R 2>&1))"
say "slurm cluster up: node $node idle, slurmctld :$ctld_port, slurmd :$slurmd_port ($cluster)"

# ---- a tiny cohort and the reference run, without Slurm -------------------------------------------------------
"$pwas" simulate --out "$work/sim" --n 1200 --proteins 20 >"$work/simulate.log" 2>&1 \
  || { logs+=("$work/simulate.log"); fail "pwas simulate failed"; }
"$pwas" import --participants "$work/sim/participants.csv" --olink "$work/sim/olink_data.txt" \
  --coding "$work/sim/coding143.tsv" --out "$work/cohort.h5" >"$work/import.log" 2>&1 \
  || { logs+=("$work/import.log"); fail "pwas import failed"; }
write_config() {  # write_config FILE COHORT_PATH_RELATIVE_TO_FILE
  mkdir -p "$(dirname "$1")"
  cat >"$1" <<EOF
cohort = "$2"
[[analysis]]
name = "logit"
model = "logistic"
outcome = ["isolation", "loneliness"]
covariates = ["age", "sex", "bmi"]
EOF
}
write_config "$work/config.toml" cohort.h5
write_config "$work/sub/config2.toml" ../cohort.h5
"$pwas" run "$work/config.toml" --out "$work/reference" --threads 1 --quiet >"$work/reference.log" 2>&1 \
  || { logs+=("$work/reference.log"); fail "direct pwas run (the reference) failed"; }
[[ -s $work/reference/logit.tsv ]] || fail "the direct run wrote no $work/reference/logit.tsv"
say "reference run done: $(($(wc -l <"$work/reference/logit.tsv") - 1)) result rows"

# ---- helpers for the Slurm runs -------------------------------------------------------------------------------
# submit NAME [sbatch options and script...]: sbatch --wait under a timeout; sets job_id; returns the job's status.
# time_left NAME: seconds the next `sbatch --wait` may take: at most 180, and within the test's budget.
time_left() {
  local left=$((deadline - SECONDS - 10))
  (( left > 180 )) && left=180
  (( left > 0 )) || fail "test budget of $budget s exhausted before job '$1'"
  echo "$left"
}

submit() {
  local name=$1 left
  shift
  left=$(time_left "$name")
  job_id=""
  local rc=0 t0=$SECONDS
  timeout "$left" sbatch --wait --parsable -J "pwas-test-$name" -D "$work" "$@" >"$work/jobs/$name.id" || rc=$?
  job_id=$(head -n1 "$work/jobs/$name.id" | cut -d';' -f1)
  (( rc != 124 )) || fail "job '$name' (${job_id:-not submitted}) did not finish within $left s"
  say "job '$name' (${job_id:-?}) finished with status $rc after $((SECONDS - t0)) s"
  return "$rc"
}

# same_as_reference DIR RANKS [THREADS]: DIR's result table is byte-identical to the reference, and the run used
# RANKS ranks of THREADS threads (default 1).
same_as_reference() {
  local dir=$1 ranks=$2 threads=${3:-1}
  [[ -s $dir/logit.tsv ]] || fail "no result table $dir/logit.tsv"
  cmp "$work/reference/logit.tsv" "$dir/logit.tsv" >&2 \
    || fail "$dir/logit.tsv differs from the direct run's $work/reference/logit.tsv"
  # Guards against a launch that starts RANKS independent one-rank copies (PMIx not wired up), which would
  # produce the same table: the run log records the communicator size.
  grep -Eq "ranks: $ranks +threads per rank: $threads( |$)" "$dir/run.log" \
    || fail "$dir/run.log does not record $ranks ranks x $threads threads:" \
            "$(grep -m1 -E 'ranks:' "$dir/run.log" || echo 'no ranks line')"
}

# ---- (a) pwas_run.sbatch: 2 ranks with srun, preempted by SIGUSR1, requeued, resumed ---------------------------
# A larger cohort in small protein blocks, so the job is still fitting when the time-limit warning arrives (sent
# here by `scancel -b -s USR1`, as Slurm does with --signal=B:USR1@120) once its first blocks are checkpointed.
# The template forwards it; pwas checkpoints and exits 3; the template requeues the job; the restarted attempt runs
# with --resume; the final table must equal a direct, uninterrupted run.
"$pwas" simulate --out "$work/sim_big" --n 20000 --proteins 100 --seed 2 >"$work/simulate_big.log" 2>&1 \
  || { logs+=("$work/simulate_big.log"); fail "pwas simulate (big) failed"; }
"$pwas" import --participants "$work/sim_big/participants.csv" --olink "$work/sim_big/olink_data.txt" \
  --coding "$work/sim_big/coding143.tsv" --out "$work/big.h5" >"$work/import_big.log" 2>&1 \
  || { logs+=("$work/import_big.log"); fail "pwas import (big) failed"; }
write_config "$work/big.toml" big.h5
printf 'block_proteins = 2\n' | cat - "$work/big.toml" >"$work/big.tmp" && mv "$work/big.tmp" "$work/big.toml"
"$pwas" run "$work/big.toml" --out "$work/reference_big" --threads 1 --quiet >"$work/reference_big.log" 2>&1 \
  || { logs+=("$work/reference_big.log"); fail "direct pwas run (big reference) failed"; }
job_out=$work/jobs/run_srun.out
rc=0
limit=$(time_left run-srun)
timeout "$limit" sbatch --wait --parsable -J pwas-test-run-srun -D "$work" -N 1 --ntasks-per-node=2 -c 1 \
  -o "$job_out" --export="ALL,PWAS_BIN=$pwas,PWAS_CONFIG=$work/big.toml,PWAS_OUT=$work/out_run_srun" \
  "$templates/pwas_run.sbatch" >"$work/jobs/run_srun.id" &
sbatch_pid=$!
signalled=""
for (( i = 0; i < 10 * limit; i++ )); do
  job_id=$(head -n1 "$work/jobs/run_srun.id" 2>/dev/null | cut -d';' -f1)
  if [[ -n $job_id ]] && (( $(find "$work/out_run_srun/.pwas-checkpoint" -name '*.bin' 2>/dev/null | wc -l) >= 2 )); then
    scancel -b -s USR1 "$job_id" || fail "could not send SIGUSR1 to the batch shell of job $job_id"
    signalled=1
    break
  fi
  kill -0 "$sbatch_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $signalled ]] || fail "job ${job_id:-?} ended before its first checkpoint blocks appeared, so it was never signalled"
# Follow the job through its requeue. Slurm holds a requeued job back for a while (BeginTime): a test need not
# wait for that, so it is released as soon as it is pending again. sbatch --wait returns once the job has ended.
released=""
while kill -0 "$sbatch_pid" 2>/dev/null; do
  state=$(scontrol show job "$job_id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n1)
  if [[ $state == PENDING && -z $released ]]; then
    sleep 3   # let slurmd finish cleaning up the first attempt's step
    scontrol update JobId="$job_id" StartTime=now >/dev/null 2>&1 && released=1
  fi
  sleep 0.2
done
wait "$sbatch_pid" || rc=$?
(( rc != 124 )) || fail "preempted job $job_id did not finish within $limit s"
state=$(scontrol show job "$job_id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n1)
[[ $state == COMPLETED ]] || fail "preempted job $job_id ended in state '${state:-unknown}' (sbatch status $rc)"
grep -q 'checkpointed; requeueing' "$job_out" || fail "job $job_id was not checkpointed and requeued after SIGUSR1"
grep -q 'resuming from the checkpoint' "$job_out" || fail "the requeued attempt of job $job_id did not resume"
cmp "$work/reference_big/logit.tsv" "$work/out_run_srun/logit.tsv" >&2 \
  || fail "the preempted and resumed job's logit.tsv differs from the uninterrupted direct run"
[[ -d $work/out_run_srun/.pwas-checkpoint ]] && fail "checkpoint left behind after the resumed job completed"
say "ok: pwas_run.sbatch with srun --mpi=pmix on 2 ranks: SIGUSR1 -> checkpoint -> requeue -> resume, byte-identical"

# ---- (a) pwas_run.sbatch with mpirun inside the allocation, 2 ranks x 2 threads, arguments not variables -----
job_out=$work/jobs/run_mpirun.out
rc=0
submit run-mpirun -N 1 --ntasks-per-node=2 -c 2 -o "$job_out" \
  --export="ALL,PWAS_BIN=$pwas,PWAS_LAUNCHER=mpirun,PWAS_MPIRUN=$mpiexec" \
  "$templates/pwas_run.sbatch" "$work/config.toml" "$work/out_run_mpirun" --quiet || rc=$?
(( rc == 0 )) || fail "pwas_run.sbatch (mpirun, 2 ranks) job $job_id ended with status $rc"
same_as_reference "$work/out_run_mpirun" 2 2
say "ok: pwas_run.sbatch with mpirun inside the allocation on 2 ranks x 2 threads, byte-identical"

# ---- (c) pwas_array.sbatch: a 2-config array, relative paths in the list --------------------------------------
cat >"$work/configs.txt" <<'EOF'
# one config per line: CONFIG [OUT_DIR], relative to this file

config.toml out_array_1
sub/config2.toml out_array_2
EOF
job_out=$work/jobs/array_1.out
rc=0
submit array --array=1-2 -N 1 --ntasks-per-node=2 -c 1 -o "$work/jobs/array_%a.out" --export="ALL,PWAS_BIN=$pwas" \
  "$templates/pwas_array.sbatch" "$work/configs.txt" || rc=$?
logs+=("$work/jobs/array_2.out")
(( rc == 0 )) || fail "pwas_array.sbatch array job $job_id ended with status $rc"
same_as_reference "$work/out_array_1" 2
job_out=$work/jobs/array_2.out
same_as_reference "$work/out_array_2" 2
say "ok: pwas_array.sbatch ran both configs of the list, byte-identical"

# ---- (b) pwas_scaling.sbatch: strong scaling over 1 2 4 ranks and one weak point -------------------------------
job_out=$work/jobs/scaling.out
rc=0
export PWAS_BIN=$pwas PWAS_SCALING_RANKS="1 2 4" PWAS_WEAK_COHORTS="2=$work/cohort.h5" PWAS_SCALING_WARMUP=0 \
  PWAS_SCALING_DIR=$work/scaling
submit scaling -N 1 --ntasks-per-node=4 -c 1 -o "$job_out" "$templates/pwas_scaling.sbatch" "$work/config.toml" || rc=$?
unset PWAS_BIN PWAS_SCALING_RANKS PWAS_WEAK_COHORTS PWAS_SCALING_WARMUP PWAS_SCALING_DIR
(( rc == 0 )) || fail "pwas_scaling.sbatch job $job_id ended with status $rc"
csv=$work/scaling/scaling.csv
[[ -s $csv ]] || fail "no scaling CSV $csv"
logs+=("$csv")
header="kind,ranks,threads_per_rank,nodes,repeat,wall_s,exit_code,load_1m,cohort,out"
[[ $(head -n1 "$csv") == "$header" ]] || fail "$csv header is '$(head -n1 "$csv")', expected '$header'"
expected=("strong,1" "strong,2" "strong,4" "weak,2")
mapfile -t rows < <(tail -n +2 "$csv")
(( ${#rows[@]} == ${#expected[@]} )) || fail "$csv has ${#rows[@]} rows, expected ${#expected[@]} (${expected[*]})"
for i in "${!expected[@]}"; do
  IFS=, read -r kind ranks threads nodes rep wall code load cohort out <<<"${rows[i]}"
  [[ "$kind,$ranks" == "${expected[i]}" ]] || fail "$csv row $((i + 1)) is '$kind,$ranks', expected '${expected[i]}'"
  [[ $threads == 1 && $nodes == 1 && $rep == 1 && $code == 0 ]] \
    || fail "$csv row $((i + 1)) has threads=$threads nodes=$nodes repeat=$rep exit_code=$code, expected 1 1 1 0"
  awk -v w="$wall" 'BEGIN { exit !(w ~ /^[0-9]+\.[0-9]+$/ && w > 0) }' \
    || fail "$csv row $((i + 1)) has wall_s '$wall', not a positive number of seconds"
  [[ $load =~ ^[0-9]+\.[0-9]+$ ]] || fail "$csv row $((i + 1)) has load_1m '$load'"
  [[ $kind == strong || $cohort == "$work/cohort.h5" ]] || fail "$csv row $((i + 1)) has cohort '$cohort'"
  same_as_reference "$out" "$ranks"
done
say "ok: pwas_scaling.sbatch wrote one row per rank count, every run byte-identical"
say "PASS in $SECONDS s"
