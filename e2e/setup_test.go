//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSetupInstall runs setup/install.sh, the setup action's installer, as the runner would,
// against a 127.0.0.1 server that serves release assets built by hack/build-release.sh (the
// script release.yml runs) for this machine's platform: a good release, one whose checksums.txt
// does not match, a runner platform without a release binary, an attestation that does not
// verify, and a second run that finds the binary in the tool cache. No cluster is needed.
func TestSetupInstall(t *testing.T) {
	root := moduleRootOf(t)
	assets := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	started := time.Now()
	build := exec.Command(filepath.Join(root, "hack", "build-release.sh"), "v9.8.7", assets, platform)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("hack/build-release.sh: %v\n%s", err, out)
	}
	asset := "gate-" + runtime.GOOS + "-" + runtime.GOARCH
	fi, err := os.Stat(filepath.Join(assets, asset))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s in %s: %.1f MB", asset, time.Since(started).Round(time.Second), float64(fi.Size())/1e6)
	good, err := os.ReadFile(filepath.Join(assets, asset))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(assets, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(good); !strings.Contains(string(sums), hex.EncodeToString(sum[:])+"  "+asset) {
		t.Fatalf("checksums.txt %q does not hold the binary's SHA-256", sums)
	}

	// v9.8.7 (and latest) is the good release; v6.6.6 serves a binary that is not the one its
	// checksums.txt names.
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/download/v9.8.7/checksums.txt", "/latest/download/checksums.txt", "/download/v6.6.6/checksums.txt":
			_, _ = w.Write(sums)
		case "/download/v9.8.7/" + asset, "/latest/download/" + asset:
			_, _ = w.Write(good)
		case "/download/v6.6.6/" + asset:
			_, _ = w.Write(append(bytes.Clone(good), 0))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	runnerArch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	runnerOS := map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS]

	// A fake gh on PATH: it records its arguments and passes or fails the attestation.
	fakeBin := t.TempDir()
	ghLog := filepath.Join(fakeBin, "gh.log")
	writeScript := func(exit string) {
		script := "#!/bin/sh\necho \"$@\" >> " + ghLog + "\necho 'Loaded digest sha256:... ; no matching attestations found' >&2\nexit " + exit + "\n"
		if err := os.WriteFile(filepath.Join(fakeBin, "gh"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	type result struct {
		code                   int
		out, path, ghPath, cwd string
		outputs                map[string]string
	}
	cache := t.TempDir()
	install := func(t *testing.T, version, osName, arch string, withGH bool) result {
		t.Helper()
		tmp := t.TempDir()
		ghPath := filepath.Join(tmp, "github_path")
		ghOut := filepath.Join(tmp, "github_output")
		path := "/usr/bin:/bin"
		if withGH {
			path = fakeBin + ":" + path
		}
		cmd := exec.Command("bash", filepath.Join(root, "setup", "install.sh"))
		cmd.Env = []string{"PATH=" + path, "RUNNER_OS=" + osName, "RUNNER_ARCH=" + arch, "RUNNER_TOOL_CACHE=" + cache,
			"RUNNER_TEMP=" + tmp, "GITHUB_PATH=" + ghPath, "GITHUB_OUTPUT=" + ghOut, "INSTALL_VERSION=" + version,
			"ACTION_REF=v1", "VERIFY_ATTESTATION=auto", "GH_TOKEN=ghs_test", "ROLLOUT_GATE_RELEASES_URL=" + srv.URL}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		r := result{code: code, out: string(out), outputs: map[string]string{}}
		if b, err := os.ReadFile(ghPath); err == nil {
			r.ghPath = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile(ghOut); err == nil {
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if k, v, ok := strings.Cut(l, "="); ok {
					r.outputs[k] = v
				}
			}
		}
		return r
	}
	runs := func(t *testing.T, bin, want string) {
		t.Helper()
		out, err := exec.Command(bin, "--version").Output()
		if err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("%s --version: %q (%v), want %q", bin, out, err, want)
		}
	}

	t.Run("good release, then the tool cache", func(t *testing.T) {
		start := time.Now()
		r := install(t, "9.8.7", runnerOS, runnerArch, false)
		took := time.Since(start)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.out)
		}
		dir := filepath.Join(cache, "rollout-gate", "9.8.7", runtime.GOARCH)
		if r.ghPath != dir || r.outputs["path"] != filepath.Join(dir, "gate") || r.outputs["version"] != "9.8.7" {
			t.Errorf("GITHUB_PATH %q, outputs %v; want %s and its gate", r.ghPath, r.outputs, dir)
		}
		for _, want := range []string{"SHA-256 " + hex.EncodeToString(sha256Of(good)) + " matches checksums.txt", "gh is not installed: the SHA-256 was checked"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q:\n%s", want, r.out)
			}
		}
		runs(t, r.outputs["path"], "rollout-gate 9.8.7\n")
		t.Logf("installed in %s (download from 127.0.0.1, check, cache)", took.Round(time.Millisecond))

		mu.Lock()
		before := len(requests)
		mu.Unlock()
		start = time.Now()
		again := install(t, "v9.8.7", runnerOS, runnerArch, false)
		t.Logf("found in the tool cache in %s", time.Since(start).Round(time.Millisecond))
		mu.Lock()
		after := len(requests)
		mu.Unlock()
		if again.code != 0 || !strings.Contains(again.out, "found in the tool cache") || after != before || again.outputs["path"] != r.outputs["path"] {
			t.Errorf("second install: exit %d, %d downloads, outputs %v:\n%s", again.code, after-before, again.outputs, again.out)
		}
	})

	t.Run("latest", func(t *testing.T) {
		r := install(t, "", runnerOS, runnerArch, false)
		if r.code != 0 || r.outputs["version"] != "9.8.7" {
			t.Fatalf("exit %d, outputs %v:\n%s", r.code, r.outputs, r.out)
		}
	})

	failures := []struct {
		name, version, os, arch string
		withGH                  bool
		ghExit                  string
		want                    []string
	}{
		{"checksum mismatch", "6.6.6", runnerOS, runnerArch, false, "",
			[]string{"::error title=rollout-gate setup::checksum mismatch for " + asset + " (6.6.6): checksums.txt says " + hex.EncodeToString(sha256Of(good)),
				"nothing was installed"}},
		{"unsupported platform", "9.8.7", "Linux", "ARM", false, "",
			[]string{"::error title=rollout-gate setup::rollout-gate has no release binary for this runner (Linux/ARM, linux/arm); released platforms: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}},
		{"no such release", "1.0.0", runnerOS, runnerArch, false, "",
			[]string{"could not download " + srv.URL + "/download/v1.0.0/checksums.txt (version 1.0.0)"}},
		{"attestation does not verify", "latest", runnerOS, runnerArch, true, "1",
			[]string{"the build provenance attestation of " + asset + " does not verify (gh attestation verify --repo rollout-gate/rollout-gate)", "no matching attestations found"}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			if tt.withGH {
				writeScript(tt.ghExit)
			}
			cacheBefore := listFiles(t, cache)
			r := install(t, tt.version, tt.os, tt.arch, tt.withGH)
			if r.code != 1 || r.ghPath != "" {
				t.Errorf("exit %d, GITHUB_PATH %q; want exit 1 and nothing on PATH:\n%s", r.code, r.ghPath, r.out)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("output lacks %q:\n%s", w, r.out)
				}
			}
			if after := listFiles(t, cache); after != cacheBefore {
				t.Errorf("the tool cache changed:\n%s\nwas\n%s", after, cacheBefore)
			}
		})
	}

	t.Run("attestation verifies", func(t *testing.T) {
		writeScript("0")
		_ = os.Remove(ghLog)
		r := install(t, "latest", runnerOS, runnerArch, true)
		log, _ := os.ReadFile(ghLog)
		if r.code != 0 || !strings.Contains(r.out, "build provenance verified") ||
			!regexp.MustCompile(`^attestation verify \S+/`+asset+` --repo rollout-gate/rollout-gate\n$`).Match(log) {
			t.Errorf("exit %d, gh called with %q:\n%s", r.code, log, r.out)
		}
	})
}

func sha256Of(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func listFiles(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { out = append(out, p); return nil })
	return strings.Join(out, "\n")
}

func moduleRootOf(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}
