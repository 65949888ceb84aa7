package gitboundary

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
)

// minHostGit is the oldest host git Fetch works with: `git fetch --atomic`
// came in 2.31 (--no-write-fetch-head and --stdin in 2.29).
var minHostGit = [2]int{2, 31}

var gitVersionPattern = regexp.MustCompile(`^git version (\d+)\.(\d+)`)

// CheckHostGit returns an error when git is missing on this machine or
// older than paude's git boundary needs (2.31).
func CheckHostGit(ctx context.Context) error {
	out, err := RunHostGit(ctx, "", "version")
	if err != nil {
		return fmt.Errorf("failed to run git: %w: install git 2.31 or newer", err)
	}
	return checkGitVersion(string(out))
}

// checkGitVersion checks `git version` output against minHostGit.
func checkGitVersion(out string) error {
	m := gitVersionPattern.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("unexpected git version output %q: install git %d.%d or newer", Display(out), minHostGit[0], minHostGit[1])
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < minHostGit[0] || (major == minHostGit[0] && minor < minHostGit[1]) {
		return fmt.Errorf("git %d.%d is too old for paude's git boundary: install git %d.%d or newer", major, minor, minHostGit[0], minHostGit[1])
	}
	return nil
}
