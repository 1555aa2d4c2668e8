#!/usr/bin/env bash
# The C ABI's tests: builds libossuary.so (NativeAOT) and the C programs, checks the library's run-time dependencies,
# runs the C test program and the Python tests, then has C, .NET and Python talk over loopback TCP in both handshake
# modes (first contact XX, pinned IK), comparing SHA-256 of everything sent each way.
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

native/build.sh
make -s -C interop/c

# The library needs nothing at run time beyond the C runtime and the libsodium 1.0.22 shipped beside it, which the
# loader must take through RUNPATH $ORIGIN even where a system libsodium (Debian's 1.0.18) is installed.
deps=$(ldd native/out/lib/libossuary.so.1 | awk '{print $1}' | sed 's/\.so.*//' | sort -u | tr '\n' ' ')
unexpected=$(tr ' ' '\n' <<<"$deps" | grep -vE '^(linux-vdso|/lib64/ld-linux-x86-64|libc|libm|libz|libdl|libpthread|librt|libgcc_s|libstdc\+\+|libsodium)?$' || true)
if [[ -z $unexpected ]]; then pass "ldd: only system C libraries and libsodium ($deps)"; else fail "ldd: unexpected run-time dependencies: $unexpected"; fi
sodium=$(ldd native/out/lib/libossuary.so.1 | awk '$1 == "libsodium.so" {print $3}')
if [[ $sodium == "$root/native/out/lib/libsodium.so" ]]; then pass "libsodium resolves to the copy beside the library ($sodium)"; else fail "libsodium resolves to '$sodium', not the copy in native/out/lib"; fi
if nm -D native/out/lib/libossuary.so.1 | grep -q ' T crypto_'; then fail "libsodium symbols are exported"; else pass "libsodium is internal (no crypto_* exports)"; fi

# With every system libsodium hidden (bind-mounted over with /dev/null in a private mount namespace), the C test
# program must still pass: the library needs no system libsodium at all.
hide='for f in /usr/lib/x86_64-linux-gnu/libsodium.so* /usr/lib/libsodium.so*; do [ -e "$f" ] && mount --bind /dev/null "$f"; done; exec "$@"'
if unshare -m sh -c "$hide" sh interop/c/build/ossuary_test >/dev/null 2>&1; then
  pass "the C test program passes with the system libsodium hidden"
else
  fail "the C test program fails with the system libsodium hidden (needs root for unshare -m)"
fi

# The C test program prints its own "N passed, N failed".
c_summary=$(interop/c/build/ossuary_test | tail -1)
c_passed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$c_summary")
c_failed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$c_summary")
echo "C test program: $c_summary"
passed=$((passed + ${c_passed:-0}))
failed=$((failed + ${c_failed:-1}))

py_log=$(mktemp)
if (cd interop/python && OSSUARY_C_SERVER="$root/interop/c/build/server" python3 -m unittest -v test_ossuary) >"$py_log" 2>&1; then py_ok=1; else py_ok=0; fi
py_total=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$py_log")
py_bad=$(grep -cE ' \.\.\. (FAIL|ERROR)$' "$py_log" || true)
grep -E ' \.\.\. ' "$py_log" | sed 's/^/python: /'
if ((py_ok == 0)); then tail -30 "$py_log"; py_bad=$((py_bad > 0 ? py_bad : 1)); fi
passed=$((passed + ${py_total:-0} - py_bad))
failed=$((failed + py_bad))

# Cross-language conversations with the .NET side played by the ossuary CLI.
dotnet build src/OssuaryNet.Cli -c Release --verbosity quiet >/dev/null
ossuary=(dotnet "$root/src/OssuaryNet.Cli/bin/Release/net10.0/ossuary.dll")
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export HOME="$work/home"
mkdir -p "$HOME"
head -c 3000000 /dev/urandom >"$work/a"
head -c 2000000 /dev/urandom >"$work/b"

wait_for() { # FILE PATTERN: prints the first match group once it appears
  for _ in $(seq 1 600); do
    if line=$(grep -oE "$2" "$1" 2>/dev/null | head -1) && [[ -n $line ]]; then echo "$line"; return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; return 1
}

same() { [[ $(sha256sum <"$1" | cut -d' ' -f1) == $(sha256sum <"$2" | cut -d' ' -f1) ]]; }

c_client_dotnet_server() { # MODE (xx|ik)
  "${ossuary[@]}" listen 0 --bind 127.0.0.1 <"$work/a" >"$work/server.out" 2>"$work/server.err" &
  local server=$!
  local port key=()
  port=$(wait_for "$work/server.err" 'listening on 127\.0\.0\.1:[0-9]+' | sed 's/.*://')
  [[ $1 == ik ]] && key=("$("${ossuary[@]}" id | awk '/public key/ {print $3}')")
  interop/c/build/client 127.0.0.1 "$port" "${key[@]}" <"$work/b" >"$work/client.out" 2>"$work/client.err"
  wait $server
  same "$work/a" "$work/client.out" && same "$work/b" "$work/server.out"
}

dotnet_client_c_server() { # MODE (xx|ik)
  interop/c/build/server 0 <"$work/a" >"$work/server.out" 2>"$work/server.err" &
  local server=$!
  local line port key trust
  line=$(wait_for "$work/server.err" 'listening on 127\.0\.0\.1:[0-9]+ key [A-Za-z0-9+/=]+')
  port=$(sed -E 's/.*:([0-9]+) key.*/\1/' <<<"$line")
  key=$(sed -E 's/.* key //' <<<"$line")
  if [[ $1 == ik ]]; then trust=(--peer "$key"); else trust=(--tofu accept --known-hosts "$work/kh-$port"); fi
  "${ossuary[@]}" connect "127.0.0.1:$port" "${trust[@]}" -v <"$work/b" >"$work/client.out" 2>"$work/client.err"
  wait $server
  grep -q "protocol Noise_$([[ $1 == ik ]] && echo IK || echo XX)_" "$work/client.err" &&
    same "$work/a" "$work/client.out" && same "$work/b" "$work/server.out"
}

for mode in xx ik; do
  if c_client_dotnet_server $mode; then pass "C client -> .NET server ($mode)"; else fail "C client -> .NET server ($mode)"; cat "$work"/*.err; fi
  if dotnet_client_c_server $mode; then pass ".NET client -> C server ($mode)"; else fail ".NET client -> C server ($mode)"; cat "$work"/*.err; fi
done

echo "$passed passed, $failed failed"
((failed == 0))
