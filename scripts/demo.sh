#!/usr/bin/env bash
# Deploys the main seed lab (topologies/headless-services.yaml) and shows it working:
# the containerlab-like summary, kubectl-like pods, and pods pinging across nodes.
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
run get pods -o wide
run get services
redis2=$("$labctl" get pods -o wide | awk '$1 == "redis-2" { print $6 }')
run exec redis-0 -- ping -c2 "$redis2"
run exec headless-services-worker -- ip route
echo "The lab keeps running: try \`sudo $labctl exec redis-0 -- ip addr\`;"
echo "remove it with \`sudo $labctl destroy headless-services\`."
