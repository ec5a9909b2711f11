#!/usr/bin/env bash
# Runs every Coffer test: installs what is missing, builds once, runs all test projects, and ends
# with one line "N passed, N failed" (totals over all test projects), which CI reads.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

# --- prerequisites -------------------------------------------------------------------------
need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)     # encrypted unseal shares are opened by gpg in tests
/usr/bin/python3 -c 'import botocore' >/dev/null 2>&1 || need+=(python3-botocore)
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)   # the PKCS#11 backend's tests run on SoftHSM2
command -v pkcs11-tool >/dev/null 2>&1 || need+=(opensc)
# The cluster's tests start their own PostgreSQL servers and HAProxy (no system service is used).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
# The Debian package's test installs it (adduser and CA certificates are among its Depends) and
# checks its unit with systemd-analyze; systemd itself need not run.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ -x /usr/sbin/adduser ] || need+=(adduser)
[ -d /usr/share/ca-certificates ] || need+=(ca-certificates)
# The web console's tests drive Debian's Chromium through Playwright (never a downloaded browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null || {
      echo "test.sh: could not install ${need[*]}; install them and run again." >&2
      exit 1
    }
fi
# promtool checks and unit-tests docs/prometheus/coffer-alerts.yml. Debian ships it only inside the
# prometheus package, whose install would start a Prometheus service, so the package is downloaded and
# promtool alone extracted into .build/tools (kept between runs).
promtool="$root/.build/tools/promtool"
if [ ! -x "$promtool" ] && ! command -v promtool >/dev/null 2>&1; then
  echo "test.sh: extracting promtool from Debian's prometheus package" >&2
  unpack="$(mktemp -d)"
  ( cd "$unpack" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download prometheus >/dev/null; }; } \
      && dpkg-deb -x prometheus_*.deb root && mkdir -p "$(dirname "$promtool")" && cp root/usr/bin/promtool "$promtool" ) \
    || echo "test.sh: could not extract promtool; the alert rules' tests will fail." >&2
  rm -rf "$unpack"
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet not on PATH)." >&2
  exit 1
fi

# --- build and test ------------------------------------------------------------------------
# A caller may choose its own build folder (parallel work in one tree); the default is shared.
export COFFER_BUILD_DIR="${COFFER_BUILD_DIR:-$root/.build/test}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results="${COFFER_BUILD_DIR%/}-results"   # .build/test-results by default
rm -rf "$results"

if ! dotnet build Coffer.slnx -c Release --nologo -v quiet -clp:ErrorsOnly; then
  echo "test.sh: build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# Every test project at once (-m): the Server project is the longest and mostly waits on real parts,
# so it must not queue behind the others for a free slot.
dotnet test Coffer.slnx -c Release --no-build --nologo -m:8 \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results"
status=$?

# --- totals --------------------------------------------------------------------------------
summary=$(/usr/bin/python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    c = ET.parse(path).getroot().find(f"{ns}ResultSummary/{ns}Counters")
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    skipped += int(c.get("notExecuted", 0))
print(passed, failed, skipped)
PY
)
read -r passed failed skipped <<<"${summary:-0 0 0}"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the runner failed without a test failing (crash, build or discovery error)
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
