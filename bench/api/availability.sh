#!/usr/bin/env bash
# Benchmark: GET /v3/voice/61/availability with a developer key against the demo server,
# and in the same run a bare net/http handler answering the same bytes. Writes requests/s,
# p99 and their ratio into docs/benchmarks.md. Needs wrk (apt-get install wrk).
#   usage: bench/api/availability.sh [duration, default 10s] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
DURATION=${1:-10s}
CONNS=${2:-32}
need wrk wrk
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/switchboard" ./cmd/switchboard
go build -o "$tmp/bare" ./bench/api/bare
# The per-key limit is raised so that the benchmark measures the handler, not 429s; the
# limiter itself still runs on every request.
"$tmp/switchboard" serve --demo --data "$tmp/data" --http 127.0.0.1:18080 --log-level error \
  --rate-limit-per-key 100000000 >"$tmp/serve.log" 2>&1 &
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
KEY=$(sed -n 's/.*"developer_key": "\(.*\)".*/\1/p' "$tmp/data/demo.json")
URL=http://127.0.0.1:18080/v3/voice/61/availability
curl -fs -H "X-API-Key: $KEY" "$URL" >"$tmp/body.json"
"$tmp/bare" -addr 127.0.0.1:18081 -body "$tmp/body.json" &
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18081/ >/dev/null && break; sleep 0.1; done

run() { # url -> "rps p99_ms"
  wrk -t2 -c"$CONNS" -d2s -H "X-API-Key: $KEY" "$1" >/dev/null # warm-up
  out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "X-API-Key: $KEY" "$1")
  echo "$out" >&2
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers: the run is not valid" >&2; exit 1; fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  echo "$rps $p99"
}
read -r sb_rps sb_p99 < <(run "$URL")
read -r bare_rps bare_p99 < <(run http://127.0.0.1:18081/)
ratio=$(awk -v a="$sb_rps" -v b="$bare_rps" 'BEGIN{printf "%.2f", a/b}')

section=$(cat <<MD
## REST API: GET /v3/voice/61/availability

Measured $(date -u +%Y-%m-%d) on this machine ($(nproc) cores), SQLite, demo data (3 users),
developer key, wrk with 2 threads and $CONNS connections for $DURATION, load generator on the
same machine. Command: \`bench/api/availability.sh $DURATION $CONNS\`

| target | requests/s | p99 latency |
|---|---|---|
| switchboard (auth, rate limit, store read, JSON) | $sb_rps | ${sb_p99} ms |
| bare net/http handler, same bytes | $bare_rps | ${bare_p99} ms |
| **ratio switchboard / bare** | **$ratio** | |

Target: at least 0.5 of the bare handler's requests/s.
MD
)
printf '%s\n' "$section" >"$tmp/section.md"
write_section availability "" "$tmp/section.md"
echo "switchboard $sb_rps req/s (p99 $sb_p99 ms), bare $bare_rps req/s (p99 $bare_p99 ms), ratio $ratio"
