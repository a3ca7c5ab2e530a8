#!/usr/bin/env bash
# End-to-end benchmark of the study's PWAS: pwas against the tools a user would otherwise use (R's glm and lm
# loops, limma, PLINK 2 --glm) and this machine's own ceilings (OpenBLAS DGEMM, triad bandwidth), all in one run.
#
#   bench/study_pwas.sh [--n 42062] [--proteins 2920] [--r-sample 30] [--r-warm 10] [--seed 1]
#                       [--work DIR] [--results DIR] [--wait-quiet MINUTES] [--skip-plink] [--skip-limma]
#
# Untimed preparation in --work (default /tmp/pwas-bench): `pwas simulate` of an N x P cohort (cached), `pwas import`
# (every run, so the cohort format follows the binary), an h5dump export of the cohort for R (so R fits exactly the
# samples and values pwas fits), and the PLINK 2 inputs (cached while the export's checksum is unchanged).
# Then, with --wait-quiet M, it waits up to M minutes for the 1-minute load average to drop below 1.0 (polled
# every 60 s), and runs the timed part, recording the load average every 10 s:
#   ceilings   DGEMM 4000^3 (OpenBLAS) and triad on 1 and 2 threads (bench/ceilings.cpp), before and after;
#   pwas       configs/study_pwas.toml (2 exposures x 2 covariate models x proteins, logistic, RIN) on 1 rank x 2
#              threads and 2 MPI ranks x 1 thread, and the linear direction protein ~ isolation + full covariates;
#   R glm      bench/r_glm_loop.R on --r-sample proteins per exposure x model, in 2 concurrent R processes (one
#              per core, different proteins), extrapolated to the full scan; R lm the same for the linear direction;
#   limma      lmFit on every protein at once (one R process), RIN beforehand (timed apart);
#   PLINK 2    --glm no-firth hide-covar, --threads 2, OPENBLAS_NUM_THREADS=1: proteins as dosages 1 + RIN/5
#              (RIN within each exposure x model's complete cases), one .pgen per exposure x model, categorical
#              covariates as dummies, --covar-variance-standardize (PLINK refuses the raw scales); linear: one
#              variant (isolation 0/1) and the RIN proteins as phenotypes. Only the --glm runs are timed.
# Finally bench/compare_fits.R cross-checks BETA/SE and bench/study_pwas_report.py writes
# RESULTS/study_pwas_<date>[_nN_pP].csv and .json (machine, figures, ratios) and prints the tables.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=42062
proteins=2920
r_sample=30
r_warm=10
seed=1
work=/tmp/pwas-bench
results=$root/bench/results
wait_quiet=0
skip_plink=0
skip_limma=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --n) n=$2; shift 2 ;;
    --proteins) proteins=$2; shift 2 ;;
    --r-sample) r_sample=$2; shift 2 ;;
    --r-warm) r_warm=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --wait-quiet) wait_quiet=$2; shift 2 ;;
    --skip-plink) skip_plink=1; shift ;;
    --skip-limma) skip_limma=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

