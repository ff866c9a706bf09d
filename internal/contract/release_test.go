package contract

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// platformsOf reads the PLATFORMS="..." line of a script.
func platformsOf(t *testing.T, name string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^PLATFORMS="([^"]+)"$`).FindStringSubmatch(readFile(t, name))
	if m == nil {
		t.Fatalf(`%s has no PLATFORMS="..." line`, name)
	}
	return strings.Fields(m[1])
}

// assetName is the release asset of a platform, as both scripts spell it.
func assetName(platform string) string {
	os, arch, _ := strings.Cut(platform, "/")
	name := "gate-" + os + "-" + arch
	if os == "windows" {
		name += ".exe"
	}
	return name
}

// TestReleaseAssetsAgree holds the host flavour together: the platforms release.yml builds (through
// hack/build-release.sh) are the ones setup/install.sh accepts and the README lists, under the
// same asset names, with the checksums file the installer checks against.
func TestReleaseAssetsAgree(t *testing.T) {
	t.Parallel()
	built := platformsOf(t, "hack/build-release.sh")
	installed := platformsOf(t, "setup/install.sh")
	if !slices.Equal(built, installed) {
		t.Errorf("hack/build-release.sh builds %v, setup/install.sh accepts %v", built, installed)
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"} {
		if !slices.Contains(built, want) {
			t.Errorf("the release does not build %s", want)
		}
	}
	for _, script := range []string{"hack/build-release.sh", "setup/install.sh"} {
		s := readFile(t, script)
		for _, want := range []string{`"gate-$os-$arch"`, `.exe"`, "checksums.txt"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s does not spell the assets as gate-$os-$arch (.exe on windows) with checksums.txt: no %s", script, want)
			}
		}
	}

	// README: one row per platform with its asset, between the markers.
	readme := readFile(t, "README.md")
	begin, end := strings.Index(readme, "<!-- release-assets:begin"), strings.Index(readme, "<!-- release-assets:end -->")
	if begin < 0 || end < begin {
		t.Fatal("README.md has no release-assets block")
	}
	rows := regexp.MustCompile("(?m)^\\| ([a-z]+/[a-z0-9]+) \\| `([^`]+)` \\|$").FindAllStringSubmatch(readme[begin:end], -1)
	var listed []string
	for _, r := range rows {
		listed = append(listed, r[1])
		if r[2] != assetName(r[1]) {
			t.Errorf("README lists %s as %s, the release names it %s", r[1], r[2], assetName(r[1]))
		}
	}
	if !slices.Equal(listed, built) {
		t.Errorf("README lists platforms %v, the release builds %v", listed, built)
	}
	if !strings.Contains(readme[begin:end], "`checksums.txt`") {
		t.Error("README's release assets do not name checksums.txt")
	}

	// release.yml: the binaries job builds every platform with the script, attests the binaries
	// and uploads them with the checksums.
	w := loadWorkflow(t, ".github/workflows/release.yml")
	job, ok := w.Jobs["binaries"]
	if !ok {
		t.Fatal("release.yml has no job binaries")
	}
	var build, attest, upload bool
	for _, s := range job.Steps {
		switch {
		case strings.Contains(s.Run, "hack/build-release.sh"):
			build = regexp.MustCompile(`hack/build-release\.sh "\$VERSION" dist\s*$`).MatchString(s.Run)
		case strings.HasPrefix(s.Uses, "actions/attest-build-provenance@"):
			attest = s.With["subject-path"] == "dist/gate-*"
		case strings.Contains(s.Run, "gh release upload"):
			upload = strings.Contains(s.Run, "dist/gate-* dist/checksums.txt")
		}
		if s.Uses != "" && !regexp.MustCompile(`^[^@\s]+@[0-9a-f]{40}$`).MatchString(s.Uses) {
			t.Errorf("release.yml job binaries uses %s, not pinned to a commit", s.Uses)
		}
	}
	if !build || !attest || !upload {
		t.Errorf("release.yml job binaries: build every platform with hack/build-release.sh %t, attest dist/gate-* %t, upload dist/gate-* dist/checksums.txt %t; want all",
			build, attest, upload)
	}
	for _, p := range []string{"contents", "id-token", "attestations"} {
		if job.Permissions[p] != "write" {
			t.Errorf("release.yml job binaries needs %s: write, has %q", p, job.Permissions[p])
		}
	}

	// setup/action.yml runs install.sh from the action's folder.
	var setup struct {
		Runs struct {
			Using string `json:"using"`
			Steps []struct {
				Run string `json:"run"`
			} `json:"steps"`
		} `json:"runs"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "setup/action.yml")), &setup); err != nil {
		t.Fatal(err)
	}
	if setup.Runs.Using != "composite" || len(setup.Runs.Steps) == 0 || !strings.Contains(setup.Runs.Steps[0].Run, `"$GITHUB_ACTION_PATH/install.sh"`) {
		t.Errorf("setup/action.yml runs %+v, want a composite action running $GITHUB_ACTION_PATH/install.sh", setup.Runs)
	}
}
