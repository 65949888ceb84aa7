#!/usr/bin/env bash
# test-kube.sh [GO TEST ARGS...]: install (cached), bring the testbed up,
# run the Kubernetes integration tests (tests/kube, build tag integration)
# inside its network namespace, and bring it down again even when they fail.
# Exits with the tests' status. Extra arguments go to `go test` (for example
# -run TestEgress). A testbed that was already up (someone's hand-started
# one) is used and left running: it is not this script's to stop.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

repo=$(cd "$TB_DIR/../.." && pwd)
pkgs=./tests/kube/...
timing=()
# t LABEL CMD...: run CMD and record how long it took under LABEL.
t() {
	local label=$1 s rc=0
	shift
	s=$(tb_now)
	"$@" || rc=$?
	timing+=("$(printf '%-10s %7ss' "$label" "$(tb_since "$s")")")
	return "$rc"
}

[[ $EUID -eq 0 ]] || tb_die "test-kube.sh must run as root (it starts the testbed)"
tb_lock
t install "$TB_DIR/install.sh"
cd "$repo"

owned=true
if tb_healthy; then
	owned=false
	tb_log "using the testbed that is already up; it stays up afterwards"
fi
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local rc=$?
	if $owned; then
		t down "$TB_DIR/down.sh" || rc=1
	fi
	printf '[testbed] timings:\n' >&2
	printf '[testbed]   %s\n' "${timing[@]}" >&2
	exit "$rc"
}
trap cleanup EXIT
t up "$TB_DIR/up.sh"
# shellcheck source=/dev/null
source "$TB_STATE/env"
# go test compiles outside the network namespace (which cannot reach the
# module proxy); -exec then runs each test binary inside it through
# enter.sh, in a private mount namespace whose resolv.conf names the
# cluster's DNS, and go test's own output, closing ok/FAIL lines included,
# stays as usual.
rc=0
out=$TB_STATE/logs/go-test.out
# run_tests: go test, its output also kept in $out for the summary below.
# shellcheck disable=SC2317 # invoked through t
run_tests() {
	go test -tags integration -count=1 -v -timeout 20m \
		-exec "$TB_DIR/enter.sh" "$@" "$pkgs" 2>&1 | tee "$out"
}
t test run_tests "$@" || rc=$?
if ((rc != 0)); then
	tb_log "tests failed (exit $rc); component logs are in $TB_STATE/logs"
	tb_tails
	tb_log "why the failed tests failed:"
	"$repo/hack/test-failures.sh" "$out" >&2
fi
exit "$rc"
