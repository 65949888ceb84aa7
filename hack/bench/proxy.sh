#!/bin/bash
# Benchmark (not a test): what a session's squid costs. Echoes bytes through
# 1, 16 and 64 concurrent CONNECT tunnels and, as the same-run baseline,
# over direct connections to the same upstream, printing the time ratio
# (proxy/direct) and squid's idle and peak resident memory; then holds 500
# idle tunnels open. The numbers size backend.proxyResources
# (docs/OPENSHIFT.md). Runs squid under an arbitrary UID in a private
# network namespace: nothing leaves the machine.
#
# Usage: hack/bench/proxy.sh [BENCHTIME]   (as root, squid installed; make bench-proxy)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
benchtime=${1:-3x}
bin=$(mktemp -d /tmp/paude-bench-proxy.XXXXXX)
trap 'rm -rf "$bin"' EXIT
chmod 0755 "$bin"
(cd "$repo" && go test -c -o "$bin/image.test" ./pkg/image)
cd "$bin"
PAUDE_TEST_NETNS_CHILD=1 unshare --net -- "$bin/image.test" \
  -test.run='^$' -test.bench='^BenchmarkProxyTunnels$' -test.benchtime="$benchtime" -test.v
