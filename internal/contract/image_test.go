package contract

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// imageName is where release.yml publishes the action's image and what action.yml pulls.
const imageName = "ghcr.io/rollout-gate/rollout-gate"

// pinnedImage is action.yml's runs.image once a release is pinned: the version tag for people,
// the digest for the runner (a tag can be moved, a digest cannot).
var pinnedImage = regexp.MustCompile(`^docker://` + regexp.QuoteMeta(imageName) +
	`:[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?@sha256:[0-9a-f]{64}$`)

// TestActionRunsTheReleasedImage: action.yml runs the image release.yml published, by digest.
// Before the first release there is none, and action.yml builds the Dockerfile; once a v* tag
// exists (in a checkout that has tags) that is no longer accepted.
func TestActionRunsTheReleasedImage(t *testing.T) {
	t.Parallel()
	image := loadAction(t).Runs.Image
	if pinnedImage.MatchString(image) {
		return
	}
	if image != "Dockerfile" {
		t.Fatalf("action.yml runs.image = %q, want docker://%s:VERSION@sha256:<64 hex digits> (hack/pin-image.sh writes it)", image, imageName)
	}
	cmd := exec.Command("git", "tag", "--list", "v*")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Logf("action.yml builds the Dockerfile; cannot list release tags (%v), so the first release is assumed to be ahead", err)
		return
	}
	if tags := strings.Fields(string(out)); len(tags) > 0 {
		t.Errorf("release %s is tagged, but action.yml still builds the Dockerfile in every job: merge release.yml's pin pull request "+
			"(or run hack/pin-image.sh %s:VERSION@sha256:DIGEST with the digest release.yml printed)", tags[len(tags)-1], imageName)
	}
}

// workflow is the part of a GitHub workflow these tests read.
type workflow struct {
	// On is the `on:` key, which YAML 1.1 (and so sigs.k8s.io/yaml) reads as the boolean true.
	On struct {
		Push struct {
			Tags []string `json:"tags"`
		} `json:"push"`
	} `json:"true"`
	Env  map[string]string `json:"env"`
	Jobs map[string]struct {
		Needs       any               `json:"needs"`
		Permissions map[string]string `json:"permissions"`
		Outputs     map[string]string `json:"outputs"`
		Steps       []struct {
			ID   string            `json:"id"`
			Name string            `json:"name"`
			Uses string            `json:"uses"`
			Run  string            `json:"run"`
			With map[string]any    `json:"with"`
			Env  map[string]string `json:"env"`
		} `json:"steps"`
	} `json:"jobs"`
}

func loadWorkflow(t *testing.T, name string) workflow {
	t.Helper()
	var w workflow
	if err := yaml.Unmarshal([]byte(readFile(t, name)), &w); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return w
}

// TestReleasePublishesWhatActionRuns holds release.yml to the image action.yml runs: built from
// the Dockerfile on a version tag, pushed to imageName with the version as its tag, and pinned
// by the digest the build reported, through hack/pin-image.sh.
func TestReleasePublishesWhatActionRuns(t *testing.T) {
	t.Parallel()
	w := loadWorkflow(t, ".github/workflows/release.yml")
	if len(w.On.Push.Tags) != 1 || w.On.Push.Tags[0] != "v*" {
		t.Errorf("release.yml runs on tags %v, want [v*]", w.On.Push.Tags)
	}
	if w.Env["IMAGE_NAME"] != imageName {
		t.Errorf("release.yml env.IMAGE_NAME = %q, want %q", w.Env["IMAGE_NAME"], imageName)
	}
	if !strings.Contains(readFile(t, "hack/pin-image.sh"), "\nIMAGE_NAME="+imageName+"\n") {
		t.Errorf("hack/pin-image.sh does not pin IMAGE_NAME=%s", imageName)
	}
	pinnedAction := regexp.MustCompile(`^[^@\s]+@[0-9a-f]{40}$`)

	img, ok := w.Jobs["image"]
	if !ok {
		t.Fatal("release.yml has no job image")
	}
	var meta, build bool
	for _, s := range img.Steps {
		if s.Uses != "" && !strings.HasPrefix(s.Uses, "./") && !pinnedAction.MatchString(s.Uses) {
			t.Errorf("release.yml job image uses %s, not pinned to a commit", s.Uses)
		}
		switch {
		case strings.HasPrefix(s.Uses, "docker/metadata-action@"):
			meta = s.ID == "meta"
			tags, _ := s.With["tags"].(string)
			if s.With["images"] != "${{ env.IMAGE_NAME }}" || !strings.Contains(tags, "type=semver,pattern={{version}}") {
				t.Errorf("metadata-action: images %v, tags %q; want ${{ env.IMAGE_NAME }} tagged with the version", s.With["images"], tags)
			}
		case strings.HasPrefix(s.Uses, "docker/build-push-action@"):
			build = s.ID == "build"
			if s.With["context"] != "." || s.With["push"] != true || s.With["file"] != nil {
				t.Errorf("build-push-action with %v: want context . (the Dockerfile action.yml falls back to), push true, no other file", s.With)
			}
		}
	}
	if !meta || !build {
		t.Errorf("release.yml job image needs metadata-action with id meta and build-push-action with id build")
	}
	wantOut := map[string]string{"version": "${{ steps.meta.outputs.version }}", "digest": "${{ steps.build.outputs.digest }}"}
	for k, v := range wantOut {
		if img.Outputs[k] != v {
			t.Errorf("release.yml job image output %s = %q, want %q", k, img.Outputs[k], v)
		}
	}

	pin, ok := w.Jobs["pin"]
	if !ok {
		t.Fatal("release.yml has no job pin: nothing pins action.yml to the published image")
	}
	if pin.Needs != "image" {
		t.Errorf("release.yml job pin needs %v, want image", pin.Needs)
	}
	if pin.Permissions["contents"] != "write" || pin.Permissions["pull-requests"] != "write" {
		t.Errorf("release.yml job pin permissions %v, want contents and pull-requests write", pin.Permissions)
	}
	pinned := false
	for _, s := range pin.Steps {
		if !strings.Contains(s.Run, `hack/pin-image.sh "$IMAGE_NAME:$VERSION@$DIGEST"`) {
			continue
		}
		pinned = true
		if s.Env["VERSION"] != "${{ needs.image.outputs.version }}" || s.Env["DIGEST"] != "${{ needs.image.outputs.digest }}" {
			t.Errorf("pin step env %v: want VERSION and DIGEST from the image job's outputs", s.Env)
		}
	}
	if !pinned {
		t.Error(`release.yml job pin never runs hack/pin-image.sh "$IMAGE_NAME:$VERSION@$DIGEST"`)
	}
}

