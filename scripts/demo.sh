#!/usr/bin/env bash
# Deploys the main seed lab (topologies/headless-services.yaml) and shows it working:
# pods, ClusterIP vs headless DNS, kube-proxy's rules, Redis replication through the
# headless names, and `labctl verify` running every check of the lab.
# Leaves the lab running; remove it with `sudo target/release/labctl destroy headless-services`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $EUID -ne 0 ]]; then echo "demo.sh: run as root (sudo $0)" >&2; exit 1; fi
scripts/setup.sh
cargo build --release --quiet
labctl=target/release/labctl

run() { echo "\$ labctl $*"; "$labctl" "$@"; echo; }

if "$labctl" inspect --lab headless-services >/dev/null 2>&1; then
  echo "lab headless-services is already running"
else
  run deploy topologies/headless-services.yaml
fi
L=(--lab headless-services)
mt=$("$labctl" get "${L[@]}" pods -l app=multitool -o 'jsonpath={.items[0].metadata.name}')
run get "${L[@]}" pods -o wide
run get "${L[@]}" services
run exec "${L[@]}" "$mt" -- dig +search +noall +answer nginx-clusterip
run exec "${L[@]}" "$mt" -- dig +search +noall +answer nginx-headless
run exec "${L[@]}" "$mt" -- dig +search +noall +answer redis-0.redis-headless
run exec "${L[@]}" headless-services-worker -- sh -c 'iptables -t nat -S KUBE-SERVICES | grep -E "nginx|redis"'
run exec "${L[@]}" "$mt" -- redis-cli -h redis-0.redis-headless INFO replication
run verify "${L[@]}"
echo "The lab keeps running: try \`sudo $labctl exec $mt -- sh\`;"
echo "replay the seed's exercises with \`sudo scripts/walkthrough.sh headless-services\`;"
echo "remove it with \`sudo $labctl destroy headless-services\`."
