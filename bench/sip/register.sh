#!/usr/bin/env bash
# Benchmark: REGISTERs with digest authentication per second, SIPp against `switchboard serve`
# with the demo data (users 1001–1003, SIP usernames and passwords from DATA/demo.json), and
# in the same run against the reference: Debian's Kamailio with the same users, digest
# authentication and in-memory location (bench/sip/kamailio.cfg.in), and a SIPp UAS that
# checks nothing. Each SIPp call is one full registration: REGISTER, 401 challenge, REGISTER
# with the MD5 digest, 200 OK. Same scenario, users, offered rate and cap in flight for all
# three. On a machine with two cores or more each registrar runs alone on one core (taskset)
# and SIPp on another, so the rates compare one core against one core; the CPU time each
# registrar spent (from /proc) divided by its registrations is the figure that other load
# on the machine does not distort. Writes the result into docs/benchmarks.md between the
# sip-register markers.
# Needs SIPp and Kamailio (installed from sip-tester and kamailio when missing).
#   usage: bench/sip/register.sh [registrations, default 100000] [offered rate/s, default 40000]
#          [registrations in flight at most, default 200]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
CALLS=${1:-100000}
RATE=${2:-40000}
INFLIGHT=${3:-200}
need sipp sip-tester
need kamailio kamailio
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

# One core for the registrar under test, another for SIPp: without this the registrar and
# SIPp contend for the same cores and the rate says as much about the scheduler as about the
# registrar. The Go runtime sizes GOMAXPROCS from the affinity mask, so serve runs with 1.
if [ "$(nproc)" -ge 2 ]; then
  on_registrar_core=(taskset -c 1) on_sipp_core=(taskset -c 0) pinning="pinned to core 1, SIPp to core 0 (\`taskset\`)"
else
  on_registrar_core=() on_sipp_core=() pinning="not pinned (one core)"
fi

# cpu_ticks PID...: the CPU time (user + system, in clock ticks) the processes have used so far.
cpu_ticks() {
  local pid total=0 t
  for pid in "$@"; do
    t=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat") # fields 14 and 15
    total=$((total + t))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)

go build -o "$tmp/switchboard" ./cmd/switchboard
# SIPp 3.6 computes only MD5 and reads only the first challenge: --sip-digest md5,sha256.
"${on_registrar_core[@]}" "$tmp/switchboard" serve --demo --data "$tmp/data" --http 127.0.0.1:28190 --sip 127.0.0.1:25160 \
  --sip-digest md5,sha256 --log-level error >"$tmp/serve.log" 2>&1 &
sb_pid=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:28190/healthz >/dev/null && break; sleep 0.1; done
wait_system_prompts "$tmp/data"
[ -f "$tmp/data/demo.json" ] || { echo "serve did not write demo.json:"; cat "$tmp/serve.log"; exit 1; }

python3 - "$tmp/data/demo.json" >"$tmp/users.csv" <<'PY'
import json, sys
demo = json.load(open(sys.argv[1]))
print("SEQUENTIAL")
for u in demo["users"]:
    print(f'{u["sip_username"]};[authentication username={u["sip_username"]} password={u["sip_password"]}]')
PY