// TestCITestsTheCommitNotTheRelease: with action.yml pinned to a released image, `uses: ./`
// would run the last release; ci.yml switches it back to the Dockerfile first.
func TestCITestsTheCommitNotTheRelease(t *testing.T) {
	t.Parallel()
	w := loadWorkflow(t, ".github/workflows/ci.yml")
	for name, job := range w.Jobs {
		local := false
		for _, s := range job.Steps {
			if strings.TrimSpace(s.Run) == "hack/pin-image.sh Dockerfile" {
				local = true
			}
			if s.Uses == "./" && !local {
				t.Errorf("ci.yml job %s step %q uses ./ without running hack/pin-image.sh Dockerfile before it", name, s.Name)
			}
		}
	}
}

// TestPinImageScript runs hack/pin-image.sh on a copy of action.yml: what it writes is what the
// contract accepts, it changes nothing else, and it refuses anything but a tag and digest of
// imageName (or Dockerfile).
func TestPinImageScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	orig := readFile(t, "action.yml")
	cases := []struct {
		ref, want string // want "" = refused
	}{
		{imageName + ":1.2.3@" + digest, "docker://" + imageName + ":1.2.3@" + digest},
		{imageName + ":0.1.0-rc.1@" + digest, "docker://" + imageName + ":0.1.0-rc.1@" + digest},
		{"Dockerfile", "Dockerfile"},
		{imageName + ":1.2.3", ""},                                 // no digest
		{imageName + "@" + digest, ""},                             // no version
		{imageName + ":latest@" + digest, ""},                      // not a version
		{imageName + ":1.2.3@sha256:abc", ""},                      // short digest
		{"ghcr.io/someone/else:1.2.3@" + digest, ""},               // another image
		{imageName + ":1.2.3@" + digest + "\n  using: node20", ""}, // a second line
		{"docker://" + imageName + ":1.2.3@" + digest, ""},         // the script adds docker://
	}
	for _, c := range cases {
		t.Run(c.ref, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "action.yml")
			if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", filepath.Join(root(t), "hack", "pin-image.sh"), c.ref)
			cmd.Env = append(os.Environ(), "ACTION_YML="+path)
			out, err := cmd.CombinedOutput()
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			got := string(b)
			if c.want == "" {
				if err == nil {
					t.Errorf("pin-image.sh accepted %q: %s", c.ref, out)
				}
				if got != orig {
					t.Error("pin-image.sh changed action.yml although it refused the reference")
				}
				return
			}
			if err != nil {
				t.Fatalf("pin-image.sh %s: %v: %s", c.ref, err, out)
			}
			var a actionMeta
			if err := yaml.UnmarshalStrict(b, &a); err != nil {
				t.Fatalf("pinned action.yml does not parse: %v", err)
			}
			if a.Runs.Using != "docker" || a.Runs.Image != c.want {
				t.Errorf("runs = %s %s, want docker %s", a.Runs.Using, a.Runs.Image, c.want)
			}
			if c.want != "Dockerfile" && !pinnedImage.MatchString(a.Runs.Image) {
				t.Errorf("pinned image %s is not what TestActionRunsTheReleasedImage accepts", a.Runs.Image)
			}
			imageLine := regexp.MustCompile(`(?m)^  image: .*$`)
			if imageLine.ReplaceAllString(got, "") != imageLine.ReplaceAllString(orig, "") {
				t.Error("pin-image.sh changed more of action.yml than runs.image")
			}
		})
	}
}
