#!/usr/bin/env bash
# Deploy/destroy wall time of the seed lab and of generated labs of 100, 500 and
# 1000 pods on 10 nodes. Prints a Markdown table (append it to BENCHMARKS.md).
# Usage: sudo scripts/bench-deploy.sh [runs-per-size (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cargo build --release --quiet
bin=target/release/labctl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate() { # name pods
  local name=$1 pods=$2
  cat > "$work/$name.yaml" <<YAML
name: $name
cluster:
  nodes:
    - role: control-plane
$(for _ in $(seq 9); do echo "    - role: worker"; done)
  networking:
    podBlockSize: 24
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: load}
    spec:
      replicas: $pods
      selector: {matchLabels: {app: load}}
      template:
        metadata: {labels: {app: load}}
        spec:
          containers:
            - {name: box, image: busybox}
YAML
  echo "$work/$name.yaml"
}

seed="$work/bench-seed.yaml"
sed -e 's/^name: headless-services/name: bench-seed/' -e "s#- manifests/#- $PWD/topologies/manifests/#" \
  topologies/headless-services.yaml > "$seed"

ms() { echo $(( ($2 - $1) / 1000000 )); }

echo "| lab | pods | netns | deploy ms (median of $runs) | destroy ms (median of $runs) |"
echo "|---|---|---|---|---|"
for spec in "bench-seed:$seed" "bench-100:100" "bench-500:500" "bench-1000:1000"; do
  name=${spec%%:*} arg=${spec#*:}
  if [[ $arg == /* ]]; then topo=$arg; else topo=$(generate "$name" "$arg"); fi
  deploys=() destroys=()
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N); "$bin" deploy -o json "$topo" >/dev/null
    t1=$(date +%s%N); "$bin" destroy "$name" 2>/dev/null
    t2=$(date +%s%N)
    deploys+=("$(ms "$t0" "$t1")") destroys+=("$(ms "$t1" "$t2")")
  done
  netns=$("$bin" validate "$topo" 2>/dev/null | sed -E 's/.* ([0-9]+) network namespaces/\1/')
  pods=$("$bin" validate "$topo" 2>/dev/null | sed -E 's/.*, ([0-9]+) pods,.*/\1/')
  median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
  echo "| $name | $pods | $netns | $(median "${deploys[@]}") | $(median "${destroys[@]}") |"
done
