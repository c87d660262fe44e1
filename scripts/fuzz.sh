#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a bounded time each.
# Usage: scripts/fuzz.sh [DURATION]   (default 30s per target)
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-30s}"
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $f ($t)"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" "$pkg" 2>&1 | grep -E 'fuzz: elapsed|PASS|FAIL|ok|---' | tail -3
  done
done
