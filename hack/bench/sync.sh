#!/bin/bash
# Benchmark (not a test): workspace sync on the Kubernetes testbed, over
# the real transport (client-go exec through the API server and the
# kubelet into a session pod running paude's image with the built
# kubectl-paude as its helper). Prints each result beside its same-run
# baseline: the first sync of 10,000 files and of one 1 GiB file against
# `tar c | exec tar x` over the same exec, edit latency both ways (p50,
# p95) against one exec round trip, and the helper's peak RSS watching
# 100,000 files against an empty tree (tests/kube/bench_sync_test.go).
#
# Usage: hack/bench/sync.sh [BENCHTIME]   (as root; make bench-sync)
# The testbed is the one PAUDE_TESTBED_NAME names, brought up and down by
# hack/testbed/test-kube.sh as for the tests (or used as it is, when up).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
benchtime=${1:-1x}
exec "$repo/hack/testbed/test-kube.sh" -run '^$' -bench '^BenchmarkSyncOverExec$' -benchtime "$benchtime"
