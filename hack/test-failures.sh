#!/usr/bin/env bash
# test-failures.sh FILE: print, from the `go test -v` output saved in FILE,
# each failed test's own messages (the lines its _test.go files logged,
# with their continuation lines), leaving out MEASURE lines and the
# harness's cluster dumps. The suites print this last, so the reason a
# test failed is at the end of a long CI log, not buried above the dumps
# and component logs.
set -euo pipefail
[[ $# -eq 1 && -r $1 ]] || {
	echo "usage: $0 GO-TEST-OUTPUT-FILE" >&2
	exit 2
}
awk '
	function flush(name,    i, n) {
		n = count[name]
		if (n == 0) return
		print "--- " name
		for (i = 1; i <= n; i++) print lines[name, i]
	}
	/^=== (RUN|CONT|PAUSE|NAME) / { test = $3; keep = 0; next }
	/^ *--- FAIL: / { flush($3); failed++; next }
	/^ *--- (PASS|SKIP): / { keep = 0; next }
	# A message logged from a test file starts a record; continuation
	# lines are indented deeper. Anything else ends the record.
	/^ +[A-Za-z0-9_]+_test\.go:[0-9]+: / {
		keep = ($0 !~ /: MEASURE /)
		extra = 0
		if (keep) lines[test, ++count[test]] = $0
		next
	}
	/^        / && keep && test != "" {
		if (++extra <= 40) lines[test, ++count[test]] = $0
		else if (extra == 41) lines[test, ++count[test]] = "        [... cut]"
		next
	}
	{ keep = 0 }
	END { if (failed) printf "(%d failed tests or subtests)\n", failed }
' "$1"
