#!/usr/bin/env bash
# Publishes `coffer` self-contained for Linux: a directory holding the executable `coffer`, its
# assemblies and the .NET runtime, which runs on a machine without .NET (docs/install.md).
#   packaging/publish.sh [linux-x64|linux-arm64] [OUTPUT_DIR]
# OUTPUT_DIR defaults to .build/publish/<rid>. Needs the .NET 10 SDK and the runtime packs
# Microsoft.NETCore.App.Runtime.<rid> and Microsoft.AspNetCore.App.Runtime.<rid> from the
# package feed (restored on first use). COFFER_BUILD_DIR, if set, is the build folder to reuse.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rid="${1:-linux-x64}"
case "$rid" in
  linux-x64 | linux-arm64) ;;
  *) echo "publish.sh: the runtime must be linux-x64 or linux-arm64, not '$rid'." >&2; exit 2 ;;
esac
out="${2:-$root/.build/publish/$rid}"
# A new publish replaces an old one whole, so no file of an older build ends up in a package; a
# directory that holds something else is refused rather than emptied.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
  [ -f "$out/coffer.deps.json" ] || { echo "publish.sh: $out holds files that are not a Coffer publish; choose another directory." >&2; exit 1; }
  rm -rf "$out"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Only coffer itself is built for the runtime: its libraries are runtime-neutral, so a build folder
# that already holds them (COFFER_BUILD_DIR) is reused rather than compiled again.
# One directory rather than a single file: native libraries (SQLite, the OpenSSL shim) stay files
# the loader maps, nothing is extracted at start, and ProtectSystem=strict has nothing to write.
# English messages only: no folder of translated resources per language.
dotnet publish "$root/src/Coffer.Cli/Coffer.Cli.csproj" -c Release -r "$rid" --self-contained \
  -p:SatelliteResourceLanguages=en -o "$out" --nologo -v quiet -clp:ErrorsOnly
echo "$out"
