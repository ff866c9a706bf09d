package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readTar returns the regular files of an archive by name.
func readTar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	r := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := r.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = data
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestBuildArchiveLayout(t *testing.T) {
	t.Parallel()
	bin := []byte("\x7fELF not really a binary")
	archive, id, err := build(bin, options{tag: "rollout-gate/testapp:e2e", path: "/usr/bin/testapp", arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	files := readTar(t, archive)
	var manifest []manifestEntry
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 || len(manifest[0].RepoTags) != 1 || manifest[0].RepoTags[0] != "rollout-gate/testapp:e2e" {
		t.Fatalf("manifest = %+v, want one entry tagged rollout-gate/testapp:e2e", manifest)
	}
	cfgBytes := files[manifest[0].Config]
	if id != "sha256:"+sha(cfgBytes) || manifest[0].Config != sha(cfgBytes)+".json" {
		t.Errorf("image ID %s and config name %s do not match the config digest %s", id, manifest[0].Config, sha(cfgBytes))
	}
	var cfg imageConfig
	if err := json.Unmarshal(cfgBytes, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/usr/bin/testapp" || cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("config = %+v, want entrypoint /usr/bin/testapp on linux/amd64", cfg)
	}
	layer := files[manifest[0].Layers[0]]
	if cfg.RootFS.DiffIDs[0] != "sha256:"+sha(layer) {
		t.Errorf("diff_id %s does not match layer digest %s", cfg.RootFS.DiffIDs[0], sha(layer))
	}
	names := layerEntries(t, layer, func(h *tar.Header, r io.Reader) {
		if h.Name == "usr/bin/testapp" {
			if h.Mode != 0o755 {
				t.Errorf("binary mode = %o, want 755", h.Mode)
			}
			if got, _ := io.ReadAll(r); !bytes.Equal(got, bin) {
				t.Errorf("binary content differs")
			}
		}
	})
	if want := "usr/ usr/bin/ tmp/ usr/bin/testapp"; strings.Join(names, " ") != want {
		t.Errorf("layer entries = %q, want %q", strings.Join(names, " "), want)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	t.Parallel()
	o := options{tag: "a/b:c", path: "/app", arch: "amd64"}
	a1, id1, err := build([]byte("one"), o)
	if err != nil {
		t.Fatal(err)
	}
	a2, id2, _ := build([]byte("one"), o)
	_, id3, _ := build([]byte("two"), o)
	if !bytes.Equal(a1, a2) || id1 != id2 {
		t.Error("same binary gave different archives")
	}
	if id1 == id3 {
		t.Error("different binaries gave the same image ID")
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    options
		want string
	}{
		{"relative path", options{tag: "a:b", path: "app"}, "clean absolute"},
		{"root path", options{tag: "a:b", path: "/"}, "clean absolute"},
		{"unclean path", options{tag: "a:b", path: "/x/../app"}, "clean absolute"},
		{"tag without version", options{tag: "a", path: "/app"}, "NAME:TAG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := build([]byte("x"), tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("build error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPackFileKeepsUnchangedArchive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	out := filepath.Join(dir, "app.tar")
	if err := os.WriteFile(bin, []byte("v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := options{tag: "a:b", path: "/app", arch: "amd64"}
	id1, err := packFile(bin, out, o)
	if err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(out)
	// Make any rewrite visible: a rewritten file gets a new inode through the rename.
	id2, err := packFile(bin, out, o)
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(out)
	if id1 != id2 || !os.SameFile(st1, st2) {
		t.Error("unchanged binary rewrote the archive or changed the image ID")
	}
	if err := os.WriteFile(bin, []byte("v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	id3, err := packFile(bin, out, o)
	if err != nil {
		t.Fatal(err)
	}
	if id3 == id1 {
		t.Error("changed binary kept the old image ID")
	}
}

// -add files land in the layer with their folders, once each, after the binary.
func TestBuildAddsFiles(t *testing.T) {
	t.Parallel()
	archive, _, err := build([]byte("bin"), options{tag: "localhost/rollout-gate/action:e2e", path: "/gate", arch: "amd64",
		files: []file{{"/etc/ssl/certs/ca-certificates.crt", []byte("CA")}, {"/etc/ssl/NOTICE", []byte("n")}}})
	if err != nil {
		t.Fatal(err)
	}
	files := readTar(t, archive)
	var manifest []manifestEntry
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	names := layerEntries(t, files[manifest[0].Layers[0]], func(h *tar.Header, r io.Reader) {
		if h.Name == "etc/ssl/certs/ca-certificates.crt" {
			if got, _ := io.ReadAll(r); string(got) != "CA" || h.Mode != 0o644 {
				t.Errorf("CA bundle %q mode %o", got, h.Mode)
			}
		}
	})
	if want := "tmp/ etc/ etc/ssl/ etc/ssl/certs/ gate etc/ssl/certs/ca-certificates.crt etc/ssl/NOTICE"; strings.Join(names, " ") != want {
		t.Errorf("layer entries = %q, want %q", strings.Join(names, " "), want)
	}
	if _, _, err := build([]byte("bin"), options{tag: "a:b", path: "/gate", files: []file{{"etc/x", nil}}}); err == nil {
		t.Error("a relative file path was accepted")
	}
}

// layerEntries lists the entries of a layer tarball in order, handing each to check with its
// content.
func layerEntries(t *testing.T, layer []byte, check func(h *tar.Header, content io.Reader)) []string {
	t.Helper()
	r := tar.NewReader(bytes.NewReader(layer))
	var names []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		check(h, r)
	}
}
