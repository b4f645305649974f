#!/usr/bin/env bash
# Issue 5's benchmark: scale → endpoints in DNS and rules (N = 3, 30, 300) and the
# supervisor's memory with 1000 pods. Prints Markdown rows for BENCHMARKS.md.
# Usage: sudo scripts/bench-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export LABCTL_DNS_UPSTREAMS=""
cargo bench --quiet --bench scale_bench 2>&1 | grep '^|'
