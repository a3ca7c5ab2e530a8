#!/usr/bin/env bash
# Import speed: generates a Showcase long file of ROWS rows (and the matching RAP wide file), imports each with
# the io importer, and reports MB/s of Olink text and peak RSS (from /usr/bin/time). Needs only g++ and time.
#
#   bench/import_speed.sh [ROWS] [N_PROTEINS]        e.g. bench/import_speed.sh 30000000
#
# Options via flags: --build DIR (default build-io; the importer is DIR/tests/io/pwas_import_tool),
# --work DIR (default /tmp/pwas-import-bench; inputs are kept there for reruns), --deflate N (default 1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-io
work=/tmp/pwas-import-bench
deflate=1
positional=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --deflate) deflate=$2; shift 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
rows=${positional[0]:-30000000}
proteins=${positional[1]:-2923}
importer=$build/tests/io/pwas_import_tool
[[ -x $importer ]] || { echo "no importer at $importer: cmake --build $build -j1 --target pwas_import_tool" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

data=$work/$rows-$proteins
mkdir -p "$data"
if [[ ! -s $data/olink_data.txt ]]; then
  g++ -O2 -std=c++20 -o "$work/gen_olink" "$root/bench/gen_olink.cpp"
  echo "generating $rows rows x $proteins proteins in $data"
  "$work/gen_olink" "$data" "$rows" "$proteins"
fi

run() {  # run FORMAT FILE [--coding FILE]: prints one CSV line
  local format=$1 file=$2; shift 2
  local log=$work/time-$format.txt
  sync
  cat "$file" > /dev/null  # from page cache, like the measurements in shared/recipes.md
  /usr/bin/time -v -o "$log" "$importer" --participants "$data/participants.csv" --olink "$file" "$@" \
    --missing-codes -1,-3 --force-categorical centre --deflate "$deflate" --out "$work/cohort-$format.h5" > "$work/report-$format.txt"
  local bytes seconds rss
  bytes=$(stat -c %s "$file")
  seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  awk -v f="$format" -v r="$rows" -v b="$bytes" -v s="$seconds" -v m="$rss" \
    'BEGIN {printf "%s,%.0f,%.0f,%.2f,%.1f,%.0f\n", f, r, b, s, b / 1e6 / s, m / 1024}'
}

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "# machine: $(nproc) cores, $cpu; load average before: $(cut -d' ' -f1-3 /proc/loadavg); deflate=$deflate"
echo "format,rows,bytes,seconds,MB_per_s,peak_rss_MB"
run long "$data/olink_data.txt" --coding "$data/coding143.tsv"
run wide "$data/olink_instance_0.csv" --coding "$data/coding143.tsv"
echo "# reports: $work/report-long.txt $work/report-wide.txt"
