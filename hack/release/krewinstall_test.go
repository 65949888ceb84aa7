//go:build release

package release

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// krewEnv runs kubectl with krew as a user would have them: kubectl-krew
// and KREW_ROOT/bin on PATH, and nothing else of the machine's but
// kubectl's own directory.
type krewEnv struct {
	kubectl string
	root    string // KREW_ROOT
	env     []string
}

// newKrewEnv makes an empty KREW_ROOT in which krew acts as if it ran on
// p (KREW_OS, KREW_ARCH); krewBin holds kubectl-krew and git is the git
// binary krew clones indexes with.
func newKrewEnv(t *testing.T, kubectl, krewBin, git string, p platform) *krewEnv {
	t.Helper()
	home := t.TempDir()
	root := filepath.Join(home, ".krew")
	path := []string{krewBin, filepath.Join(root, "bin"), filepath.Dir(kubectl), filepath.Dir(git)}
	return &krewEnv{kubectl: kubectl, root: root, env: []string{
		"PATH=" + strings.Join(path, string(os.PathListSeparator)),
		"HOME=" + home,
		"KREW_ROOT=" + root,
		"KREW_OS=" + p.OS,
		"KREW_ARCH=" + p.Arch,
		// krew would ask GitHub for its latest release otherwise.
		"KREW_NO_UPGRADE_CHECK=1",
		// No cluster is involved; make sure none is reached by accident.
		"KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"),
	}}
}

// addIndex adds the plugin index in the git repository dir, as
// `kubectl krew index add` does for a user: krew's uninstall refuses to
// run without an index (the default one would be cloned from GitHub).
func (k *krewEnv) addIndex(t *testing.T, dir string) {
	t.Helper()
	k.mustRun(t, "krew", "index", "add", "local", dir)
}

