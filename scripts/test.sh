#!/usr/bin/env bash
# Runs the whole OssuaryNet test suite on a fresh machine: installs what is missing, runs the .NET tests (xunit and
# FsCheck; the CLI end to end), then the C ABI's tests (interop/run-tests.sh: NativeAOT build, C, Python and
# cross-language conversations), and prints a closing "N passed, N failed" line. Exits non-zero on any failure, any
# skipped test, or if no test ran. The console gets progress and failures; artifacts/test.log gets every line.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "error: the .NET SDK (dotnet) is not installed: see https://dot.net (version 10)" >&2; exit 1; }
dotnet --list-sdks | grep -q '^10\.' || { echo "error: the .NET 10 SDK is needed; dotnet --list-sdks shows: $(dotnet --list-sdks | tr '\n' ' ')" >&2; exit 1; }
# The interop tests need a C compiler, make and Python; native/build.sh installs the rest of what it needs.
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v make >/dev/null || missing+=(make)
command -v gcc >/dev/null || missing+=(gcc)
if ((${#missing[@]})); then
  source scripts/install-packages.sh
  install_packages "${missing[@]}"
fi

# The console shows progress (each test assembly and phase, failures at once, a running count, a line every 30 s of
# a long test); every line of both runs, each test's included, goes to the log.
results=artifacts/test-results
log=artifacts/test.log
rm -rf "$results"
mkdir -p artifacts
: >"$log"
echo "every line of this run goes to $log"
echo "building and running the .NET tests"
status=0
set +e
dotnet test OssuaryNet.sln -c Release --logger "console;verbosity=normal" --logger "trx;LogFileName=results.trx" \
  --results-directory "$results" 2>&1 | python3 scripts/test-progress.py "$log"
status=${PIPESTATUS[0]}
set -e

trx="$results/results.trx"
if [[ ! -f $trx ]]; then
  echo "error: no test results were written" >&2
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
field() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
passed=$(field passed); failed=$(field failed); total=$(field total); executed=$(field executed)
skipped=$((total - executed))
echo "dotnet: $passed passed, $failed failed, $skipped skipped"
if ((status != 0 && failed == 0)); then
  echo "error: dotnet test exited with status $status although no test failed: the run was aborted (a crashed test host?); see $log" >&2
fi
if ((executed == 0)); then
  echo "error: no test was executed" >&2
  exit 1
fi
if ((skipped > 0)); then
  # Only a Debug build skips (the allocation test needs optimized code); this script runs Release, where nothing may.
  echo "error: $skipped tests were skipped; every test must run here" >&2
  status=1
fi

# The C ABI: NativeAOT library, C test program, Python binding, C/.NET/Python conversations over loopback.
interop_log=artifacts/interop.log
: >"$interop_log"
echo "building and running the C ABI's tests (interop/run-tests.sh)"
set +e
interop/run-tests.sh 2>&1 | tee -a "$log" | python3 scripts/test-progress.py "$interop_log"
interop_status=${PIPESTATUS[0]}
set -e
interop_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$interop_log" | tail -1 || true)
interop_passed=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$interop_line")
interop_failed=$(sed -n 's/.* \([0-9]*\) failed$/\1/p' <<<"$interop_line")
if [[ -z $interop_line ]]; then
  echo "error: the interop tests did not report a result" >&2
  interop_failed=1
fi
echo "interop: ${interop_passed:-0} passed, ${interop_failed:-1} failed"

# Failures are repeated at the end, where a CI log's tail shows them, with the first lines of each message.
if ((failed > 0)); then
  echo "failed .NET tests:"
  python3 - "$trx" <<'PY'
import sys, xml.etree.ElementTree as tree
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for result in tree.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if result.get("outcome") != "Failed":
        continue
    print("  FAILED " + result.get("testName"))
    message = result.find("t:Output/t:ErrorInfo/t:Message", ns)
    for line in (message.text or "").splitlines()[:12] if message is not None else []:
        print("    " + line)
PY
fi
grep -E '^(FAIL|not ok)' "$interop_log" | sed 's/^/  interop: /' || true

echo "$((passed + ${interop_passed:-0})) passed, $((failed + ${interop_failed:-1})) failed"
if ((status != 0)); then exit "$status"; fi
exit "$interop_status"
