package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// helperELF is the start of a Linux program: enough for WriteContext to
// treat it as one.
var helperELF = []byte("\x7fELF\x02\x01\x01 paude v1")

func TestClusterWorkspaceRecipe(t *testing.T) {
	cfg := testConfig(t.TempDir())
	podman, err := WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := ClusterWorkspaceRecipe(cfg, helperELF)
	if err != nil {
		t.Fatal(err)
	}
	newer, err := ClusterWorkspaceRecipe(cfg, []byte("\x7fELF\x02\x01\x01 paude v2"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the helper is copied last, to its path", func(t *testing.T) {
		cf := string(cluster.Containerfile)
		copyLine := "\nCOPY paude " + HelperPath + "\n"
		if !strings.Contains(cf, copyLine) {
			t.Fatalf("no %q in:\n%s", strings.TrimSpace(copyLine), cf)
		}
		if strings.Index(cf, copyLine) < strings.Index(cf, "COPY tmux.conf") || strings.Index(cf, copyLine) > strings.Index(cf, "\nUSER 1000") {
			t.Errorf("the helper must be copied after the other files and before the user changes:\n%s", cf)
		}
		if strings.Contains(cf, "--chown") {
			t.Error("the helper must stay root's")
		}
		if string(cluster.Files["paude"]) != string(helperELF) {
			t.Error("the recipe does not carry the helper")
		}
	})
	t.Run("a Podman image has no helper", func(t *testing.T) {
		if strings.Contains(string(podman.Containerfile), "COPY paude ") || podman.Files["paude"] != nil {
			t.Errorf("the Podman image carries the helper:\n%s", podman.Containerfile)
		}
		// Without the helper block the Containerfile is the Podman one.
		without := strings.Replace(string(cluster.Containerfile), helperBlock(t, cluster.Containerfile), "", 1)
		if without != string(podman.Containerfile) {
			t.Errorf("the cluster Containerfile differs from Podman's by more than the helper:\n%s", cluster.Containerfile)
		}
	})
	t.Run("the helper is in the content tag", func(t *testing.T) {
		if podman.Tag == cluster.Tag || cluster.Tag == newer.Tag {
			t.Errorf("tags podman %s, cluster %s, cluster with a newer helper %s: want all different", podman.Tag, cluster.Tag, newer.Tag)
		}
		again, err := ClusterWorkspaceRecipe(cfg, helperELF)
		if err != nil || again.Tag != cluster.Tag {
			t.Errorf("the same inputs give tag %s, want %s (%v)", again.Tag, cluster.Tag, err)
		}
	})
	t.Run("the helper is written executable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ctx")
		if err := cluster.WriteContext(dir); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(dir, "paude"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o755 {
			t.Errorf("helper mode %o, want 755", info.Mode().Perm())
		}
	})
	t.Run("no helper is an error", func(t *testing.T) {
		if _, err := ClusterWorkspaceRecipe(cfg, nil); err == nil || !strings.Contains(err.Error(), "needs the sync helper") {
			t.Errorf("err = %v", err)
		}
	})
}

// helperBlock is the helper's part of a Containerfile: from the blank
// line before its comment to its COPY line.
func helperBlock(t *testing.T, cf []byte) string {
	t.Helper()
	s := string(cf)
	end := strings.Index(s, "COPY paude "+HelperPath+"\n")
	start := strings.LastIndex(s[:end], "\n\n")
	if end < 0 || start < 0 {
		t.Fatalf("no helper block in:\n%s", s)
	}
	return s[start+1 : end+len("COPY paude "+HelperPath+"\n")]
}
