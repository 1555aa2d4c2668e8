#!/usr/bin/env bash
# Runs the whole OssuaryNet test suite on a fresh machine: installs what is missing, builds, tests, and prints a
# closing "N passed, N failed" line. Exits non-zero if anything fails or if no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ldconfig -p | grep -q 'libsodium\.so\.23' || need_apt+=(libsodium23)
if ((${#need_apt[@]})); then
  echo "installing: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
command -v dotnet >/dev/null || { echo "error: the .NET SDK (dotnet) is not installed" >&2; exit 1; }

results=artifacts/test-results
rm -rf "$results"
status=0
dotnet test OssuaryNet.sln --logger "console;verbosity=normal" --logger "trx;LogFileName=results.trx" \
  --results-directory "$results" || status=$?

trx="$results/results.trx"
if [[ ! -f $trx ]]; then
  echo "error: no test results were written" >&2
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
field() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
passed=$(field passed); failed=$(field failed); total=$(field total); executed=$(field executed)
skipped=$((total - executed))
echo "$passed passed, $failed failed, $skipped skipped"
if ((executed == 0)); then
  echo "error: no test was executed" >&2
  exit 1
fi
exit "$status"
