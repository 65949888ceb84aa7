// Package release holds the release tests, behind the build tag release:
// `make test-release` builds dist/ with `make release-snapshot` and runs
// them through test-release.sh. They check every archive's contents and
// binaries, and install the plugin with real krew v0.4.3.
package release
