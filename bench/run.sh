#!/usr/bin/env bash
# bench/run.sh — one command: build Release, start a bare Kestrel ceiling and `coffer dev` on
# 127.0.0.1, drive signed XKS encrypt/decrypt at them and print a README-ready Markdown table
# (also written to bench/results/latest.md).
#
#   bench/run.sh                      # defaults below; takes about 8 minutes
#   bench/run.sh --duration 30 --pin split --client http
#   bench/run.sh --help
#
# Options (all passed to `Coffer.Bench run`):
#   --duration 15       measured seconds per scenario      --warmup 3      warmup seconds per scenario
#   --concurrency auto  auto = best of --candidates (16,32,64,128) in --trial (4 s) runs, per target; or a number
#   --rate 1800         fixed arrival rate of the open-loop scenario (AWS's default XKS quota)
#   --pin none          none: servers and load generator share both CPUs (default, see README note below);
#                       split: servers on CPU 0, load generator on CPU 1 (taskset)
#   --client raw        raw: minimal keep-alive HTTP/1.1 socket client; http: HttpClient/SocketsHttpHandler
#   --no-extras         skip the SHA_256 CDIV, 4300-byte, --log-level Warning (diagnosis) and audit-off encrypt scenarios
#   --audit-pairs 3     audit-off and audited encrypt take turns this many times; the audit goal is judged on the
#                       median ratio of these back-to-back pairs (the machine drifts more than the effect between minutes)
#   --scenarios LIST    subset of ceiling,encrypt,decrypt,rules100,open,flood,cdiv,4300,quietlog,unaudited,packing (ceiling always runs);
#                       packing: encrypt on a `coffer dev` storing its audit batches plain (benchmark-only switch) and on the
#                       packing one, taking turns --audit-pairs times, each with its database's bytes per record
#                       (docs/audit-storage.md; `--scenarios encrypt,packing --out bench/results/audit-storage-latest.md`)
#   --flood-duration 60 the anonymous flood (scenario flood, about 4.5 minutes): --flood-connections (32) clients without
#                       credentials from 127.0.0.2 send an unknown prefix, a bad signature and a 7,900-character key id
#                       back to back; the database's growth over the flood alone, then the signed calls at --rate
#                       without it and next to it (p99 within 2x)
#   --out FILE          report file (default bench/results/latest.md)
#   --coffer-arg ARG    extra argument for `coffer dev` (repeatable), e.g. --coffer-arg --log-level --coffer-arg Warning
#   --wrk               also measure the ceiling with wrk (if installed) as a cross-check of the C# client
#   --head              build Coffer from the committed HEAD (git archive), not the working tree
#   --fake              DEVELOPMENT ONLY: a fake XKS endpoint instead of Coffer (never a real result)
#   --backend software  software (default) | pkcs11: `coffer dev --pkcs11` (throw-away SoftHSM2 token, needs softhsm2)
#                       plus the raw PKCS#11 ceiling on the same token in the same run; writes bench/results/pkcs11.md.
#                       pkcs11 scenarios: ceiling (Kestrel), raw PKCS#11 @8 / Coffer encrypt @8 pairs (--repeat 3),
#                       raw on a session key, decrypt @8, CDIV @8, encrypt at the best of --candidates, open loop
#                       (--rate, capped at 80 % of raw), encrypt @8 with the audit log off (--repeat runs), encrypt @8
#                       on a software `coffer dev` with and without the audit log (diagnosis), and the disk's flush
#                       time, to show where a call's time goes. Takes ~8 minutes.
#   --hsm-concurrency 8 raw PKCS#11 threads = Coffer clients of the headline pair (pkcs11)
#   --repeat 3          headline pair repetitions, back to back (pkcs11; with --cluster the SQLite / PostgreSQL pairs)
#   --no-session-key-row  skip that raw row (pkcs11)
#   --cluster           the cluster run (about 6 minutes; writes bench/results/cluster-latest.md; needs Debian's postgresql
#                       and haproxy): encrypt, closed loop at each one's best concurrency, on 1 node on SQLite (`coffer dev`),
#                       1 node on PostgreSQL (the database `coffer dev --cluster 2` made, served by the bench's own
#                       PostgreSQL, initdb's durable defaults) and 2 nodes on it behind HAProxy (docs/haproxy.cfg), with the
#                       ceiling; SQLite and 1-node PostgreSQL take turns --repeat times. Then on the 2 nodes: a key's kill
#                       switch engaged through node 1's management API, node 2 polled with encrypts until it refuses, then
#                       released (--kill-switch-samples 50); and the open loop at --rate through HAProxy for
#                       --failover-duration 20 seconds with node 2 SIGKILLed at the midpoint. CPU per call of the nodes,
#                       PostgreSQL and HAProxy, and a projection to N machines.
#   --audit-verify      instead of the above, `coffer audit verify` at scale (several minutes, about 5 GB of disk while it
#                       runs): a 10-million-record SQLite log filled through the storage layer, the full verify's records/s,
#                       then 100,000 more records and the incremental verify; writes bench/results/audit-verify-latest.md.
#                       --records N, --append N, --batch N (records per commit, 100) and --dir DIR (a temp dir) change it.
#   --console           instead of the above, the web console's speed (a few minutes): a node whose audit log holds
#                       1,000,000 more records, Chromium logged in through the page, the Overview's paint and the audit
#                       page's Next page, median and p95 of 20; writes bench/results/console-latest.md.
#                       --records N, --samples N and --dir DIR change it (docs/console.md, "Speed").
# Environment: COFFER_BUILD_DIR (default /tmp/cb-bench) keeps builds apart from other work.
# Everything stays on loopback; the servers started here are killed on exit, failure and Ctrl-C.
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0; fi
cd "$(dirname "$0")/.."
export COFFER_BUILD_DIR="${COFFER_BUILD_DIR:-/tmp/cb-bench}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [[ " $* " == *" --audit-verify "* ]]; then
  records=10000000 append=100000 batch=100 dir="${TMPDIR:-/tmp}"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --records) records="$2"; shift ;;
      --append) append="$2"; shift ;;
      --batch) batch="$2"; shift ;;
      --dir) dir="$2"; shift ;;
    esac
    shift
  done
  echo "building (Release, into $COFFER_BUILD_DIR) ..." >&2
  dotnet build bench/Coffer.Bench.AuditStore -c Release -o "$COFFER_BUILD_DIR/audit-store-out" -v q -nologo >&2
  out=bench/results/audit-verify-latest.md
  { dotnet "$COFFER_BUILD_DIR/audit-store-out/Coffer.Bench.AuditStore.dll" --verify "$records" --append "$append" --batch "$batch" --dir "$dir"
    echo
    echo "Command: \`bench/run.sh --audit-verify --records $records --append $append --batch $batch\` (commit $(git rev-parse --short HEAD))."
  } | tee "$out.tmp"
  mv "$out.tmp" "$out"
  exit 0
