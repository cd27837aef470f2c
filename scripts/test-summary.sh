#!/usr/bin/env bash
# After a red test run: the failed tests with their messages, then what the services of the system under test
# logged as errors, printed last so they are what a CI log's tail shows.
#   scripts/test-summary.sh <TestResults folder> <resource log folder>
set -uo pipefail
results="${1:-TestResults}"
logs="${2:-}"

echo
echo "==================== failed tests ===================="
find "$results" -name '*.trx' -print0 2>/dev/null | xargs -0 -r awk '
  function unxml(s) { gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&amp;/, "\\&", s); return s }
  /<UnitTestResult / {
    failed = ($0 ~ /outcome="Failed"/)
    if (failed) { match($0, /testName="[^"]*"/); name = unxml(substr($0, RSTART + 10, RLENGTH - 11)); print "FAILED " name }
    inmsg = 0; shown = 0
  }
  failed && /<Message>/ { inmsg = 1; sub(/.*<Message>/, "") }
  failed && inmsg {
    line = $0; done = sub(/<\/Message>.*/, "", line)
    if (shown < 4 && line != "") { print "    " unxml(line); shown++ }
    if (done) inmsg = 0
  }'

if [[ -n "$logs" && -d "$logs" ]]; then
  echo "==================== service errors (last 6 per resource, full logs in $logs) ===================="
  for f in "$logs"/*.log; do
    # Console logger lines look like "fail: Category[id]" followed by the message; strip colour codes first.
    # Health checks failing while a service starts (or is stopped on purpose by a test) are expected: left out.
    errors=$(sed -e 's/\x1b\[[0-9;]*m//g' "$f" \
      | awk '/ (fail|crit): / { if ($0 ~ /HealthChecks/) { skip = 1; next } print; keep = 1; next }
             skip { skip = 0; next }
             keep { print; keep = 0 }' \
      | cut -c1-300 | tail -n 12)
    if [[ -n "$errors" ]]; then
      echo "--- $(basename "$f" .log)"
      echo "$errors"
    fi
  done
fi
