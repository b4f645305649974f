#!/bin/sh
# kube-proxy rule programming benchmark, per node netns (root). Prints the markdown
# rows that go into BENCHMARKS.md "## kube-proxy rules".
#   PROXY_BENCH_SIZES=100,1000,10000   services (× 3 endpoints each) to program
#   PROXY_BENCH_SINGLE_MAX=10000       largest size also programmed in ONE nft restore
#                                      (10,000 takes about two minutes)
set -eu
cd "$(dirname "$0")/.."
echo "machine: $(uname -r), $(nproc) cores, $(iptables --version), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
exec cargo bench --bench proxy_bench
