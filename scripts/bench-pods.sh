#!/usr/bin/env bash
# Pods at scale, side by side with Mininet in the same run (issue 12): a lab of N busybox
# pods (`command: [sleep, infinity]`, a real process each) on 4 nodes, deployed until
# every pod is Ready and destroyed, against Mininet 2.3.0 building and stopping N hosts
# (a bash each) on Linux bridges. Mininet runs inside a scratch network namespace, so
# nothing of it lands in the host's. Also times `scale 1000 → 0 → 1000` and reads the
# supervisor's RSS at 1,000 pods. Prints Markdown tables for BENCHMARKS.md.
#
#   sudo scripts/bench-pods.sh [sizes (default "100 500 1000 2000")] [runs (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-"100 500 1000 2000"}
runs=${2:-3}
export LABCTL_DNS_UPSTREAMS=""

if ! /usr/bin/python3 -c 'import mininet' 2>/dev/null || ! command -v brctl >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mininet bridge-utils >/dev/null
fi
cargo build --release --quiet
bin=$PWD/target/release/labctl
work=$(mktemp -d)
mn_netns=bench-pods-mininet
cleanup() {
  "$bin" destroy bench-pods >/dev/null 2>&1 || true
  ip netns delete "$mn_netns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

topology() { # pods
  cat > "$work/bench-pods.yaml" <<YAML
name: bench-pods
cluster:
  nodes:
    - role: control-plane
    - role: worker
    - role: worker
    - role: worker
  networking:
    podBlockSize: 21
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: load}
    spec:
      replicas: $1
      selector: {matchLabels: {app: load}}
      template:
        metadata: {labels: {app: load}}
        spec:
          containers:
            - {name: box, image: busybox, command: [sleep, infinity]}
YAML
  echo "$work/bench-pods.yaml"
}

ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
# Waits until the machine is idle (the kernel frees a deleted lab's namespaces lazily).
settle() { sleep 2; }

echo "Machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)"
echo
echo "| pods | labctl deploy ms | labctl destroy ms | labctl µs/pod (deploy+destroy) | Mininet build ms | Mininet stop ms | Mininet ÷ labctl |"
echo "|---|---|---|---|---|---|---|"
for n in $sizes; do
  topo=$(topology "$n")
  deploys=() destroys=() builds=() stops=()
  for _ in $(seq "$runs"); do
    settle
    t0=$(date +%s%N); "$bin" deploy -o json "$topo" >/dev/null
    t1=$(date +%s%N); "$bin" destroy bench-pods 2>/dev/null
    t2=$(date +%s%N)
    deploys+=("$(ms "$t0" "$t1")") destroys+=("$(ms "$t1" "$t2")")
    settle
    ip netns add "$mn_netns"
    read -r _ _ build stop < <(cd "$work" && ip netns exec "$mn_netns" /usr/bin/python3 "$OLDPWD/scripts/bench_mininet.py" "$n")
    ip netns delete "$mn_netns"
    builds+=("$build") stops+=("$stop")
  done
  d=$(median "${deploys[@]}") x=$(median "${destroys[@]}") b=$(median "${builds[@]}") s=$(median "${stops[@]}")
  echo "| $n | $d | $x | $(( (d + x) * 1000 / n )) | $b | $s | $(awk "BEGIN{printf \"%.1f×\", ($b + $s) / ($d + $x)}") |"
done

echo
echo "| scale (1,000 pods) | ms |"
echo "|---|---|"
settle
"$bin" deploy -o json "$(topology 1000)" >/dev/null
pid=$(cat /run/labctl/bench-pods/supervisor.pid)
rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
ready() { # until N pods are Ready
  until [ "$("$bin" get pods --lab bench-pods 2>/dev/null | awk 'NR>1 && $2=="1/1"' | wc -l)" -eq "$1" ]; do sleep 0.05; done
}
t0=$(date +%s%N); "$bin" scale --lab bench-pods deployment/load --replicas=0 >/dev/null; ready 0
t1=$(date +%s%N); "$bin" scale --lab bench-pods deployment/load --replicas=1000 >/dev/null; ready 1000
t2=$(date +%s%N)
echo "| 1,000 → 0 | $(ms "$t0" "$t1") |"
echo "| 0 → 1,000 (all Ready) | $(ms "$t1" "$t2") |"
echo
echo "Supervisor RSS at 1,000 pods: $((rss / 1024)) MB"
