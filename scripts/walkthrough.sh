#!/usr/bin/env bash
# Replays a seed lab's exercises, in the seed's order and with its own commands (dig,
# nslookup, iptables, redis-cli, ping, curl, scale), printing each command and its real
# output. The lab must be deployed: `sudo labctl deploy topologies/<lab>.yaml`.
#
#   sudo scripts/walkthrough.sh headless-services|show-hostname|nginx-microk8s|nginx-statefulset|workshop
#   sudo scripts/walkthrough.sh --lab lt-ws-123 workshop     # the workshop steps on a renamed lab
#
# Env: LABCTL=path/to/labctl (default: target/release/labctl, else target/debug/labctl,
# built if missing). Every name queried is under cluster.local: nothing leaves the machine.
set -euo pipefail

cd "$(dirname "$0")/.."
lab=""
while [ $# -gt 0 ]; do
    case "$1" in
        --lab) lab="$2"; shift 2 ;;
        --lab=*) lab="${1#--lab=}"; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--lab NAME] headless-services|show-hostname|nginx-microk8s|nginx-statefulset|workshop" >&2; exit 2; }
topology="$1"
lab="${lab:-$topology}"

if [ -z "${LABCTL:-}" ]; then
    if [ -x target/release/labctl ]; then LABCTL=target/release/labctl
    elif [ -x target/debug/labctl ]; then LABCTL=target/debug/labctl
    else cargo build --release --quiet && LABCTL=target/release/labctl
    fi
fi

bold=$'\e[1m'; dim=$'\e[2m'; off=$'\e[0m'
[ -t 1 ] || { bold=""; dim=""; off=""; }

section() { printf '\n%s## %s%s\n' "$bold" "$*" "$off"; }
note() { printf '%s# %s%s\n' "$dim" "$*" "$off"; }

# lc ARGS...: a labctl command on this lab, shown as the seed's kubectl command.
lc() {
    local verb="$1"; shift
    printf '%s$ kubectl %s %s%s\n' "$bold" "$verb" "$*" "$off"
    "$LABCTL" "$verb" --lab "$lab" "$@" 2>&1 || true
}

# in TARGET [-n NS] -- CMD...: run CMD inside a pod or node, shown as typed there.
run_in() {
    local target="$1"; shift
    local ns=(); if [ "$1" = "-n" ]; then ns=(-n "$2"); shift 2; fi
    [ "$1" = "--" ] && shift
    printf '%s%s$ %s%s\n' "$bold" "$target" "$*" "$off"
    "$LABCTL" exec --lab "$lab" "${ns[@]}" "$target" -- "$@" 2>&1 || true
}

# sh_in TARGET [-n NS] LINE: a shell line (pipes, greps) inside a pod or node.
sh_in() {
    local target="$1"; shift
    local ns=(); if [ "$1" = "-n" ]; then ns=(-n "$2"); shift 2; fi
    printf '%s%s$ %s%s\n' "$bold" "$target" "$1" "$off"
    "$LABCTL" exec --lab "$lab" "${ns[@]}" "$target" -- sh -c "$1" 2>&1 || true
}

# first_pod SELECTOR [NS]: the first pod's name.
first_pod() {
    "$LABCTL" get pods --lab "$lab" -n "${2:-default}" -l "$1" -o name | head -1 | sed 's#^pod/##'
}

# wait_ready NS SELECTOR N: until N pods of SELECTOR are Running and Ready.
wait_ready() {
    for _ in $(seq 60); do
        local n
        n=$("$LABCTL" get pods --lab "$lab" -n "$1" -l "$2" 2>/dev/null | awk 'NR>1 && $2=="1/1" && $3=="Running"' | wc -l)
        [ "$n" -eq "$3" ] && return 0
        sleep 0.5
    done
    echo "(timed out waiting for $3 ready pods of $2)"
}

