package guard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

func TestCheckPath(t *testing.T) {
	cases := []struct {
		path string
		want Rule
	}{
		{"src/main.go", ""},
		{".gitignore", ""},
		{".github/workflows/ci.yml", ""},
		{"a/.gitkeep", ""},
		{"", RuleBadName},
		{"/etc/passwd", RuleAbsolute},
		{"../x", RuleDotDot},
		{"a/../../x", RuleDotDot},
		{"a/..", RuleDotDot},
		{"./a", RuleBadName},
		{"a//b", RuleBadName},
		{"a/", RuleBadName},
		{"a\x00b", RuleBadName},
		{strings.Repeat("n", 256), RuleBadName},
		{strings.Repeat("a/", 2049) + "x", RuleBadName},
		{".git/config", RuleGitDir},
		{".git", RuleGitDir},
		{"sub/.git/hooks/pre-commit", RuleGitDir},
		{".GIT/commondir", RuleGitDir},
		{"x/.g\u200cit/config", RuleGitDir},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			r := CheckPath(c.path)
			switch {
			case c.want == "" && r != nil:
				t.Fatalf("refused: %v", r)
			case c.want != "" && (r == nil || r.Rule != c.want):
				t.Fatalf("got %v, want rule %s", r, c.want)
			}
		})
	}
}

func TestCheckEntry(t *testing.T) {
	x, _ := tree.NewExcludes([]string{"node_modules", "dist/"})
	p := &Policy{Excludes: x, Limits: Limits{MaxFileSize: 100}.WithDefaults()}
	file := func(path string, mode uint32, size int64) wire.Entry {
		return wire.Entry{Op: wire.OpPut, Kind: wire.KindFile, Path: path, Mode: mode, Size: size}
	}
	cases := []struct {
		name string
		e    wire.Entry
		want Rule
	}{
		{"plain file", file("a.txt", 0o644, 10), ""},
		{"executable", file("run.sh", 0o755, 10), ""},
		{"file at the size limit", file("big", 0o644, 100), ""},
		{"directory", wire.Entry{Op: wire.OpPut, Kind: wire.KindDir, Path: "d"}, ""},
		{"relative symlink", wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: "l", Target: "a.txt"}, ""},
		{"delete", wire.Entry{Op: wire.OpDelete, Path: "a.txt"}, ""},
		{"rename", wire.Entry{Op: wire.OpRename, Kind: wire.KindFile, Path: "b", Target: "a"}, ""},
		{"setuid", file("a", 0o4755, 1), RuleSpecialBits},
		{"setgid", file("a", 0o2755, 1), RuleSpecialBits},
		{"sticky dir", wire.Entry{Op: wire.OpPut, Kind: wire.KindDir, Path: "d", Mode: 0o1777}, RuleSpecialBits},
		{"oversize", file("big", 0o644, 101), RuleFileSize},
		{"hard link", wire.Entry{Op: wire.OpPut, Kind: wire.KindHardlink, Path: "h", Target: "/etc/shadow"}, RuleKind},
		{"char device", wire.Entry{Op: wire.OpPut, Kind: wire.KindCharDevice, Path: "null"}, RuleKind},
		{"block device", wire.Entry{Op: wire.OpPut, Kind: wire.KindBlockDevice, Path: "sda"}, RuleKind},
		{"fifo", wire.Entry{Op: wire.OpPut, Kind: wire.KindFIFO, Path: "p"}, RuleKind},
		{"socket", wire.Entry{Op: wire.OpPut, Kind: wire.KindSocket, Path: "s"}, RuleKind},
		{"unknown kind", wire.Entry{Op: wire.OpPut, Kind: 99, Path: "u"}, RuleKind},
		{"unknown op", wire.Entry{Op: 9, Kind: wire.KindFile, Path: "u"}, RuleProtocol},
		{"absolute symlink", wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: "l", Target: "/etc/passwd"}, RuleSymlinkEscape},
		{"empty symlink", wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: "l"}, RuleSymlinkEscape},
		{"NUL in target", wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: "l", Target: "a\x00"}, RuleBadName},
		{"OSC 52 in a name", file("a\x1b]52;c;aGk=\a.txt", 0o644, 1), RuleBadName},
		{"newline in a name", file("a\nb", 0o644, 1), RuleBadName},
		{"C1 control in a name", file("a\u009bb", 0o644, 1), RuleBadName},
		{"right-to-left override", file("gpj.\u202eexe.txt", 0o644, 1), RuleBadName},
		{"escape in a target", wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: "l", Target: "a\x1b[2J"}, RuleBadName},
		{"escape in a rename's source", wire.Entry{Op: wire.OpRename, Kind: wire.KindFile, Path: "b", Target: "a\x1b"}, RuleBadName},
		{"unicode name", file("naïve-日本.txt", 0o644, 1), ""},
		{"a file with a target", wire.Entry{Op: wire.OpPut, Kind: wire.KindFile, Path: "f", Target: "x"}, RuleProtocol},
		{"excluded", file("node_modules/x.js", 0o644, 1), RuleExcluded},
		{"excluded dir", wire.Entry{Op: wire.OpPut, Kind: wire.KindDir, Path: "dist"}, RuleExcluded},
		{"excluded delete", wire.Entry{Op: wire.OpDelete, Path: "node_modules"}, RuleExcluded},
		{"rename from .git", wire.Entry{Op: wire.OpRename, Kind: wire.KindFile, Path: "b", Target: ".git/config"}, RuleGitDir},
		{"rename into .git", wire.Entry{Op: wire.OpRename, Kind: wire.KindFile, Path: ".git/hooks/post-checkout", Target: "a"}, RuleGitDir},
		{"conflict copy name", file("a.paude-conflict-x", 0o644, 1), RuleExcluded},
		{"temp name", file(".paude-tmp-1", 0o644, 1), RuleExcluded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := p.CheckEntry(&c.e)
			switch {
			case c.want == "" && r != nil:
				t.Fatalf("refused: %v", r)
			case c.want != "" && (r == nil || r.Rule != c.want):
				t.Fatalf("got %v, want rule %s", r, c.want)
			}
		})
	}
}

func TestPrintableNeutralisesEscapes(t *testing.T) {
	got := Printable("a\x1b]52;c;ZXZpbA==\x07b\n")
	if strings.ContainsAny(got, "\x1b\x07\n") {
		t.Fatalf("raw control characters in %q", got)
	}
	r := Refusal{Rule: RuleBadName, Path: "\x1b[2J", Detail: "x"}
	if strings.Contains(r.Error(), "\x1b") {
		t.Fatal("escape sequence in an error")
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(0, 0)
	var slept time.Duration
	th := NewThrottle(Limits{EntryRate: 10, EntryBurst: 5})
	th.now = func() time.Time { return now }
	th.sleep = func(_ context.Context, d time.Duration) error {
		slept += d
		now = now.Add(d)
		return nil
	}
	ctx := context.Background()
	if delayed, err := th.Take(ctx, 5); delayed || err != nil {
		t.Fatalf("burst: delayed=%v err=%v", delayed, err)
	}
	if delayed, _ := th.Take(ctx, 10); !delayed {
		t.Fatal("over the burst and not slowed down")
	}
	if slept != time.Second {
		t.Fatalf("slept %v for 10 entries at 10/s, want 1s", slept)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	th.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	if _, err := th.Take(canceled, 100); err == nil {
		t.Fatal("a cancelled wait did not end")
	}
}