# register PORT NAME PID...: SIPp registers $CALLS times against the registrar at PORT (whose
# processes are PID...) and sets ok, failed, secs, rps, us (CPU µs per registration) and
# retrans (REGISTERs SIPp sent again). -l caps registrations in flight so a slow server shows
# as a lower rate, not as timeouts. -buff_size: SIPp's own default socket buffers (64 KiB)
# hold about 50 answers; with 200 registrations in flight a registrar that answers in bursts
# overflowed SIPp's socket (RcvbufErrors in /proc/net/snmp, the drops of SIPp's port in
# /proc/net/udp), and every answer lost stalled its registration for SIPp's 500 ms
# retransmission timer. A phone has a socket of its own; only the load generator shares one.
# The kernel caps the buffer at net.core.rmem_max.
register() {
  local port=$1 name=$2
  shift 2
  local before after
  before=$(cpu_ticks "$@")
  "${on_sipp_core[@]}" sipp "127.0.0.1:$port" -sf sip/testdata/register_digest.xml -inf "$tmp/users.csv" -t u1 \
    -i 127.0.0.1 -p 25170 -m "$CALLS" -r "$RATE" -l "$INFLIGHT" -timeout 120s -timeout_error -nostdin \
    -buff_size 4194304 -trace_stat -stf "$tmp/stat-$name.csv" -fd 1 >"$tmp/sipp-$name.out" 2>&1 || true
  after=$(cpu_ticks "$@")
  # SIPp's final statistics screen: cumulative counters in the third column; the run's
  # length is Current Time - Start Time (epoch seconds are the last field of those lines).
  ok=$(awk -F'|' '/Successful call/ {gsub(/ /,"",$3); v=$3} END {print v}' "$tmp/sipp-$name.out")
  failed=$(awk -F'|' '/Failed call/ {gsub(/ /,"",$3); v=$3} END {print v}' "$tmp/sipp-$name.out")
  local start end
  start=$(awk '/Start Time/ {v=$NF} END {print v}' "$tmp/sipp-$name.out")
  end=$(awk '/Current Time/ {v=$NF} END {print v}' "$tmp/sipp-$name.out")
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", b-a}')
  # A registration SIPp gave up on (its retransmissions unanswered for 32 s: a registrar or
  # SIPp starved of CPU by other load) is counted as failed; more than 1% fails the run.
  if [ -z "$ok" ] || [ $((failed * 100)) -gt "$CALLS" ]; then
    cat "$tmp/sipp-$name.out"; echo "SIPp reported ${failed:-all} failed registrations against $name: the run is not valid" >&2; exit 1
  fi
  rps=$(awk -v n="$ok" -v s="$secs" 'BEGIN{printf "%.0f", n/s}')
  # The last line of SIPp's statistics file holds the run's cumulative retransmissions.
  retrans=$(awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "Retransmissions(C)") c = i} END {print $c}' "$tmp/stat-$name.csv")
  us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$ok" 'BEGIN{printf "%.0f", t/hz*1e6/n}')
  echo "$name: $ok registrations ($failed failed, $retrans retransmitted) in $secs s: $rps/s, $us µs of CPU per registration" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
register 25160 switchboard "$sb_pid"
sb_ok=$ok sb_failed=$failed sb_secs=$secs sb_rps=$rps sb_us=$us sb_retrans=$retrans
# Every binding is durable: serve flushes the refreshes it wrote behind when it stops, so the
# store must hold SIPp's three contacts with the expiry their last REGISTER set (the run's
# end + 3600 s; 5 s of slack for the clock's second boundaries).
sb_end=$(date +%s)
kill "$sb_pid" 2>/dev/null || true
wait "$sb_pid" 2>/dev/null || true
stored=$(sqlite3 "$tmp/data/switchboard.db" \
  "SELECT count(*) FROM registrations WHERE source = '127.0.0.1:25170' AND expires_at >= ($sb_end + 3600 - 5) * 1000")
[ "$stored" = 3 ] || { echo "the store holds $stored up-to-date bindings of SIPp's 3 contacts: not durable" >&2; exit 1; }

# The reference, same run: Kamailio with the demo users' passwords, location in memory, its
# default number of UDP workers.
python3 - "$tmp/data/demo.json" bench/sip/kamailio.cfg.in >"$tmp/kamailio.cfg" <<'PY'
import json, sys
demo, template = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
creds = "\n".join(f'\tif ($au == "{u["sip_username"]}") {{ $var(pw) = "{u["sip_password"]}"; }}' for u in demo["users"])
sys.stdout.write(template.replace("@PORT@", "25162").replace("@CREDENTIALS@", creds))
PY
kamailio -f "$tmp/kamailio.cfg" -c >"$tmp/kamailio-check.out" 2>&1 || { cat "$tmp/kamailio-check.out"; exit 1; }
"${on_registrar_core[@]}" kamailio -f "$tmp/kamailio.cfg" -DD -E >"$tmp/kamailio.log" 2>&1 &
kam_pid=$!
sleep 1
kam_procs=$(( $(pgrep -P "$kam_pid" | wc -l) + 1 ))
register 25162 kamailio "$kam_pid" $(pgrep -P "$kam_pid")
kam_ok=$ok kam_failed=$failed kam_secs=$secs kam_rps=$rps kam_us=$us kam_retrans=$retrans
kill "$kam_pid" 2>/dev/null || true
wait "$kam_pid" 2>/dev/null || true

