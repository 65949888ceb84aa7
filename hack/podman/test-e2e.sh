#!/bin/bash
# Run the Podman e2e suite (tests/e2e, build tag e2e) against real rootful
# podman: installs what it needs (hack/podman/install.sh, cached), builds
# the paude binary, then runs the suite. Extra arguments go to `go test`
# (e.g. -run TestIsolation). `make test-e2e` calls exactly this.
#
# The suite removes every paude container, the proxy and the paude
# network of this machine before and after it runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

T0=$(now)
"$here/install.sh"
export CONTAINERS_CONF=$PAUDE_CONTAINERS_CONF

cd "$repo"
t=$(now)
mkdir -p bin
CGO_ENABLED=0 go build -trimpath -o bin/paude ./cmd/paude
export PAUDE_BIN=$repo/bin/paude
log "built bin/paude ($(elapsed "$t")s)"

t=$(now)
rc=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -tags e2e -count=1 -timeout 60m -v ./tests/e2e/ ./tests/fakeapi/ "$@" 2>&1 | tee "$out" || rc=$?
log "e2e suite took $(elapsed "$t")s (total with install and build $(elapsed "$T0")s), exit code $rc"
if ((rc != 0)); then
	log "why the failed tests failed:"
	"$repo/hack/test-failures.sh" "$out" >&2
fi
exit "$rc"
