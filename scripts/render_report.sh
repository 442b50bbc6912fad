#!/usr/bin/env bash
# Render a run's report.html to a PNG screenshot with headless chromium (no network, throwaway profile).
#
#   scripts/render_report.sh RUN_DIR [OUT.png]
#
# OUT.png defaults to RUN_DIR/report.png. If RUN_DIR/report.html is missing it is written first with
# pinngen.report.write_report (using $PYTHON, default python3). Env: CHROMIUM (default /usr/bin/chromium),
# WINDOW_SIZE (default 1280,4000), TIMEOUT seconds (default 120).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 RUN_DIR [OUT.png]" >&2
  exit 2
fi
run_dir=$1
[[ -d "$run_dir" ]] || { echo "error: run folder not found: $run_dir" >&2; exit 1; }
run_dir=$(cd "$run_dir" && pwd)
out=${2:-$run_dir/report.png}
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
chromium=${CHROMIUM:-/usr/bin/chromium}
[[ -x "$chromium" ]] || { echo "error: chromium not found at $chromium (apt-get install chromium)" >&2; exit 1; }

if [[ ! -f "$run_dir/report.html" ]]; then
  "${PYTHON:-python3}" -c 'import sys; from pinngen.report import write_report; write_report(sys.argv[1])' "$run_dir"
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
timeout "${TIMEOUT:-120}" "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$profile" --screenshot="$out" --window-size="${WINDOW_SIZE:-1280,4000}" \
  "file://$run_dir/report.html" >"$profile/chromium.log" 2>&1 || true
if [[ ! -s "$out" ]]; then
  echo "error: chromium wrote no screenshot to $out; its log ends:" >&2
  tail -n 20 "$profile/chromium.log" >&2
  exit 1
fi
echo "$out"
