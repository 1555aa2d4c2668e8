#!/usr/bin/env bash
# Coverage-guided fuzzing of OssuaryNet's parsers with afl-fuzz (Debian's afl++) through SharpFuzz.
#   scripts/fuzz.sh TARGET SECONDS      targets: frames, extensions, records, datagrams (tests/OssuaryNet.Fuzz/Targets.cs)
# Installs what is missing, publishes the fuzzing project, instruments OssuaryNet.dll, and runs afl-fuzz from the
# seed corpus in tests/OssuaryNet.Fuzz/corpus/TARGET for SECONDS. Findings go to artifacts/fuzz/TARGET; the script
# exits 1 if afl-fuzz saved any crash or hang, printing how to replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}

if ! command -v afl-fuzz >/dev/null; then
  source scripts/install-packages.sh
  install_packages afl++
fi
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v sharpfuzz >/dev/null; then
  echo "installing: SharpFuzz.CommandLine 2.3.0"
  dotnet tool install -g SharpFuzz.CommandLine --version 2.3.0 >/dev/null || { echo "error: could not install the sharpfuzz tool" >&2; exit 1; }
fi

out=artifacts/fuzz/$target
bin=artifacts/fuzz/bin
rm -rf "$out" && mkdir -p "$out"
# The instrumented build is reused while no source it contains has changed since it was made.
if [[ ! -f $bin/.instrumented ]] || [[ -n $(find src/OssuaryNet tests/OssuaryNet.Fuzz tests/OssuaryNet.Tests -name '*.cs' -newer "$bin/.instrumented" -print -quit) ]]; then
  rm -rf "$bin"
  dotnet publish tests/OssuaryNet.Fuzz -c Release -o "$bin" --verbosity quiet >/dev/null
  sharpfuzz "$bin/OssuaryNet.dll" >/dev/null
  touch "$bin/.instrumented"
fi

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1
# -t: .NET starts slowly and a record target runs a handshake; -m none: the runtime reserves much address space.
afl-fuzz -V "$seconds" -t 5000 -m none -i "tests/OssuaryNet.Fuzz/corpus/$target" -o "$out" \
  dotnet "$bin/OssuaryNet.Fuzz.dll" "$target" >"$out/afl.log" 2>&1 || { tail -30 "$out/afl.log"; echo "error: afl-fuzz failed" >&2; exit 1; }

stats=$out/default/fuzzer_stats
execs=$(sed -n 's/^execs_done *: *//p' "$stats")
paths=$(sed -n 's/^corpus_count *: *//p' "$stats")
crashes=$(find "$out/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$out/default/hangs" -type f -name 'id:*' | wc -l)
echo "fuzz $target: $execs executions in ${seconds}s, $paths inputs in the corpus, $crashes crashes, $hangs hangs"
if ((crashes + hangs > 0)); then
  # Replay with the uninstrumented build: the instrumented one needs afl's shared memory.
  echo "replay with: dotnet build -c Release tests/OssuaryNet.Fuzz && dotnet tests/OssuaryNet.Fuzz/bin/Release/net10.0/OssuaryNet.Fuzz.dll --replay $target $out/default/crashes/id:* $out/default/hangs/id:*" >&2
  exit 1
fi
