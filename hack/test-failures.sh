#!/usr/bin/env bash
# test-failures.sh FILE: print, from the `go test -v` output saved in FILE,
# why tests failed: each failed test's own messages (the lines it logged,
# with their continuation lines, leaving out MEASURE lines and the
# harness's namespace dumps), and any panic or timeout. The suites print
# this last, so the reason is at the end of a long CI log, not buried
# above the dumps and component logs.
set -euo pipefail
[[ $# -eq 1 && -r $1 ]] || {
	echo "usage: $0 GO-TEST-OUTPUT-FILE" >&2
	exit 2
}
awk '
	function flush(name,    i) {
		print "--- " name
		for (i = 1; i <= count[name]; i++) print lines[name, i]
		count[name] = 0
	}
	function add(line) {
		lines[test, ++count[test]] = line
	}
	# A panic (a test timeout is one) ends the package: keep its message
	# and the start of what follows (the "running tests:" list, or the
	# panicking goroutine with the test file and line).
	/^panic: / && !inpanic { inpanic = 1; npanic = 0 }
	inpanic {
		if (++npanic <= 24) panics[++panicn] = $0
		if ($0 ~ /^(ok|FAIL)[ \t]/) inpanic = 0
		else next
	}
	/^=== RUN / { test = $3; count[test] = 0; keep = 0; dumpsrc = ""; next }
	/^=== (CONT|PAUSE|NAME) / { test = $3; keep = 0; next }
	/^ *--- FAIL: / { flush($3); failed++; keep = 0; next }
	/^ *--- (PASS|SKIP): / { keep = 0; next }
	# A package ended: the next one may reuse test names.
	/^(ok|FAIL)[ \t]/ { split("", count); test = ""; keep = 0; next }
	# A message logged from Go code starts a record; continuation lines
	# are indented deeper. Anything else ends the record.
	/^ +[A-Za-z0-9_.-]+\.go:[0-9]+: / {
		src = $1
		if ($0 ~ /: ----- dump of namespace /) dumpsrc = src
		keep = ($0 !~ /: MEASURE / && src != dumpsrc)
		extra = 0
		if (keep && test != "") add($0)
		next
	}
	/^        / && keep && test != "" {
		if (++extra <= 40) add($0)
		else if (extra == 41) add("        [... cut]")
		next
	}
	{ keep = 0 }
	END {
		for (i = 1; i <= panicn; i++) print panics[i]
		if (failed) printf "(%d failed tests or subtests)\n", failed
	}
' "$1"