pwas=$root/build/engine/pwas
[[ -x $pwas ]] || { echo "no $pwas: cmake --build $root/build --target pwas -j1" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
for tool in Rscript plink2 mpirun h5dump g++ python3; do
  command -v $tool > /dev/null || { echo "$tool is missing" >&2; exit 1; }
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

data=$work/cohort-$n-$proteins-s$seed
run=$work/run-$(date +%Y%m%dT%H%M%S)
mkdir -p "$data" "$run/times" "$results"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
timed() {  # timed NAME CMD...: GNU time's wall seconds and peak RSS into $run/times/NAME
  /usr/bin/time -f "%e %M" -o "$run/times/$1" "${@:2}"
}
mark() { echo "$1 $(date +%s.%N) $(cut -d' ' -f1 /proc/loadavg)" >> "$run/marks.txt"; }  # phase start + 1-min load
# A private copy of the binary, used for everything: other builds into build/ must not swap it during the run.
pwas_built=$(date -r "$pwas" +%FT%T)
pwas_git="$(git -C "$root" rev-parse --short HEAD) with $(git -C "$root" status --porcelain --untracked-files=no | wc -l) modified tracked files"
cp "$pwas" "$run/pwas" && pwas=$run/pwas
"$pwas" --version > /dev/null || { echo "$pwas does not run (copied while being linked?)" >&2; exit 1; }

# ---------------------------------------------------------------- untimed preparation (cached)
if [[ ! -s $data/sim/olink_data.txt ]]; then
  log "simulating $n x $proteins into $data/sim"
  timed simulate "$pwas" simulate --out "$data/sim" --n "$n" --proteins "$proteins" --seed "$seed" > "$data/simulate.txt" 2>&1
  cp "$run/times/simulate" "$data/simulate"
fi
cp "$data/simulate" "$run/times/simulate"
# Imported on every run (seconds): the cohort format follows the binary under test.
log "importing into $data/cohort.h5"
timed import "$pwas" import --participants "$data/sim/participants.csv" --olink "$data/sim/olink_data.txt" \
  --coding "$data/sim/coding143.tsv" --missing-codes -1,-3 --out "$data/cohort.h5" > "$run/import.txt" 2>&1
exp=$data/export
mkdir -p "$exp"
h5dump -d /proteins/npx -b LE -o "$exp/npx.f32" "$data/cohort.h5" > /dev/null
h5dump -d /samples/eid -b LE -o "$exp/eid.i64" "$data/cohort.h5" > /dev/null
h5dump -d /proteins/name -w 0 "$data/cohort.h5" | sed -n '/DATA {/,/}/p' | grep -o '"[^"]*"' | tr -d '"' > "$exp/names.txt"
export_sum=$(cat "$exp/npx.f32" "$exp/eid.i64" "$exp/names.txt" | md5sum | cut -c1-32)
tools=$work/tools
mkdir -p "$tools"
g++ -O3 -march=native -fopenmp -o "$tools/ceilings" "$root/bench/ceilings.cpp" -lopenblas
g++ -O2 -o "$tools/f32_to_plink" "$root/bench/f32_to_plink.cpp"

# The linear direction as a pwas config (the full covariate model of configs/study_pwas.toml).
cat > "$run/linear.toml" <<'EOF'
cohort = "cohort.h5"
[[analysis]]
name = "linear"
model = "linear"
outcome = "protein"
predictor = "isolation"
covariates = ["age", "sex", "centre", "olink_batch", "time_gap_days",
              "pc1", "pc2", "pc3", "pc4", "pc5", "pc6", "pc7", "pc8", "pc9", "pc10",
              "pc11", "pc12", "pc13", "pc14", "pc15", "pc16", "pc17", "pc18", "pc19", "pc20",
              "ethnicity", "education", "income", "smoking", "alcohol", "bmi"]
categorical = ["centre", "olink_batch"]
protein_transform = "rin"
protein_max_missing = 0.5
EOF

# Proteins that pass pwas's QC (missing in <= 50% of samples), from the cohort export, for the samples and limma.
if [[ $(cat "$exp/qc_proteins.sum" 2> /dev/null) != "$export_sum" ]]; then
  Rscript -e 'a <- commandArgs(TRUE); nm <- readLines(file.path(a[1], "names.txt"))
    n <- file.size(file.path(a[1], "eid.i64")) / 8
    m <- matrix(readBin(file.path(a[1], "npx.f32"), "numeric", size = 4, n = n * length(nm)), nrow = length(nm))
    writeLines(nm[rowMeans(is.na(m)) <= 0.5], file.path(a[1], "qc_proteins.txt"))' "$exp"
  echo "$export_sum" > "$exp/qc_proteins.sum"
fi
# Two disjoint random samples of r_sample proteins (one per R process).
shuf -n $((2 * r_sample)) --random-source=<(yes "$seed") "$exp/qc_proteins.txt" > "$run/sample_all.txt"
head -n "$r_sample" "$run/sample_all.txt" > "$run/sample_a.txt"
tail -n +$((r_sample + 1)) "$run/sample_all.txt" > "$run/sample_b.txt"

plink=$data/plink
if [[ $skip_plink == 0 && $(cat "$plink/done" 2> /dev/null) != "$export_sum" ]]; then
  log "writing PLINK 2 inputs into $plink"
  rm -rf "$plink"
  OPENBLAS_NUM_THREADS=1 Rscript "$root/bench/r_glm_loop.R" plink --data "$exp" --participants "$data/sim/participants.csv" \
    --proteins "$exp/qc_proteins.txt" --out "$plink"
  for tag in simple_isolation simple_loneliness full_isolation full_loneliness; do
    ns=$(($(wc -l < "$plink/$tag.psam") - 1))
    "$tools/f32_to_plink" dosage "$plink/$tag.dosage.f32" "$plink/proteins.txt" "$ns" "$plink/$tag.dosage.txt"
    plink2 --import-dosage "$plink/$tag.dosage.txt" noheader format=1 single-chr=1 --psam "$plink/$tag.psam" \
      --make-pgen --threads 2 --out "$plink/$tag" > /dev/null
    rm -f "$plink/$tag.dosage.txt" "$plink/$tag.dosage.f32"
  done
  "$tools/f32_to_plink" pheno "$plink/linear.pheno.f64" "$plink/proteins.txt" "$plink/linear.psam" "$plink/linear.pheno.txt"
  plink2 --import-dosage "$plink/linear.dosage" noheader format=1 single-chr=1 --psam "$plink/linear.psam" \
    --make-pgen --out "$plink/linear" > /dev/null
  rm -f "$plink/linear.pheno.f64"
  echo "$export_sum" > "$plink/done"  # the inputs are valid for this export
fi

# ---------------------------------------------------------------- wait for a quiet machine
if [[ $wait_quiet -gt 0 ]]; then
  for ((i = 0; i < wait_quiet; i++)); do
    load1=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$load1" 'BEGIN {exit !(l < 1.0)}' && break
    log "1-minute load $load1 >= 1.0; waiting ($i of $wait_quiet min)"
    sleep 60
  done
fi
echo "start $(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" > "$run/load.txt"
(while :; do echo "sample $(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 10; done >> "$run/load.txt") &
sampler=$!
trap 'kill $sampler 2> /dev/null || true' EXIT

# ---------------------------------------------------------------- timed part
cat "$data/cohort.h5" > /dev/null  # every tool reads from the page cache
log "ceilings"
mark ceilings_before
for t in 1 2; do "$tools/ceilings" $t; done > "$run/ceilings_before.csv"

out=$run/pwas
log "pwas study PWAS, 1 rank x 2 threads"
mark pwas_1x2
timed pwas_1x2 "$pwas" run "$root/configs/study_pwas.toml" --cohort "$data/cohort.h5" --out "$out-1x2" --threads 2 --force --quiet
log "pwas study PWAS, 2 ranks x 1 thread"
mark pwas_2x1
timed pwas_2x1 mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 "$pwas" run "$root/configs/study_pwas.toml" \
  --cohort "$data/cohort.h5" --out "$out-2x1" --threads 1 --force --quiet
log "pwas linear direction, 1 x 2 and 2 x 1"
mark pwas_linear_1x2
timed pwas_linear_1x2 "$pwas" run "$run/linear.toml" --cohort "$data/cohort.h5" --out "$out-linear-1x2" --threads 2 --force --quiet
mark pwas_linear_2x1
timed pwas_linear_2x1 mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1 "$pwas" run "$run/linear.toml" \
  --cohort "$data/cohort.h5" --out "$out-linear-2x1" --threads 1 --force --quiet

r_pair() {  # r_pair MODE [ARGS]: two concurrent R processes, one per core, on sample_a / sample_b
  local mode=$1; shift
  local p pids=()
  for p in a b; do
    OPENBLAS_NUM_THREADS=1 timed "r_${mode}_$p" Rscript "$root/bench/r_glm_loop.R" "$mode" --data "$exp" \
      --participants "$data/sim/participants.csv" --proteins "$run/sample_$p.txt" --out "$run/r_${mode}_$p" "$@" &
    pids+=($!)
  done
  wait "${pids[@]}"
}
log "R glm loop: 2 processes x $r_sample proteins x 4 exposure/model scans"
mark r_glm
r_pair glm --warm "$r_warm"
log "R lm loop: 2 processes x $r_sample proteins"
mark r_lm
r_pair lm
if [[ $skip_limma == 0 ]]; then
  log "limma lmFit on every protein"
  mark limma
  OPENBLAS_NUM_THREADS=1 timed limma Rscript "$root/bench/r_glm_loop.R" limma --data "$exp" \
    --participants "$data/sim/participants.csv" --proteins "$exp/qc_proteins.txt" --out "$run/limma"
fi
if [[ $skip_plink == 0 ]]; then
  log "PLINK 2 --glm"
  mkdir -p "$run/plink"
  for tag in simple_isolation simple_loneliness full_isolation full_loneliness; do
    mark "plink_$tag"
    OPENBLAS_NUM_THREADS=1 timed "plink_$tag" plink2 --pfile "$plink/$tag" --pheno "$plink/$tag.pheno" \
      --covar "$plink/$tag.covar" --covar-variance-standardize --glm no-firth hide-covar cols=+a1count,+beta \
      --threads 2 --out "$run/plink/$tag" > /dev/null 2>&1
  done
  mark plink_linear
  OPENBLAS_NUM_THREADS=1 timed plink_linear plink2 --pfile "$plink/linear" --pheno "$plink/linear.pheno.txt" \
    --covar "$plink/linear.covar" --covar-variance-standardize --glm hide-covar cols=+beta \
    --threads 2 --out "$run/plink/linear" > /dev/null 2>&1
fi
log "ceilings again"
mark ceilings_after
for t in 1 2; do "$tools/ceilings" $t; done > "$run/ceilings_after.csv"
mark end
echo "end $(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" >> "$run/load.txt"
kill $sampler 2> /dev/null || true

# ---------------------------------------------------------------- checks and report
cmp -s "$out-1x2/full.tsv" "$out-2x1/full.tsv" && cmp -s "$out-1x2/simple.tsv" "$out-2x1/simple.tsv" &&
  cmp -s "$out-linear-1x2/linear.tsv" "$out-linear-2x1/linear.tsv" && echo identical > "$run/ranks_check.txt" ||
  echo different > "$run/ranks_check.txt"
peers=("$run"/r_glm_a.fits.tsv "$run"/r_glm_b.fits.tsv "$run"/r_lm_a.fits.tsv "$run"/r_lm_b.fits.tsv)
[[ $skip_limma == 0 ]] && peers+=("$run/limma.fits.tsv")
Rscript "$root/bench/compare_fits.R" --pwas "$out-1x2" --pwas-linear "$out-linear-1x2" --peers "${peers[@]}" \
  --plink "$run/plink" --out "$run/compare.csv"

{
  echo "cpu=$(lscpu | awk -F': +' '/^Model name/ {print $2; exit}')"
  echo "cores=$(nproc)"
  echo "threads_per_core=$(lscpu | awk -F': +' '/^Thread\(s\) per core/ {print $2}')"
  echo "hypervisor=$(lscpu | awk -F': +' '/^Hypervisor vendor/ {print $2}')"
  echo "l3=$(lscpu | awk -F': +' '/^L3 cache/ {print $2}')"
  echo "vector=$(grep -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "memory_gib=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "kernel=$(uname -r)"
  echo "compiler=$(c++ --version | head -1)"
  echo "build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$root/build/CMakeCache.txt")"
  echo "cxx_flags=$(awk -F= '/^CMAKE_CXX_FLAGS_RELEASE:/ {print $2}' "$root/build/CMakeCache.txt") -march=$(awk -F= '/^PWAS_ARCH:/ {print $2}' "$root/build/CMakeCache.txt")"
  echo "pwas_version=$("$pwas" --version 2>/dev/null | head -1)"
  echo "pwas_binary=copy of $root/build/engine/pwas (sha256 $(sha256sum "$pwas" | cut -c1-12), built $pwas_built)"
  echo "git=$pwas_git (when the binary was copied)"
  echo "r=$(Rscript -e 'cat(R.version.string)')"
  echo "limma=$(Rscript -e 'cat(as.character(packageVersion("limma")))')"
  echo "r_blas=$(Rscript -e 'cat(extSoftVersion()[["BLAS"]])')"
  echo "plink2=$(plink2 --version | head -1)"
  echo "openblas=$(dpkg-query -W -f '${Version}' libopenblas0-pthread 2>/dev/null)"
  echo "mpi=$(mpirun --version 2>&1 | head -1)"
  echo "n=$n"
  echo "proteins=$proteins"
  echo "r_sample=$r_sample"
  echo "r_warm=$r_warm"
  echo "seed=$seed"
  echo "run_dir=$run"
} > "$run/machine.txt"

suffix=""
[[ $n == 42062 && $proteins == 2920 ]] || suffix="_n${n}_p${proteins}"
python3 "$root/bench/study_pwas_report.py" "$run" "$results/study_pwas_$(date +%F)$suffix"
