#!/usr/bin/env bash
# Builds libossuary.so with NativeAOT (net10.0) and lays out native/out/:
#   lib/libossuary.so.1 (SONAME), lib/libossuary.so -> libossuary.so.1, include/ossuary.h, lib/pkgconfig/ossuary.pc
# so that `cc app.c $(pkg-config --cflags --libs ossuary)` works with PKG_CONFIG_PATH=native/out/lib/pkgconfig.
# libsodium 1.0.22 (from the libsodium NuGet package) goes beside it; installs what is missing (Debian packages).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"

missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v gcc >/dev/null || missing+=(gcc)
[[ -f /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
if ((${#missing[@]})); then
  source "$here/../scripts/install-packages.sh"
  install_packages "${missing[@]}"
fi

# A failed build says why in one line (the first error, without the linker's page of arguments); the whole output
# stays in the log it names.
mkdir -p "$here/build"
log="$here/build/publish.log"
build_step() { # DESCRIPTION COMMAND...
  local description=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    local cause
    cause=$(grep -E '(error|cannot find|undefined reference|No such file)' "$log" | grep -vE 'error MSB3073|collect2' | head -1 |
      sed -E 's/^ +//; s/ \[[^]]*\.csproj\]$//; s/^[^:]*\.(targets|props|csproj)\([0-9,]+\): //' | cut -c1-400)
    echo "native/build.sh: $description failed: ${cause:-see the log}; full output: $log" >&2
    exit 1
  fi
}
build_step "restoring the native project" dotnet restore "$here/OssuaryNet.Native" -r linux-x64
build_step "the NativeAOT build of libossuary" dotnet publish "$here/OssuaryNet.Native" -c Release -r linux-x64 --no-restore -o "$here/build"

rm -rf "$out"
mkdir -p "$out/lib/pkgconfig" "$out/include"
cp "$here/build/libossuary.so" "$out/lib/libossuary.so.1"
# libsodium 1.0.22 from the libsodium NuGet package, found through the library's RUNPATH ($ORIGIN).
# The path is the project's own (LibsodiumSharedLibrary), so the copy shipped is the one linked against.
cp "$(dotnet msbuild "$here/OssuaryNet.Native" -getProperty:LibsodiumSharedLibrary)" "$out/lib/libsodium.so"
ln -s libossuary.so.1 "$out/lib/libossuary.so"
cp "$here/include/ossuary.h" "$out/include/"
cat > "$out/lib/pkgconfig/ossuary.pc" <<'PC'
prefix=${pcfiledir}/../..
libdir=${prefix}/lib
includedir=${prefix}/include

Name: ossuary
Description: OssuaryNet secure channel (Noise handshakes, sans-I/O) as a C library
Version: 1.2.0
Cflags: -I${includedir}
Libs: -L${libdir} -lossuary -Wl,-rpath,${libdir}
PC
echo "built $out/lib/libossuary.so.1"
