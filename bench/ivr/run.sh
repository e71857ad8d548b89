#!/usr/bin/env bash
# Benchmark of calls in an IVR menu against the plain relay, in the same run (not a timed
# test): N concurrent SIPp callers sit in a call flow's menu while its prompt plays, then
# N/2 calls are relayed through the trunk (N legs). Writes the result into
# docs/benchmarks.md between the ivr markers. Needs SIPp (apt-get install sip-tester).
#   usage: bench/ivr/run.sh [IVR legs, default 300] [hold, default 20s]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
LEGS=${1:-300}
HOLD=${2:-20s}
need sipp sip-tester
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/ivr" ./bench/ivr
{
  echo "Command: \`bench/ivr/run.sh $LEGS $HOLD\`. The PBX, its SQLite store and SIPp share the machine's cores."
  echo
  "$tmp/ivr" -legs "$LEGS" -hold "$HOLD"
} >"$tmp/result.md"
cat "$tmp/result.md"
write_section ivr "Concurrent IVR legs" "$tmp/result.md"