fi

if [[ " $* " == *" --console "* ]]; then
  records=1000000 samples=20 dir="${TMPDIR:-/tmp}"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --records) records="$2"; shift ;;
      --samples) samples="$2"; shift ;;
      --dir) dir="$2"; shift ;;
    esac
    shift
  done
  echo "building (Release, into $COFFER_BUILD_DIR) ..." >&2
  dotnet build bench/Coffer.Bench.Console -c Release -o "$COFFER_BUILD_DIR/console-bench-out" -v q -nologo >&2
  out=bench/results/console-latest.md
  { dotnet "$COFFER_BUILD_DIR/console-bench-out/Coffer.Bench.Console.dll" --records "$records" --samples "$samples" --dir "$dir"
    echo
    echo "Command: \`bench/run.sh --console --records $records --samples $samples\` (commit $(git rev-parse --short HEAD))."
  } | tee "$out.tmp"
  mv "$out.tmp" "$out"
  exit 0
fi

pin=none
fake=0
head=0
out=bench/results/latest.md
out_given=0
backend=software
args=("$@")
pass=()   # everything but run.sh's own --head goes to Coffer.Bench
for a in "$@"; do [[ "$a" == --head ]] || pass+=("$a"); done
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --pin) pin="${args[i + 1]:-none}" ;;
    --out) out="${args[i + 1]}"; out_given=1 ;;
    --backend) backend="${args[i + 1]:-software}" ;;
    --fake) fake=1 ;;
    --head) head=1 ;;
  esac
done

if [[ " ${args[*]} " == *" --cluster "* ]]; then
  if [[ ! -x /usr/sbin/haproxy ]] || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "--cluster needs Debian's postgresql and haproxy packages (apt-get install postgresql haproxy)" >&2
    exit 2
  fi
  if [[ $out_given == 0 ]]; then out=bench/results/cluster-latest.md; fi
fi
if [[ $backend == pkcs11 ]]; then
  if [[ ! -f /usr/lib/softhsm/libsofthsm2.so ]] || ! command -v softhsm2-util >/dev/null; then
    echo "--backend pkcs11 needs SoftHSM2 (/usr/lib/softhsm/libsofthsm2.so and softhsm2-util): install it, e.g. 'sudo apt-get install softhsm2' on Debian/Ubuntu" >&2
    exit 2
  fi
  if [[ $out_given == 0 ]]; then out=bench/results/pkcs11.md; fi
fi

echo "building (Release, into $COFFER_BUILD_DIR) ..." >&2
dotnet build bench/Coffer.Bench -c Release -o "$COFFER_BUILD_DIR/bench-out" -v q -nologo >&2
version="commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ $fake == 0 && $head == 1 ]]; then
  # Measure the committed HEAD, untouched by edits in progress in the working tree (read-only export).
  src="$COFFER_BUILD_DIR/head-src"
  rm -rf "$src" && mkdir -p "$src"
  git archive HEAD | tar -x -C "$src"
  COFFER_BUILD_DIR="$COFFER_BUILD_DIR/head" dotnet build "$src/src/Coffer.Cli" -c Release -o "$COFFER_BUILD_DIR/coffer-out" -v q -nologo >&2
elif [[ $fake == 0 ]]; then
  dotnet build src/Coffer.Cli -c Release -o "$COFFER_BUILD_DIR/coffer-out" -v q -nologo >&2
  if [[ -n "$(git status --porcelain -- src 2>/dev/null)" ]]; then version="$version + uncommitted changes in src/"; fi
fi

# For the client only (the bench strips both from the servers it starts, which run with the runtime's
# defaults): DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 runs socket continuations on the epoll
# thread, and DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 stops idle workers spin-waiting; both cut
# the client CPU that the servers under test would otherwise lose on a shared machine.
cmd=(env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 dotnet "$COFFER_BUILD_DIR/bench-out/Coffer.Bench.dll" run
     --coffer-dll "$COFFER_BUILD_DIR/coffer-out/coffer.dll" --coffer-version "$version" --out "$out" ${pass[@]+"${pass[@]}"})
if [[ "$pin" == split ]]; then
  # The load generator on CPU 1; the bench starts both servers on CPU 0.
  exec taskset -c 1 "${cmd[@]}"
fi
exec "${cmd[@]}"
