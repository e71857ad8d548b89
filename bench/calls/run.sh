#!/usr/bin/env bash
# Benchmarks of the call engine with SIPp (not timed tests): call set-ups per second through
# the B2BUA with media anchored, and concurrent anchored calls with RTP at 50 packets/s each
# way. The set-up run has a baseline in the same run: the same SIPp uac calling the SIPp uas
# directly (no B2BUA) at the same rate and count; the ratio of set-ups/s is reported.
# Writes the results into docs/benchmarks.md between the calls markers.
# Needs SIPp (apt-get install sip-tester) and the loopback addresses 127.0.0.2 and 127.0.0.3
# (any Linux loopback answers the whole 127.0.0.0/8).
#   usage: bench/calls/run.sh [set-up calls, default 6000] [rate/s, default 300] [concurrent RTP calls, default 500]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
CALLS=${1:-6000}
RATE=${2:-300}
CONCURRENT=${3:-500}
need sipp sip-tester
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/calls" ./bench/calls
{
  echo "Command: \`bench/calls/run.sh $CALLS $RATE $CONCURRENT\`. The PBX, its SQLite store and both SIPp"
  echo "processes share the machine's cores, so PBX CPU is the engine process alone."
  echo
  "$tmp/calls" -mode setup -calls "$CALLS" -rate "$RATE"
  "$tmp/calls" -mode rtp -calls "$CONCURRENT" -rate 50 -hold 20s
} >"$tmp/result.md"
cat "$tmp/result.md"
write_section calls "Calls through the B2BUA" "$tmp/result.md"
