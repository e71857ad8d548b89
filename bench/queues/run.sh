#!/usr/bin/env bash
# Benchmark of a call queue with SIPp (not a timed test): SIPp-registered agents that
# auto-answer, callers from the trunk's address at a fixed rate. Writes the answer-to-bridge
# delay (p50, p99) and events/s into docs/benchmarks.md between the queues markers.
# Needs SIPp (apt-get install sip-tester) and the loopback addresses 127.0.0.2 and 127.0.0.3
# (any Linux loopback answers the whole 127.0.0.0/8).
#   usage: bench/queues/run.sh [agents, default 50] [callers/s, default 20] [callers, default 1200] [hold, default 30s]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
AGENTS=${1:-50}
RATE=${2:-20}
CALLS=${3:-1200}
HOLD=${4:-30s}
need sipp sip-tester
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/queues" ./bench/queues
{
  echo "Command: \`bench/queues/run.sh $AGENTS $RATE $CALLS $HOLD\`. Each caller hangs up $HOLD after the queue"
  echo "answers it (music on hold), so an agent talks for what is left of that after the wait."
  echo
  "$tmp/queues" -agents "$AGENTS" -rate "$RATE" -calls "$CALLS" -hold "$HOLD"
  echo 'For comparison, the same agents and rate with callers staying 5 s, so that few wait (`-hold 5s -calls 600`):'
  echo
  "$tmp/queues" -agents "$AGENTS" -rate "$RATE" -calls 600 -hold 5s
} >"$tmp/result.md"
cat "$tmp/result.md"
write_section queues "Call queues" "$tmp/result.md"
