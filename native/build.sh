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

dotnet restore "$here/OssuaryNet.Native" -r linux-x64 --verbosity quiet
dotnet publish "$here/OssuaryNet.Native" -c Release -r linux-x64 --no-restore -o "$here/build" --verbosity quiet

rm -rf "$out"
mkdir -p "$out/lib/pkgconfig" "$out/include"
cp "$here/build/libossuary.so" "$out/lib/libossuary.so.1"
# libsodium 1.0.22 from the libsodium NuGet package, found through the library's RUNPATH ($ORIGIN).
cp "${NUGET_PACKAGES:-$HOME/.nuget/packages}/libsodium/1.0.22/runtimes/linux-x64/native/libsodium.so" "$out/lib/libsodium.so"
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