headless_services() {
    section "1. Inspect the topology"
    printf '%s$ labctl inspect%s\n' "$bold" "$off"; "$LABCTL" inspect --lab "$lab"
    section "2. Verify pods and services"
    lc get pods -o wide
    lc get statefulset
    lc get services
    local tool; tool=$(first_pod app=multitool)
    section "3. Compare ClusterIP vs headless service DNS resolution (from $tool)"
    run_in "$tool" -- dig +search nginx-clusterip
    run_in "$tool" -- dig +search nginx-headless
    run_in "$tool" -- dig +search redis-headless
    section "4. Redis pod-specific DNS records"
    lc get endpointslice -l kubernetes.io/service-name=redis-headless -o yaml
    lc get endpointslice -l kubernetes.io/service-name=nginx-headless -o yaml
    for i in 0 1 2; do run_in "$tool" -- dig +search +short "redis-$i.redis-headless"; done
    run_in "$tool" -- redis-cli -h redis-0.redis-headless ping
    section "5. Redis replication via headless service DNS"
    note "waiting for both replicas' link to the master (a fresh lab syncs in a few seconds)"
    for r in 1 2; do
        for _ in $(seq 40); do
            "$LABCTL" exec --lab "$lab" "$tool" -- redis-cli -h "redis-$r.redis-headless" INFO replication 2>/dev/null \
                | grep -q master_link_status:up && break
            sleep 0.5
        done
    done
    run_in "$tool" -- redis-cli -h redis-0.redis-headless INFO replication
    run_in "$tool" -- redis-cli -h redis-1.redis-headless INFO replication
    sh_in "$tool" 'redis-cli -h redis-2.redis-headless INFO replication | grep -E "role|master_host|master_link_status"'
    run_in "$tool" -- redis-cli -h redis-0.redis-headless SET mykey "Hello from master"
    sleep 0.3
    run_in "$tool" -- redis-cli -h redis-1.redis-headless GET mykey
    run_in "$tool" -- redis-cli -h redis-2.redis-headless GET mykey
    run_in "$tool" -- redis-cli -h redis-1.redis-headless SET anotherkey "test"
    printf '%s$ kubectl logs redis-1 | head -20%s\n' "$bold" "$off"
    "$LABCTL" logs --lab "$lab" redis-1 2>&1 | head -20 || true
    section "6. No iptables rules for headless services (on $lab-worker)"
    sh_in "$lab-worker" 'iptables -t nat -S KUBE-SERVICES | grep nginx-clusterip'
    sh_in "$lab-worker" 'iptables -t nat -S KUBE-SERVICES | grep nginx-headless || echo "(no output)"'
    sh_in "$lab-worker" 'iptables -t nat -S KUBE-SERVICES | grep redis-headless || echo "(no output)"'
    section "SRV records and the ping contrast"
    run_in "$tool" -- dig +short SRV _redis._tcp.redis-headless.default.svc.cluster.local
    run_in "$tool" -- ping -c 2 -W 1 nginx-clusterip
    run_in "$tool" -- ping -c 2 nginx-headless
}

show_hostname() {
    section "Deployment: two pods answering with their hostnames"
    lc get pods -o wide
    section "Both services"
    lc get svc -o wide -l app
    section "DNS of each service (from dns-client)"
    run_in dns-client -- dig show-hostname-headless +search +short
    run_in dns-client -- dig show-hostname-regular +search +short
    section "You can't ping a regular service's IP..."
    run_in dns-client -- ping show-hostname-regular -c 4 -W 1
    section "...but you can ping a headless service (you are pinging a pod)"
    run_in dns-client -- ping show-hostname-headless -c 4
    section "Each answers HTTP with a pod's hostname"
    run_in dns-client -- curl -s http://show-hostname-regular/
    run_in dns-client -- curl -s http://show-hostname-headless/
    section "Service discovery: scale to 3, the new pod IP appears in DNS"
    lc scale --replicas=3 deployment/show-hostname-deployment
    wait_ready default app=show-hostname-pod 3
    lc get pods -o wide -l app
    sleep 0.5
    run_in dns-client -- dig show-hostname-headless +search +short
    lc scale --replicas=2 deployment/show-hostname-deployment
    wait_ready default app=show-hostname-pod 2
}

nginx_microk8s() {
    section "Nginx deployment (microk8s seed)"
    lc get pods -o wide -l app=nginx
    lc get svc
    section "nslookup the ClusterIP service nginx from busybox: one address, the VIP"
    run_in busybox -- nslookup nginx
    section "nslookup the headless service nginx-headless: every pod"
    run_in busybox -- nslookup nginx-headless
}

nginx_statefulset() {
    section "The headless service (kubectl get svc)"
    lc get svc
    section "StatefulSet pods by name through the headless service nginx (dnsutils)"
    for i in 0 1 2; do run_in dnsutils -- nslookup "nginx-$i.nginx"; done
    run_in dnsutils -- curl -s http://nginx-0.nginx/
}

workshop() {
    section "1-2. The headless service myservice"
    lc get svc -n workshop
    lc get endpointslices -n workshop -l kubernetes.io/service-name=myservice
    section "3. DNS record of the service, from the prodcatalog pod"
    local cat; cat=$(first_pod app=prodcatalog workshop)
    run_in "$cat" -n workshop -- nslookup myservice.workshop.svc.cluster.local
    section "4. Scale out proddetail to 3"
    lc scale deployment proddetail --replicas=3 -n workshop
    wait_ready workshop app=proddetail 3
    lc get deployments -n workshop
    lc get pods -n workshop --selector app=proddetail -o wide
    section "5. The updated list of endpoints"
    lc get endpointslices -n workshop -l kubernetes.io/service-name=myservice
    section "6. DNS again: one A record per pod"
    sleep 0.5
    run_in "$cat" -n workshop -- nslookup myservice.workshop.svc.cluster.local
    section "7. Cleanup: scale back to 1"
    lc scale deployment proddetail --replicas=1 -n workshop
    wait_ready workshop app=proddetail 1
    lc get deployment -n workshop
}

case "$topology" in
    headless-services) headless_services ;;
    show-hostname) show_hostname ;;
    nginx-microk8s) nginx_microk8s ;;
    nginx-statefulset) nginx_statefulset ;;
    workshop) workshop ;;
    *) echo "no walkthrough for $topology (headless-services, show-hostname, nginx-microk8s, nginx-statefulset, workshop)" >&2; exit 2 ;;
esac
printf '\n%sdone: %s%s\n' "$bold" "$topology" "$off"
