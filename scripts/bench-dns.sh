#!/usr/bin/env bash
# Cluster DNS benchmark: dnsperf from a client netns over a veth pair against
# labctl's DNS server and Knot DNS serving the same records (the zone file is
# generated from the same `Zone`), side by side in one run.
#
#   sudo scripts/bench-dns.sh [seconds-per-run (10)] [rounds (2)]
#
# Three query sets: a ClusterIP service name, a headless name with 10 pods,
# and the NXDOMAIN names a pod's search path generates. Throughput: dnsperf as
# fast as it can (-c 10 -T 2, 100 queries outstanding). Latency percentiles:
# a second run of each set capped at 50,000 qps (-Q 50000, the target load)
# with -v (one line per query with its latency).
# The host's root netns is not touched: both servers and the client live in
# private namespaces (bd-srv-$$, bd-cli-$$) removed on exit.
set -euo pipefail

SECONDS_PER_RUN=${1:-10}
ROUNDS=${2:-2}
cd "$(dirname "$0")/.."

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v knotd >/dev/null || need+=(knot)
if ((${#need[@]})); then
    apt-get install -y "${need[@]}" >/dev/null
fi

SRV=bd-srv-$$
CLI=bd-cli-$$
WORK=$(mktemp -d /tmp/bench-dns.XXXXXX)
SERVER_PID=
KNOT_PID=

cleanup() {
    [[ -n $SERVER_PID ]] && { touch "$WORK/stop"; wait "$SERVER_PID" 2>/dev/null || true; }
    [[ -n $KNOT_PID ]] && { kill "$KNOT_PID" 2>/dev/null; wait "$KNOT_PID" 2>/dev/null || true; }
    ip netns delete "$SRV" 2>/dev/null || true
    ip netns delete "$CLI" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building (release)..." >&2
BIN=$(cargo bench --bench dns_bench --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*dns_bench[^"]*\)".*/\1/p' | tail -1)
[[ -x $BIN ]] || { echo "dns_bench binary not found" >&2; exit 1; }

ip netns add "$SRV"
ip netns add "$CLI"
ip link add bd-s$$ netns "$SRV" type veth peer name bd-c$$ netns "$CLI"
ip -n "$SRV" link set lo up
ip -n "$CLI" link set lo up
ip -n "$SRV" addr add 10.77.0.1/24 dev bd-s$$
ip -n "$CLI" addr add 10.77.0.2/24 dev bd-c$$
ip -n "$SRV" link set bd-s$$ up
ip -n "$CLI" link set bd-c$$ up

# labctl's server on 10.77.0.1:53; it writes the zone file for knot.
DNS_BENCH_NETNS=$SRV DNS_BENCH_ADDR=10.77.0.1:53 DNS_BENCH_ZONEFILE=$WORK/cluster.local.zone \
    DNS_BENCH_STOPFILE=$WORK/stop DNS_BENCH_SECONDS=3600 DNS_BENCH_UDP_SOCKETS=${UDP_SOCKETS:-2} \
    DNS_BENCH_FAST_UDP=${FAST_UDP:-1} \
    "$BIN" --bench >"$WORK/labctl.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do [[ -s $WORK/cluster.local.zone ]] && break; sleep 0.1; done
sleep 0.5

# Knot on 10.77.0.1:5353, same records, 2 UDP workers (one per core).
mkdir -p "$WORK/knot"
cat >"$WORK/knot.conf" <<EOF
server:
    rundir: "$WORK/knot"
    listen: 10.77.0.1@5353
    udp-workers: 2
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$WORK/knot"
log:
  - target: stderr
    any: error
zone:
  - domain: cluster.local
    file: "$WORK/cluster.local.zone"
    storage: "$WORK"
    semantic-checks: off
EOF
ip netns exec "$SRV" knotd -c "$WORK/knot.conf" 2>"$WORK/knot.log" &
KNOT_PID=$!
sleep 1

printf 'nginx-clusterip.default.svc.cluster.local A\n' >"$WORK/service.txt"
printf 'web.default.svc.cluster.local A\n' >"$WORK/headless.txt"
# What `curl example.com` (ndots:5) asks first from a pod in `default`.
printf '%s A\n' \
    example.com.default.svc.cluster.local example.com.svc.cluster.local example.com.cluster.local \
    redis.default.svc.cluster.local.default.svc.cluster.local api.github.com.default.svc.cluster.local \
    api.github.com.svc.cluster.local api.github.com.cluster.local >"$WORK/nxdomain.txt"

for name in nginx-clusterip.default.svc.cluster.local web.default.svc.cluster.local example.com.default.svc.cluster.local; do
    for port in 53 5353; do
        got=$(ip netns exec "$CLI" dig +short +tries=1 @10.77.0.1 -p $port "$name" | sort | tr '\n' ' ')
        echo "check :$port $name -> ${got:-<none>}" >&2
    done
done

# qps and average latency of a full-speed run.
run() { # port file extra-args...
    local port=$1 file=$2
    shift 2
    ip netns exec "$CLI" dnsperf -s 10.77.0.1 -p "$port" -d "$file" -c 10 -T 2 -l "$SECONDS_PER_RUN" "$@" 2>&1
}

# p50/p99/p99.9 (ms) from `dnsperf -v` per-query lines: "> NOERROR name A 0.000123".
percentiles() {
    awk '$1 == ">" { print $NF * 1000 }' | sort -g | awk '
        { v[NR] = $1 }
        END { if (NR == 0) { print "n/a n/a n/a"; exit }
              printf "%.3f %.3f %.3f\n", v[int(NR*0.50)+1], v[int(NR*0.99)+1], v[int(NR*0.999) < NR ? int(NR*0.999)+1 : NR] }'
}

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
echo "dnsperf $(dnsperf -h 2>&1 | awk '/Version/ {print $2}'), knot $(knotd --version | awk '{print $NF}'), ${SECONDS_PER_RUN}s per run, $ROUNDS rounds"
echo
printf '| round | server | query set | max qps | avg ms at max | p50 ms at 50k qps | p99 ms at 50k qps | p99.9 ms at 50k qps | lost |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for round in $(seq "$ROUNDS"); do
    for set in service headless nxdomain; do
        for server in labctl knot; do
            port=53
            [[ $server == knot ]] && port=5353
            out=$(run $port "$WORK/$set.txt")
            qps=$(awk '/Queries per second/ {printf "%.0f", $4}' <<<"$out")
            avg=$(awk '/Average Latency/ {printf "%.3f", $4 * 1000}' <<<"$out")
            lost=$(awk '/Queries lost/ {print $3}' <<<"$out")
            read -r p50 p99 p999 < <(run $port "$WORK/$set.txt" -Q 50000 -v | percentiles)
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
                "$round" "$server" "$set" "$qps" "$avg" "$p50" "$p99" "$p999" "$lost"
        done
    done
done