// run runs `kubectl args...` and returns its combined output.
func (k *krewEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.kubectl, args...)
	cmd.Env = k.env
	out, err := cmd.CombinedOutput()
	t.Logf("kubectl %s:\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// mustRun is run, failing the test when kubectl fails.
func (k *krewEnv) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := k.run(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// assertNoPaude fails when anything of paude is left in KREW_ROOT: a
// receipt, the store, the bin link, or any other path naming it.
func (k *krewEnv) assertNoPaude(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(k.root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(filepath.Base(path), "paude") {
			t.Errorf("left in KREW_ROOT after uninstall: %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"bin", "receipts", "store"} {
		entries, err := os.ReadDir(filepath.Join(k.root, dir))
		if err != nil {
			t.Fatalf("KREW_ROOT/%s: %v", dir, err)
		}
		if len(entries) != 0 {
			t.Errorf("KREW_ROOT/%s is not empty after uninstall: %v", dir, entries)
		}
	}
}

// buildKrew builds krew v0.4.3, pinned as a tool of this module, as
// kubectl-krew in a fresh directory: kubectl finds it on PATH as the
// `krew` plugin.
func buildKrew(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-krew"), "sigs.k8s.io/krew/cmd/krew")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build krew: %v\n%s", err, out)
	}
	return dir
}

// localIndex makes a git repository holding an empty krew plugin index,
// to stand in for krew-index, which cannot be cloned here.
func localIndex(t *testing.T, git string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugins", ".keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "plugins"},
		{"-c", "user.name=paude-test", "-c", "user.email=paude-test@localhost", "commit", "-q", "-m", "empty index"},
	} {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return dir
}

// TestKrewInstall installs the plugin with real krew from the rendered
// manifest and each platform's archive (krew checks the archive against
// the manifest's sha256), checks what krew put where, runs `kubectl paude
// version` and `kubectl paude --help` through kubectl on the host's
// platform, uninstalls, and checks that nothing of paude is left.
func TestKrewInstall(t *testing.T) {
	dist := requireEnv(t, "PAUDE_RELEASE_DIST")
	wantVersion := wantVersionLine(t, "kubectl-paude")
	kubectl := os.Getenv("PAUDE_KUBECTL")
	if kubectl == "" {
		skipOrFail(t, "PAUDE_KUBECTL is unset: test-release.sh takes the testbed's kubectl, which hack/testbed/install.sh builds (as root)")
	}
	if _, err := exec.LookPath(kubectl); err != nil {
		t.Fatalf("PAUDE_KUBECTL=%s is not an executable: %v", kubectl, err)
	}
	manifest := filepath.Join(dist, "krew", "paude.yaml")
	if _, err := os.Stat(manifest); err != nil {
		t.Fatalf("no rendered krew manifest: %v: run make release-snapshot", err)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		skipOrFail(t, "git is not installed: krew clones its plugin indexes with it")
	}
	krewBin := buildKrew(t)
	index := localIndex(t, git)
	host := platform{runtime.GOOS, runtime.GOARCH}
	ranOnHost := false

	for _, p := range platforms {
		t.Run(p.String(), func(t *testing.T) {
			k := newKrewEnv(t, kubectl, krewBin, git, p)
			k.addIndex(t, index)
			archive := findArchive(t, dist, "kubectl-paude", p)
			out := k.mustRun(t, "krew", "install", "--manifest="+manifest, "--archive="+archive)
			for _, want := range []string{"Installed plugin: paude", "kubectl paude setup -n NAMESPACE"} {
				if !strings.Contains(out, want) {
					t.Errorf("krew install printed no %q (the caveats are part of the manifest)", want)
				}
			}

			link := filepath.Join(k.root, "bin", "kubectl-paude")
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("krew made no link %s: %v", link, err)
			}
			target, err := filepath.EvalSymlinks(link)
			if err != nil {
				t.Fatal(err)
			}
			store, err := filepath.EvalSymlinks(filepath.Join(k.root, "store", "paude"))
			if err != nil {
				t.Fatalf("krew stored nothing for paude: %v", err)
			}
			if !strings.HasPrefix(target, store+string(filepath.Separator)) {
				t.Fatalf("%s points to %s, outside krew's store %s", link, target, store)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(target), "LICENSE")); err != nil {
				t.Errorf("krew did not install the LICENSE (krew's index requires one): %v", err)
			}
			b, err := os.ReadFile(target)
			if err != nil {
				t.Fatal(err)
			}
			checkExecutable(t, b, "kubectl-paude", p)

			if p == host {
				ranOnHost = true
				if out := k.mustRun(t, "paude", "version"); out != wantVersion {
					t.Errorf("kubectl paude version printed %q, want %q (make build's stamp)", out, wantVersion)
				}
				help := k.mustRun(t, "paude", "--help")
				if !strings.Contains(help, "Usage:\n  kubectl paude [flags]") {
					t.Errorf("kubectl paude --help printed no usage naming `kubectl paude`:\n%s", help)
				}
			}

			out = k.mustRun(t, "krew", "uninstall", "paude")
			if !strings.Contains(out, "Uninstalled plugin: paude") {
				t.Errorf("krew uninstall printed no \"Uninstalled plugin: paude\"")
			}
			k.assertNoPaude(t)
			if out, err := k.run(t, "paude", "version"); err == nil {
				t.Errorf("kubectl paude still runs after the uninstall:\n%s", out)
			}
		})
	}
	if !ranOnHost {
		skipOrFail(t, fmt.Sprintf("the release has no build for this machine (%s), so kubectl paude was not run", host))
	}

	// Control: krew checks the archive against the manifest, so the
	// checks above stand on real checksums.
	t.Run("control: another platform's archive is refused", func(t *testing.T) {
		k := newKrewEnv(t, kubectl, krewBin, git, platform{"linux", "amd64"})
		wrong := findArchive(t, dist, "kubectl-paude", platform{"darwin", "arm64"})
		out, err := k.run(t, "krew", "install", "--manifest="+manifest, "--archive="+wrong)
		if err == nil || !strings.Contains(out, "checksum does not match") {
			t.Fatalf("krew installed the darwin/arm64 archive as linux/amd64 (err %v)", err)
		}
		k.assertNoPaude(t)
	})
}
