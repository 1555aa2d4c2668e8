#!/usr/bin/env bash
# Builds the documentation site into artifacts/site/: the API reference generated from the XML documentation of the
# OssuaryNet and OssuaryNet.AspNetCore packages, the getting-started pages (docs/getting-started/), docs/PROTOCOL.md,
# README.md and SECURITY.md. docfx runs as a local .NET tool (dotnet-tools.json) and treats every warning as an error,
# so the build fails on a broken link, a missing bookmark or an unresolved cross-reference (<xref:...>, cref).
# Open artifacts/site/docs/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "error: the .NET SDK (dotnet) is not installed: see https://dot.net (version 10)" >&2; exit 1; }
dotnet tool restore >/dev/null || { echo "error: 'dotnet tool restore' could not install docfx (see dotnet-tools.json)" >&2; exit 1; }
rm -rf docs/api artifacts/site
log=artifacts/docs.log
mkdir -p artifacts
# docfx loads the projects with MSBuild (Release, as the tests build them) and reads the XML documentation from them.
if ! dotnet docfx docfx.json --warningsAsErrors > "$log" 2>&1; then
  grep -E "(warning|error)( [A-Za-z]+)?:" "$log" | sed 's/^/  /' >&2 || tail -30 "$log" >&2
  echo "error: the documentation has broken links or references (above; full log: $log)" >&2
  exit 1
fi
pages=$(find artifacts/site -name '*.html' | wc -l)
echo "docs: $pages pages in artifacts/site, no broken link or reference (open artifacts/site/docs/index.html)"