# Baseline, same run: a SIPp UAS that answers the same exchange doing nothing else.
"${on_registrar_core[@]}" sipp -sf bench/sip/register_uas.xml -i 127.0.0.1 -p 25161 -t u1 -nostdin >"$tmp/uas.out" 2>&1 &
uas_pid=$!
sleep 0.5
register 25161 baseline "$uas_pid"
base_ok=$ok base_failed=$failed base_secs=$secs base_rps=$rps base_us=$us base_retrans=$retrans
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
kill $(jobs -p) 2>/dev/null || true
ratio=$(awk -v a="$sb_rps" -v b="$base_rps" 'BEGIN{printf "%.2f", a/b}')
kam_ratio=$(awk -v a="$sb_rps" -v b="$kam_rps" 'BEGIN{printf "%.2f", a/b}')
cpu_ratio=$(awk -v a="$sb_us" -v b="$kam_us" 'BEGIN{printf "%.2f", b/a}')
capped=""
if awk -v b="$kam_rps" -v r="$RATE" 'BEGIN{exit !(b >= 0.97*r)}'; then
  capped=" Kamailio ran at the offered rate, so it could go faster: offer more for a ratio that says something."
elif awk -v b="$base_rps" -v r="$RATE" 'BEGIN{exit !(b >= 0.97*r)}'; then
  capped=" The baseline ran at the offered rate, so it could go faster and its ratio is an upper bound."
fi

section=$(cat <<MD
## SIP REGISTER

Measured $(date -u +%Y-%m-%d) on this machine ($(nproc) cores; load average $load_before before the
run, $load_after after it: other work shares the machine), \`switchboard serve --demo\` on
SQLite, SIPp $(sipp -v 2>&1 | awk '/SIPp v/ {sub(/-.*/, "", $2); print $2}') over UDP loopback, the 3 demo users (1001–1003) in turn from
SIPp's injection file. One registration = REGISTER, 401 with a fresh nonce, REGISTER with the
MD5 digest (checked against the stored HA1, which serve keeps in memory for
\`--sip-auth-cache-ttl\` 1s; nonce count recorded; the binding the REGISTER changed committed to
the database before the answer, REGISTERs that arrive together sharing one transaction —
except a refresh of a stored binding from the same address, written behind within 20 ms, see
docs/sip.md), 200 OK listing the contacts. SIPp registers the same three contacts over and
over, so after the first three REGISTERs every one is such a refresh; after the run the script
stops serve and checks that the database holds the three bindings with the expiry of their
last REGISTER. Each registrar runs $pinning, so the
rates compare one core against one core (serve's Go runtime then runs with GOMAXPROCS 1).
Offered rate $RATE/s, at most $INFLIGHT in flight, which is more than any of the three answers. The
reference is Kamailio $(kamailio -v 2>/dev/null | awk '/^version:/ {print $3}') from Debian with the same users, digest authentication
(\`pv_www_authenticate\`) and in-memory location (usrloc \`db_mode 0\`: no database, nothing
durable), its default 8 UDP worker processes ($kam_procs processes in all;
bench/sip/kamailio.cfg.in). The baseline is a SIPp UAS answering the same exchange with a fixed
challenge and a 200, checking and storing nothing (bench/sip/register_uas.xml). Same run for
all three. **CPU per registration** is the CPU time (user + system, from /proc/PID/stat, all of
a registrar's processes and threads) the registrar spent during its run divided by its
registrations: unlike the rate, it does not count the time a registrar waited for its core
(a loaded machine still inflates it, less).
Command: \`bench/sip/register.sh $CALLS $RATE $INFLIGHT\`

| registrar | registrations | failed | retransmitted by SIPp | seconds | **registrations/s** | **CPU µs per registration** |
|---|---|---|---|---|---|---|
| switchboard (bindings in SQLite; refreshes written behind) | $sb_ok | $sb_failed | $sb_retrans | $sb_secs | **$sb_rps** | **$sb_us** |
| Kamailio (bindings in memory) | $kam_ok | $kam_failed | $kam_retrans | $kam_secs | $kam_rps | $kam_us |
| baseline (SIPp UAS) | $base_ok | $base_failed | $base_retrans | $base_secs | $base_rps | $base_us |

Ratio switchboard / Kamailio, registrations/s: **$kam_ratio** (target ≥ 1.0); CPU per
registration, Kamailio's / switchboard's: **$cpu_ratio** (above 1 when switchboard needs less).
Ratio switchboard / baseline, registrations/s: **$ratio**.$capped

Target: at least 1,000 REGISTER with digest per second on this 2-core box.
MD
)
printf '%s\n' "$section" >"$tmp/section.md"
write_section sip-register "" "$tmp/section.md"
echo "switchboard: $sb_rps/s, $sb_us µs/registration; kamailio: $kam_rps/s, $kam_us µs (ratio $kam_ratio, CPU ratio $cpu_ratio); baseline: $base_rps/s (ratio $ratio); load $load_before -> $load_after"
