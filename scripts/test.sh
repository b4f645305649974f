#!/usr/bin/env bash
# The whole test suite: style, lints, unit tests and the integration tests that
# build real namespaces (needs root). Installs its own dependencies first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $EUID -ne 0 ]]; then
  echo "test.sh: the integration tests create network namespaces: run as root (sudo $0)" >&2
  exit 1
fi

scripts/setup.sh
# Labs deployed by tests answer only cluster names: no DNS question leaves the machine.
export LABCTL_DNS_UPSTREAMS=""
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo build --locked --all-targets
cargo test --locked --all-targets -- --test-threads 4

# Nothing may be left behind by the tests.
leftover=$(ip netns list | grep -E '^(lt|kt)-' || true)
if [[ -n "$leftover" ]]; then
  echo "test.sh: tests left network namespaces behind:" >&2
  echo "$leftover" >&2
  exit 1
fi
