#!/usr/bin/env bash
# Installs the system tools authbench needs, from Debian packages, only when
# they are missing: valgrind (instruction counts for `bench gate --measure
# instructions`) and chromium (the report's browser test). Idempotent: on a
# machine that has them it only checks. `make test` and `make bench` call it.
#
# Usage: scripts/tools.sh [TOOL...]   (default: all)
# Exit status 1 with a message saying how to install what could not be.
set -euo pipefail

declare -A pkg=([valgrind]=valgrind [chromium]=chromium)
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(valgrind chromium)

missing=()
for t in "${want[@]}"; do
  [ -n "${pkg[$t]:-}" ] || { echo "tools.sh: unknown tool $t (known: ${!pkg[*]})" >&2; exit 2; }
  command -v "$t" >/dev/null 2>&1 || missing+=("${pkg[$t]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tools.sh: installing ${missing[*]} (Debian packages)" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "tools.sh: no apt-get here; install ${missing[*]} with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null; then
  echo "tools.sh: could not install ${missing[*]}: run 'apt-get update && apt-get install ${missing[*]}' as root" >&2
  exit 1
fi
for t in "${want[@]}"; do
  command -v "$t" >/dev/null 2>&1 || { echo "tools.sh: $t still missing after installing ${pkg[$t]}" >&2; exit 1; }
done
