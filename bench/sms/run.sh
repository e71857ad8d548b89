#!/usr/bin/env bash
# SMS throughput through Kannel (not a timed test): messages/s accepted by sms/send and
# delivered to Kannel's simulated SMSC (fakesmsc) through Switchboard's outbox and Kannel,
# against Kannel's own sendsms driven directly in the same run (the baseline). Writes the
# result into docs/benchmarks.md between the sms markers.
# Rounds alternate the two paths (the machine's load drifts); each reports its own ratio.
#   usage: bench/sms/run.sh [messages per path, default 2000] [concurrent senders, default 8] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
N=${1:-2000}
C=${2:-8}
R=${3:-3}
need bearerbox kannel
[ -x /usr/lib/kannel/test/fakesmsc ] || need fakesmsc-missing kannel-extras
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/switchboard" ./cmd/switchboard
go build -o "$tmp/bench-sms" ./bench/sms
{
  echo "Command: \`bench/sms/run.sh $N $C $R\` ($(date -u +%F), $(nproc) cores). Switchboard, Kannel (bearerbox, smsbox)"
  echo "and fakesmsc share the machine's cores. \"Delivered\" is until fakesmsc printed the last message;"
  echo "CPU is each side's user + system time over that span."
  echo
  "$tmp/bench-sms" -bin "$tmp/switchboard" -n "$N" -c "$C" -rounds "$R"
} >"$tmp/result.md"
cat "$tmp/result.md"
write_section sms "SMS through Kannel" "$tmp/result.md"
