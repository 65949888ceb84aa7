#!/usr/bin/env bash
# test-release.sh [GO TEST ARGS...]: the release tests (hack/release, build
# tag release) against dist/, which `make release-snapshot` fills: every
# archive's contents and binaries, and real krew installing the plugin from
# the rendered manifest. `make test-release` runs both and passes
# PAUDE_WANT_VERSION and PAUDE_WANT_COMMIT (make build's stamp).
#
# kubectl: PAUDE_KUBECTL, or else the testbed's build of kubectl v1.37.2.
# In `make check` test-kube has built and cached it already; otherwise, as
# root, hack/testbed/install.sh builds it (with the rest of the testbed, the
# same cache test-kube uses). Without one the krew test skips, and fails
# under PAUDE_REQUIRE_ALL=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [[ -z ${PAUDE_KUBECTL:-} ]]; then
	# shellcheck source=hack/testbed/lib.sh
	source "$repo/hack/testbed/lib.sh"
	kubectl="$(tb_bin_dir)/kubectl"
	if [[ ! -x $kubectl && $EUID -eq 0 ]]; then
		"$repo/hack/testbed/install.sh"
	fi
	if [[ -x $kubectl ]]; then
		export PAUDE_KUBECTL=$kubectl
	else
		printf '[release] no kubectl: not root, so hack/testbed/install.sh cannot build it; set PAUDE_KUBECTL\n' >&2
	fi
fi
export PAUDE_RELEASE_DIST=$repo/dist
cd "$here"
exec go test -tags release -count=1 -v -timeout 15m "$@" .
