// Package fakeapi fakes the model endpoints Claude Code calls, so a test
// can run the real `claude` against them under the real host names,
// through the real proxy, over TLS that the test's own CA signs.
//
// A Server routes by Host header: api.anthropic.com (Anthropic's API),
// platform.claude.com (a Claude account's token refresh),
// oauth2.googleapis.com (Google's OAuth token endpoint, which refreshes
// the authorized_user ADC file ADCFile writes) and
// aiplatform.googleapis.com or <region>-aiplatform.googleapis.com (Vertex
// AI). It answers every model call with one fixed text, checks the
// credential each call presents, and records every request (and logs it,
// for a Server in a container), so a test can assert that the path it
// meant was the path used. CA makes the certificates for those names; a
// test mounts CA.CertPEM where NODE_EXTRA_CA_CERTS points.
//
// Hosts is the allowlist each provider needs and QuietEnv the environment
// that keeps Claude Code to it. NOTES.md records how both were measured,
// for which Claude Code version, and what else Claude Code sends.
//
// The tests that run the real Claude Code carry the e2e build tag and need
// root (for a private network namespace) and npm (to install Claude Code
// once, into /var/cache/paude-tools/claude-code):
//
//	go test -tags e2e -count=1 ./tests/fakeapi/
package fakeapi
