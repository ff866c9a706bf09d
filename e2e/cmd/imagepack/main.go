// Command imagepack writes a one-layer image holding a static binary as a docker-archive tarball
// (the `docker save` layout), which `ctr images import` and kind's image loading accept. The e2e
// cluster has no registry, so its images are built this way from the project's own binaries.
//
// Usage: imagepack -binary FILE -tag NAME:TAG -o OUT.tar [-path /app] [-arch amd64] [-add SRC=/DEST ...]
//
// -add puts more files in the layer (mode 0644), such as a CA bundle at
// /etc/ssl/certs/ca-certificates.crt, which the gate's image carries as distroless/static does.
//
// The archive is byte-for-byte reproducible: the same binary gives the same image ID, which is
// printed on stdout, so callers can skip re-importing an unchanged image.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type options struct {
	tag   string // repository:tag recorded in manifest.json
	path  string // absolute path of the binary inside the image; also the entrypoint
	arch  string
	files []file // more files in the layer
}

// file is one more file of the image: its absolute path there and its content.
type file struct {
	path string
	data []byte
}

// addFlags collects -add SRC=DEST.
type addFlags []string

func (a *addFlags) String() string     { return strings.Join(*a, ",") }
func (a *addFlags) Set(v string) error { *a = append(*a, v); return nil }

func main() {
	var o options
	var binary, out string
	flag.StringVar(&binary, "binary", "", "static binary to pack (required)")
	flag.StringVar(&o.tag, "tag", "", "image name with tag, e.g. rollout-gate/testapp:e2e (required)")
	flag.StringVar(&out, "o", "", "archive to write (required)")
	flag.StringVar(&o.path, "path", "", "path of the binary in the image and entrypoint (default /<binary name>)")
	flag.StringVar(&o.arch, "arch", runtime.GOARCH, "image architecture")
	var adds addFlags
	flag.Var(&adds, "add", "SRC=/DEST: put file SRC at /DEST in the image (repeatable)")
	flag.Parse()
	for _, a := range adds {
		src, dest, ok := strings.Cut(a, "=")
		data, err := os.ReadFile(src)
		if !ok || err != nil {
			fmt.Fprintf(os.Stderr, "imagepack: -add %s: want SRC=/DEST with a readable SRC (%v)\n", a, err)
			os.Exit(2)
		}
		o.files = append(o.files, file{path: dest, data: data})
	}
	if binary == "" || o.tag == "" || out == "" {
		fmt.Fprintln(os.Stderr, "imagepack: -binary, -tag and -o are required")
		flag.Usage()
		os.Exit(2)
	}
	if o.path == "" {
		o.path = "/" + filepath.Base(binary)
	}
	id, err := packFile(binary, out, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "imagepack: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(id)
}

// packFile writes the archive for binary to out, leaving out untouched when its content would not
// change, and returns the image ID.
func packFile(binary, out string, o options) (string, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return "", fmt.Errorf("read binary: %w", err)
	}
	archive, id, err := build(bin, o)
	if err != nil {
		return "", fmt.Errorf("pack %s: %w", o.tag, err)
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, archive) {
		return id, nil
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, archive, 0o644); err != nil {
		return "", fmt.Errorf("write archive: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("write archive: %w", err)
	}
	return id, nil
}

// epoch is the modification time of every entry, so that archives are reproducible.
var epoch = time.Unix(0, 0).UTC()

type imageConfig struct {
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	Created      time.Time       `json:"created"`
	Config       containerConfig `json:"config"`
	RootFS       rootFS          `json:"rootfs"`
}

type containerConfig struct {
	Entrypoint []string `json:"Entrypoint"`
	Env        []string `json:"Env"`
	WorkingDir string   `json:"WorkingDir"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type manifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// build returns a docker-archive holding one layer with bin at o.path (mode 0755) and a
// world-writable /tmp, plus its image ID (the config digest).
func build(bin []byte, o options) ([]byte, string, error) {
	if !strings.HasPrefix(o.path, "/") || path.Clean(o.path) != o.path || o.path == "/" {
		return nil, "", fmt.Errorf("path %q: want a clean absolute file path such as /app", o.path)
	}
	if !strings.Contains(o.tag, ":") {
		return nil, "", fmt.Errorf("tag %q: want NAME:TAG", o.tag)
	}
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	var entries []tar.Header
	for dir := path.Dir(o.path); dir != "/"; dir = path.Dir(dir) {
		entries = append([]tar.Header{{Name: dir[1:] + "/", Typeflag: tar.TypeDir, Mode: 0o755}}, entries...)
	}
	entries = append(entries, tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777})
	seen := map[string]bool{}
	for _, h := range entries {
		seen[h.Name] = true
	}
	for _, f := range o.files {
		if !strings.HasPrefix(f.path, "/") || path.Clean(f.path) != f.path || f.path == o.path {
			return nil, "", fmt.Errorf("file %q: want a clean absolute path other than the binary's", f.path)
		}
		var dirs []tar.Header
		for dir := path.Dir(f.path); dir != "/" && !seen[dir[1:]+"/"]; dir = path.Dir(dir) {
			seen[dir[1:]+"/"] = true
			dirs = append([]tar.Header{{Name: dir[1:] + "/", Typeflag: tar.TypeDir, Mode: 0o755}}, dirs...)
		}
		entries = append(entries, dirs...)
	}
	for _, h := range entries {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := lw.WriteHeader(&h); err != nil {
			return nil, "", err
		}
	}
	if err := lw.WriteHeader(&tar.Header{Name: o.path[1:], Typeflag: tar.TypeReg, Mode: 0o755,
		Size: int64(len(bin)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return nil, "", err
	}
	if _, err := lw.Write(bin); err != nil {
		return nil, "", err
	}
	for _, f := range o.files {
		if err := lw.WriteHeader(&tar.Header{Name: f.path[1:], Typeflag: tar.TypeReg, Mode: 0o644,
			Size: int64(len(f.data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, "", err
		}
		if _, err := lw.Write(f.data); err != nil {
			return nil, "", err
		}
	}
	if err := lw.Close(); err != nil {
		return nil, "", err
	}
	layerDigest := digest(layer.Bytes())

	cfg, err := json.Marshal(imageConfig{
		Architecture: o.arch,
		OS:           "linux",
		Created:      epoch,
		Config: containerConfig{
			Entrypoint: []string{o.path},
			Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
			WorkingDir: "/",
		},
		RootFS: rootFS{Type: "layers", DiffIDs: []string{"sha256:" + layerDigest}},
	})
	if err != nil {
		return nil, "", err
	}
	cfgDigest := digest(cfg)
	manifest, err := json.Marshal([]manifestEntry{{
		Config:   cfgDigest + ".json",
		RepoTags: []string{o.tag},
		Layers:   []string{layerDigest + "/layer.tar"},
	}})
	if err != nil {
		return nil, "", err
	}

	var out bytes.Buffer
	w := tar.NewWriter(&out)
	files := []struct {
		name string
		data []byte
	}{
		{layerDigest + "/layer.tar", layer.Bytes()},
		{cfgDigest + ".json", cfg},
		{"manifest.json", manifest},
	}
	if err := w.WriteHeader(&tar.Header{Name: layerDigest + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
		return nil, "", err
	}
	for _, f := range files {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, "", err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return out.Bytes(), "sha256:" + cfgDigest, nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
