#!/usr/bin/env bash
# The C ABI's tests: builds libossuary.so (NativeAOT) and the C programs, checks the library's run-time dependencies,
# runs the C test programs and the Python tests, then has C, .NET and Python talk over loopback TCP (first contact
# XX and pinned IK, each classical and post-quantum hybrid) and UDP (datagram mode, XX and IK), comparing SHA-256 of
# everything sent each way.
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# CI images often set NUGET_PACKAGES without its trailing slash; the library is built that way here, so that such a
# setting keeps working (the project once joined the folder and "libsodium" without a separator).
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}
echo "== building libossuary (NativeAOT) and the C programs"
NUGET_PACKAGES=${packages%/} native/build.sh
pass "the native build works with NUGET_PACKAGES=${packages%/} (no trailing slash)"
make -s -C interop/c

echo "== checking the library's dependencies and exports"
# The library needs nothing at run time beyond the C runtime and the libsodium 1.0.22 shipped beside it, which the
# loader must take through RUNPATH $ORIGIN even where a system libsodium (Debian's 1.0.18) is installed.
deps=$(ldd native/out/lib/libossuary.so.1 | awk '{print $1}' | sed 's/\.so.*//' | sort -u | tr '\n' ' ')
unexpected=$(tr ' ' '\n' <<<"$deps" | grep -vE '^(linux-vdso|/lib64/ld-linux-x86-64|libc|libm|libz|libdl|libpthread|librt|libgcc_s|libstdc\+\+|libsodium)?$' || true)
if [[ -z $unexpected ]]; then pass "ldd: only system C libraries and libsodium ($deps)"; else fail "ldd: unexpected run-time dependencies: $unexpected"; fi
sodium=$(ldd native/out/lib/libossuary.so.1 | awk '$1 == "libsodium.so" {print $3}')
if [[ $sodium == "$root/native/out/lib/libsodium.so" ]]; then pass "libsodium resolves to the copy beside the library ($sodium)"; else fail "libsodium resolves to '$sodium', not the copy in native/out/lib"; fi
if nm -D native/out/lib/libossuary.so.1 | grep -q ' T crypto_'; then fail "libsodium symbols are exported"; else pass "libsodium is internal (no crypto_* exports)"; fi

# With every system libsodium hidden (bind-mounted over with /dev/null in a private mount namespace), the C test
# program must still pass: the library needs no system libsodium at all. Root gets the mount namespace alone; any
# other user also a user namespace in which it may mount (unshare -r), with the same mounts.
# A mount that fails ends the check (a test that ran with libsodium visible would prove nothing).
hide='for f in /usr/lib/x86_64-linux-gnu/libsodium.so* /usr/lib/libsodium.so*; do if [ -e "$f" ]; then mount --bind /dev/null "$f" || exit 1; fi; done; exec "$@"'
if ((EUID == 0)); then isolate=(unshare --mount); else isolate=(unshare --map-root-user --mount); fi
if "${isolate[@]}" sh -c "$hide" sh interop/c/build/ossuary_test >"$work/hidden.log" 2>&1; then
  pass "the C test program passes with the system libsodium hidden (${isolate[*]})"
else
  fail "the C test program fails with the system libsodium hidden (${isolate[*]}): $(tail -1 "$work/hidden.log")"
fi

