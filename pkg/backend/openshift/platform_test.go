package openshift

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
)

func node(name, arch string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{Architecture: arch, OperatingSystem: "linux"}}}
}

func TestBuildPlatform(t *testing.T) {
	binfmt := t.TempDir()
	if err := os.WriteFile(filepath.Join(binfmt, "qemu-aarch64"), []byte("enabled\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		nodes    []runtime.Object
		forbid   bool
		platform string
		binfmt   string
		want     platform
		wantFlag string
		wantErr  string
	}{
		{name: "nodes of this machine's architecture", nodes: []runtime.Object{node("a", "amd64"), node("b", "amd64")},
			want: platform{Arch: "amd64", Source: "the cluster's nodes"}},
		{name: "arm64 nodes, emulated", nodes: []runtime.Object{node("a", "arm64")}, binfmt: binfmt,
			want: platform{Arch: "arm64", Source: "the cluster's nodes", Foreign: true}, wantFlag: "linux/arm64"},
		{name: "arm64 nodes, no emulator", nodes: []runtime.Object{node("a", "arm64")},
			wantErr: "must be built for arm64 (from the cluster's nodes), but this machine is amd64 and cannot emulate arm64"},
		{name: "mixed nodes", nodes: []runtime.Object{node("a", "arm64"), node("b", "amd64")},
			wantErr: "the cluster's nodes have the architectures amd64, arm64: set backend.platform"},
		{name: "nodes may not be listed: this machine's", forbid: true, want: platform{Arch: "amd64", Source: "this machine"}},
		{name: "backend.platform wins", nodes: []runtime.Object{node("a", "amd64")}, platform: "linux/arm64", binfmt: binfmt,
			want: platform{Arch: "arm64", Source: "backend.platform", Foreign: true}, wantFlag: "linux/arm64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Backend.Platform = tt.platform
			tb := newTestBackend(t, cfg, tt.nodes...)
			tb.opts.HostArch = "amd64"
			tb.opts.BinfmtDir = tt.binfmt
			if tt.binfmt == "" {
				tb.opts.BinfmtDir = t.TempDir()
			}
			if tt.forbid {
				tb.cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("no"))
				})
			}
			c, _ := tb.client()
			got, err := tb.buildPlatform(context.Background(), c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || got.flag() != tt.wantFlag {
				t.Errorf("platform %+v (flag %q), %v; want %+v (flag %q)", got, got.flag(), err, tt.want, tt.wantFlag)
			}
			if tt.want.Foreign && got.tagSuffix() != "-"+tt.want.Arch {
				t.Errorf("tag suffix %q", got.tagSuffix())
			}
		})
	}
}
