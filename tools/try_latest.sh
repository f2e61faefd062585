#!/usr/bin/env bash
# Try the newest releases of every dependency, and report what breaks.
#
#   bash tools/try_latest.sh           # a fresh venv with today's newest versions, the whole test suite, a report
#   bash tools/try_latest.sh --write   # the same, and when it passes, constraints.txt becomes those versions
#
# CI installs from constraints.txt (versions known to pass), so a new release upstream cannot turn it red overnight;
# this script is how the pins move on, on purpose. Users installing vislab from PyPI get the ranges of pyproject.toml.
set -uo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv-latest}
rm -rf "$venv" && python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q --upgrade --upgrade-strategy eager -e ".[dev]" || { echo "try_latest: the install itself fails"; exit 1; }
"$venv/bin/pip" freeze --exclude-editable | grep -v '^#' | sort -f > "$venv/freeze.txt"
echo "== versions that differ from constraints.txt (pinned -> newest)"
join -t= -i <(grep -v '^#' constraints.txt | sed 's/==/=/' | sort -f -t= -k1,1) <(sed 's/==/=/' "$venv/freeze.txt" | sort -f -t= -k1,1) \
  | awk -F= '$2 != $3 {printf "  %-28s %s -> %s\n", $1, $2, $3}'
echo "== the test suite on the newest versions (log: $venv/test.log)"
PATH="$PWD/$venv/bin:$PATH" bash tools/test.sh > "$venv/test.log" 2>&1; rc=$?
if [ $rc -ne 0 ]; then
  echo "try_latest: FAILED (exit $rc); what broke:"
  grep -E "Error|FAILED|failed|Exception" "$venv/test.log" | grep -v "^ " | sort | uniq -c | sort -rn | head -40
  exit $rc
fi
echo "try_latest: the whole suite passes on the newest versions"
if [ "${1:-}" = "--write" ]; then { grep '^#' constraints.txt; cat "$venv/freeze.txt"; } > "$venv/c.txt" && mv "$venv/c.txt" constraints.txt && echo "constraints.txt updated: commit it"; fi
