package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// release is what the manifest needs from one goreleaser run in dist/.
type release struct {
	// Tag is the git tag the release is published under (v0.0.0 for a
	// snapshot without tags).
	Tag string
	// Version is goreleaser's version, without the leading v.
	Version string
	// Archives are the archives that hold the plugin binary, sorted by
	// os and arch.
	Archives []archive
}

// archive is one release archive as it lies in dist/.
type archive struct {
	Name   string // file name, also the last element of its download URL
	OS     string // GOOS
	Arch   string // GOARCH
	SHA256 string // hex digest of the file's bytes
}

// metadata is the part of goreleaser's dist/metadata.json used here.
type metadata struct {
	Tag     string `json:"tag"`
	Version string `json:"version"`
}

// artifact is the part of one entry of goreleaser's dist/artifacts.json
// used here.
type artifact struct {
	Name   string `json:"name"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	Type   string `json:"type"`
	Extra  struct {
		Binaries []string `json:"Binaries"`
	} `json:"extra"`
}

// readRelease reads the release in dist that contains binary: goreleaser's
// metadata and artifact list, and checksums.txt, whose entry for every
// archive must match the archive's bytes (a stale or hand-edited dist/
// must not reach a manifest).
func readRelease(dist, binary string) (release, error) {
	var md metadata
	if err := readJSON(filepath.Join(dist, "metadata.json"), &md); err != nil {
		return release{}, err
	}
	if md.Tag == "" || md.Version == "" {
		return release{}, fmt.Errorf("%s has no tag or version: rebuild dist/ with make release-snapshot", filepath.Join(dist, "metadata.json"))
	}
	var arts []artifact
	if err := readJSON(filepath.Join(dist, "artifacts.json"), &arts); err != nil {
		return release{}, err
	}
	sums, err := readChecksums(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		return release{}, err
	}
	rel := release{Tag: md.Tag, Version: md.Version}
	seen := map[string]string{}
	for _, a := range arts {
		if a.Type != "Archive" || !slices.Contains(a.Extra.Binaries, binary) {
			continue
		}
		if a.GOOS == "" || a.GOARCH == "" {
			return release{}, fmt.Errorf("archive %s in artifacts.json has no goos or goarch: archive one build per platform", a.Name)
		}
		platform := a.GOOS + "/" + a.GOARCH
		if prev, dup := seen[platform]; dup {
			return release{}, fmt.Errorf("archives %s and %s both hold %s for %s: krew needs exactly one archive per platform", prev, a.Name, binary, platform)
		}
		seen[platform] = a.Name
		sum, err := fileSHA256(filepath.Join(dist, a.Name))
		if err != nil {
			return release{}, err
		}
		listed, ok := sums[a.Name]
		if !ok {
			return release{}, fmt.Errorf("checksums.txt has no entry for %s: rebuild dist/ with make release-snapshot", a.Name)
		}
		if listed != sum {
			return release{}, fmt.Errorf("checksums.txt lists %s for %s but the file's sha256 is %s: rebuild dist/ with make release-snapshot", listed, a.Name, sum)
		}
		rel.Archives = append(rel.Archives, archive{Name: a.Name, OS: a.GOOS, Arch: a.GOARCH, SHA256: sum})
	}
	if len(rel.Archives) == 0 {
		return release{}, fmt.Errorf("no archive in %s holds %s: check the archives' ids in .goreleaser.yaml", filepath.Join(dist, "artifacts.json"), binary)
	}
	slices.SortFunc(rel.Archives, func(a, b archive) int {
		return strings.Compare(a.OS+"/"+a.Arch, b.OS+"/"+b.Arch)
	})
	return rel, nil
}

// readJSON decodes the JSON file at path into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read goreleaser output: %w: run make release-snapshot first", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is not goreleaser's JSON: %w: rebuild dist/ with make release-snapshot", path, err)
	}
	return nil
}

// readChecksums parses a sha256sum-style file ("<hex>  <name>" per line)
// into name → hex digest.
func readChecksums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read checksums: %w: run make release-snapshot first", err)
	}
	defer func() { _ = f.Close() }()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != sha256.Size*2 || name == "" {
			return nil, fmt.Errorf("%s:%d: want \"<sha256 hex>  <file name>\", got %q: rebuild dist/ with make release-snapshot", path, n, sc.Text())
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return sums, nil
}

// fileSHA256 returns the hex sha256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open release archive: %w: rebuild dist/ with make release-snapshot", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