# Every function ossuary.h declares is exported (a declaration without its export links in C and fails at run time).
declared=$(grep -oE '^OSSUARY_EXPORT [^(]*\bossuary_[a-z0-9_]+\(' native/include/ossuary.h | grep -oE 'ossuary_[a-z0-9_]+\($' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only native/out/lib/libossuary.so.1 | awk '{print $3}' | sed 's/@.*//' | grep '^ossuary_' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported") | tr '\n' ' ')
undeclared=$(comm -13 <(echo "$declared") <(echo "$exported") | tr '\n' ' ')
if [[ -z $missing && -z $undeclared ]]; then pass "all $(wc -l <<<"$declared") functions of ossuary.h are exported, and nothing else"; else fail "ossuary.h and the exports differ: missing [$missing] undeclared [$undeclared]"; fi

echo "== the C test programs"
# The C test programs print their own "N passed, N failed".
for program in ossuary_test ossuary_dgram_test; do
  c_summary=$(interop/c/build/$program | tail -1)
  c_passed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$c_summary")
  c_failed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$c_summary")
  echo "C test program $program: $c_summary"
  passed=$((passed + ${c_passed:-0}))
  failed=$((failed + ${c_failed:-1}))
done

echo "== the Python binding's tests"
py_log=$(mktemp)
if (cd interop/python && OSSUARY_C_SERVER="$root/interop/c/build/server" python3 -m unittest -v test_ossuary) >"$py_log" 2>&1; then py_ok=1; else py_ok=0; fi
py_total=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$py_log")
py_bad=$(grep -cE ' \.\.\. (FAIL|ERROR)$' "$py_log" || true)
grep -E ' \.\.\. ' "$py_log" | sed 's/^/python: /'
if ((py_ok == 0)); then tail -30 "$py_log"; py_bad=$((py_bad > 0 ? py_bad : 1)); fi
passed=$((passed + ${py_total:-0} - py_bad))
failed=$((failed + py_bad))

echo "== C, .NET and Python conversations over TCP"
# Cross-language conversations with the .NET side played by the ossuary CLI.
dotnet build src/OssuaryNet.Cli -c Release --verbosity quiet >/dev/null
ossuary=(dotnet "$root/src/OssuaryNet.Cli/bin/Release/net10.0/ossuary.dll")
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

check() { # NAME COMMAND...: one result line, and the logs after a failure
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; cat "$work"/*.err; fi
}

c_server_address() { # LOG: waits for a C example server's "listening on 127.0.0.1:PORT key KEY" and prints "PORT KEY"
  wait_for "$1" 'listening on 127\.0\.0\.1:[0-9]+ key [A-Za-z0-9+/=]+' | sed -E 's/.*:([0-9]+) key (.*)/\1 \2/'
}

cli_trust() { # MODE KEY KNOWN_HOSTS: sets the array trust, the ossuary client's trust in a C server (pinned for IK)
  if [[ $1 == ik ]]; then trust=(--peer "$2"); else trust=(--tofu accept --known-hosts "$3"); fi
}

c_client_dotnet_server() { # MODE (xx|ik) PQ (off|preferred): the C client's post-quantum policy
  "${ossuary[@]}" listen 0 --bind 127.0.0.1 -v <"$work/a" >"$work/server.out" 2>"$work/server.err" &
  local server=$!
  local port key=()
  port=$(wait_for "$work/server.err" 'listening on 127\.0\.0\.1:[0-9]+' | sed 's/.*://')
  [[ $1 == ik ]] && key=("$("${ossuary[@]}" id | awk '/public key/ {print $3}')")
  interop/c/build/client --pq "$2" 127.0.0.1 "$port" "${key[@]}" <"$work/b" >"$work/client.out" 2>"$work/client.err"
  wait $server
  grep -q "protocol Noise_$(pattern_of "$1" "$2")_" "$work/server.err" &&
    same "$work/a" "$work/client.out" && same "$work/b" "$work/server.out"
}

pattern_of() { # MODE PQ: the Noise pattern name they give (the .NET side prefers the hybrid handshake)
  local name=${1^^}
  [[ $2 == off ]] && echo "$name" || echo "${name}hfs"
}

dotnet_client_c_server() { # MODE (xx|ik) PQ (off|preferred): the C server's post-quantum policy
  interop/c/build/server --pq "$2" 0 <"$work/a" >"$work/server.out" 2>"$work/server.err" &
  local server=$!
  local port key trust
  read -r port key < <(c_server_address "$work/server.err")
  cli_trust "$1" "$key" "$work/kh-$port"
  # A classical C server is met with the .NET side's classical policy: the C example serves one connection, so the
  # first-contact fallback (a second connection) has nobody to talk to.
  "${ossuary[@]}" connect "127.0.0.1:$port" "${trust[@]}" --pq "$2" -v <"$work/b" >"$work/client.out" 2>"$work/client.err"
  wait $server
  grep -q "protocol Noise_$(pattern_of "$1" "$2")_" "$work/client.err" &&
    same "$work/a" "$work/client.out" && same "$work/b" "$work/server.out"
}

for mode in xx ik; do
  for pq in off preferred; do
    label="$mode, $(pattern_of $mode $pq)"
    check "C client -> .NET server ($label)" c_client_dotnet_server $mode $pq
    check ".NET client -> C server ($label)" dotnet_client_c_server $mode $pq
  done
done

echo "== C and .NET conversations over UDP (datagram mode)"
# Datagram mode over UDP. C initiator -> .NET responder: interop/c/dgram_client through `ossuary udp-serve` to a plain
# UDP echo service; .NET initiator -> C responder: a plain UDP sender through `ossuary udp-forward` to
# interop/c/dgram_server, which echoes. Everything echoed must match what was sent (SHA-256).
head -c 400000 /dev/urandom >"$work/d"

c_dgram_client_dotnet_server() { # MODE (xx|ik) PQ (off|preferred): both sides' post-quantum policy
  python3 interop/plain_udp.py echo >"$work/echo.out" 2>&1 &
  local echo=$! echo_port port key=()
  echo_port=$(wait_for "$work/echo.out" 'echo on [0-9]+' | sed 's/.* //')
  "${ossuary[@]}" udp-serve --listen 127.0.0.1:0 --to "127.0.0.1:$echo_port" --accept-any --pq "$2" -v 2>"$work/serve.err" &
  local serve=$!
  port=$(wait_for "$work/serve.err" 'serving udp 127\.0\.0\.1:[0-9]+' | sed 's/.*://')
  [[ $1 == ik ]] && key=("$("${ossuary[@]}" id | awk '/public key/ {print $3}')")
  local ok=0
  timeout 60 interop/c/build/dgram_client --label ossuary-tunnel/1 --pq "$2" 127.0.0.1 "$port" "${key[@]}" <"$work/d" >"$work/dgram.out" 2>"$work/dgram.err" && same "$work/d" "$work/dgram.out" && ok=1
  kill $serve $echo 2>/dev/null; wait $serve $echo 2>/dev/null
  ((ok)) && grep -q ", $(pattern_of "$1" "$2"))" "$work/serve.err" &&
    if [[ $1 == xx ]]; then grep -q 'server presents fingerprint' "$work/dgram.err"; fi
}

dotnet_dgram_client_c_server() { # MODE (xx|ik) PQ (off|preferred): both sides' post-quantum policy
  interop/c/build/dgram_server --label ossuary-tunnel/1 --pq "$2" 0 2>"$work/dserver.err" &
  local server=$! port key trust
  read -r port key < <(c_server_address "$work/dserver.err")
  cli_trust "$1" "$key" "$work/dkh-$port"
  "${ossuary[@]}" udp-forward --listen 127.0.0.1:0 --to "127.0.0.1:$port" "${trust[@]}" --pq "$2" 2>"$work/forward.err" &
  local forward=$! local_port ok=0
  local_port=$(wait_for "$work/forward.err" 'forwarding udp 127\.0\.0\.1:[0-9]+' | sed 's/.*://')
  timeout 60 python3 interop/plain_udp.py send 127.0.0.1 "$local_port" <"$work/d" >"$work/plain.out" 2>"$work/plain.err" && same "$work/d" "$work/plain.out" && ok=1
  kill $forward $server 2>/dev/null; wait $forward $server 2>/dev/null
  ((ok)) && grep -q '^client ' "$work/dserver.err" && grep -q "^accepted connection [0-9]* ($(pattern_of "$1" "$2"))" "$work/dserver.err"
}

for mode in xx ik; do
  for pq in off preferred; do
    label="$mode, $(pattern_of $mode $pq)"
    check "UDP: C datagram client -> .NET udp-serve ($label)" c_dgram_client_dotnet_server $mode $pq
    check "UDP: .NET udp-forward -> C datagram server ($label)" dotnet_dgram_client_c_server $mode $pq
  done
done

echo "$passed passed, $failed failed"
((failed == 0))
