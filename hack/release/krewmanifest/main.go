// Command krewmanifest renders the krew plugin manifest template
// (krew/paude.yaml) for the release goreleaser left in dist/: one platform
// per archive that holds the plugin binary, with its download URI and
// sha256. `make release-snapshot` runs it and then checks the result with
// krew's own validate-krew-manifest.
//
//	krewmanifest -template krew/paude.yaml -dist dist -out dist/krew/paude.yaml
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/template"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "krewmanifest:", err)
		os.Exit(1)
	}
}

// run parses args, renders the manifest and writes it.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("krewmanifest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tmplPath := fs.String("template", "krew/paude.yaml", "the manifest template")
	dist := fs.String("dist", "dist", "goreleaser's output directory")
	binary := fs.String("binary", "kubectl-paude", "the plugin binary the archives must hold (the manifest's bin)")
	out := fs.String("out", "dist/krew/paude.yaml", "where to write the manifest; krew names the plugin after the file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every input is a flag (see -h)", fs.Args())
	}
	rel, err := readRelease(*dist, *binary)
	if err != nil {
		return err
	}
	text, err := os.ReadFile(*tmplPath)
	if err != nil {
		return fmt.Errorf("read the manifest template: %w", err)
	}
	manifest, err := render(*tmplPath, string(text), rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return fmt.Errorf("create the manifest's directory: %w", err)
	}
	if err := os.WriteFile(*out, manifest, 0o644); err != nil {
		return fmt.Errorf("write the manifest: %w", err)
	}
	_, err = fmt.Fprintf(stderr, "krewmanifest: wrote %s (%s, %d platforms)\n", *out, rel.Tag, len(rel.Archives))
	return err
}

// manifestData is what the template sees.
type manifestData struct {
	// Version is the plugin version krew shows and compares: semver with
	// a leading v, as krew requires.
	Version string
	// Tag is the release's git tag, the download URL's directory.
	Tag string
	// Platforms holds one entry per archive.
	Platforms []platform
}

// platform is one of the manifest's spec.platforms.
type platform struct {
	OS, Arch, Archive, SHA256 string
}

// render executes the template named name (its text in text) for rel.
func render(name, text string, rel release) ([]byte, error) {
	t, err := template.New(filepath.Base(name)).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse the manifest template: %w", err)
	}
	data := manifestData{Version: "v" + rel.Version, Tag: rel.Tag}
	for _, a := range rel.Archives {
		data.Platforms = append(data.Platforms, platform{OS: a.OS, Arch: a.Arch, Archive: a.Name, SHA256: a.SHA256})
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render the manifest template: %w", err)
	}
	return buf.Bytes(), nil
}
