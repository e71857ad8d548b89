#!/usr/bin/env bash
# SMS throughput through Kannel (not a timed test): messages/s accepted by sms/send and
# delivered to Kannel's simulated SMSC (fakesmsc) through Switchboard's outbox and Kannel,
# against Kannel's own sendsms driven directly in the same run (the baseline). Writes the
# result into docs/benchmarks.md between the sms markers.
# Rounds alternate the two paths (the machine's load drifts); each reports its own ratio.
# Both paths have the same number of clients: the baseline's drive sendsms, Switchboard's
# drive sms/send (and Switchboard's outbox has its own 64 senders to Kannel).
# It runs twice: all processes sharing the cores, then (with two cores or more) Kannel pinned
# to a core of its own, as when the gateway has its own machine.
#   usage: bench/sms/run.sh [messages per path, default 5000] [concurrent clients, default 64] [rounds, default 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
N=${1:-5000}
C=${2:-64}
R=${3:-5}
need bearerbox kannel
[ -x /usr/lib/kannel/test/fakesmsc ] || need fakesmsc-missing kannel-extras
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/switchboard" ./cmd/switchboard
go build -o "$tmp/bench-sms" ./bench/sms
{
  echo "Command: \`bench/sms/run.sh $N $C $R\` ($(date -u +%F), $(nproc) cores). \"Delivered\" is until fakesmsc"
  echo "printed the last message; CPU is each side's user + system time over that span."
  echo
  "$tmp/bench-sms" -bin "$tmp/switchboard" -n "$N" -c "$C" -rounds "$R"
  if [ "$(nproc)" -ge 2 ]; then
    echo
    "$tmp/bench-sms" -bin "$tmp/switchboard" -n "$N" -c "$C" -rounds "$R" -pin
  fi
} >"$tmp/result.md"
cat "$tmp/result.md"
write_section sms "SMS through Kannel" "$tmp/result.md"
