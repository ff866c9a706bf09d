//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/githubtest"
)

// actionImage is the container flavour's image as podman names it once loaded.
const actionImage = "localhost/rollout-gate/action:e2e"

// The container flavour, run the way the runner runs a Docker action, with podman: the image
// holds the gate built as release.yml builds it and a CA bundle (distroless/static cannot be
// pulled here, so imagepack assembles the same contents); the runner's mounts, workdir, INPUT_*
// and GITHUB_* environment, and host network to reach the local API server.
var containerImage struct {
	once      sync.Once
	conf, err string
}

// podmanImage builds and loads the image once per test process and returns the CONTAINERS_CONF
// to run podman with.
func podmanImage(t *testing.T) string {
	t.Helper()
	containerImage.once.Do(func() {
		fail := func(format string, args ...any) { containerImage.err = fmt.Sprintf(format, args...) }
		if _, err := exec.LookPath("podman"); err != nil {
			fail("podman is not installed: apt-get install -y --no-install-recommends podman (.ci/run installs it)")
			return
		}
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			fail("go env GOMOD: %v", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(gomod)))
		dir, err := os.MkdirTemp("", "rollout-gate-action-image-")
		if err != nil {
			fail("%v", err)
			return
		}
		// This sandbox refuses podman's default rlimits (see the containers-here notes).
		conf := filepath.Join(dir, "containers.conf")
		if err := os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644); err != nil {
			fail("%v", err)
			return
		}
		build := exec.Command(filepath.Join(root, "hack", "build-release.sh"), "v0.0.0-e2e", dir, "linux/"+runtime.GOARCH)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fail("hack/build-release.sh: %v\n%s", err, out)
			return
		}
		tar := filepath.Join(dir, "action.tar")
		pack := exec.Command("go", "run", "./e2e/cmd/imagepack", "-binary", filepath.Join(dir, "gate-linux-"+runtime.GOARCH), "-path", "/gate",
			"-tag", strings.TrimPrefix(actionImage, "localhost/"), "-o", tar,
			"-add", "/etc/ssl/certs/ca-certificates.crt=/etc/ssl/certs/ca-certificates.crt",
			"-add", filepath.Join(root, "LICENSE")+"=/LICENSE", "-add", filepath.Join(root, "NOTICE")+"=/NOTICE")
		pack.Dir = root
		if out, err := pack.CombinedOutput(); err != nil {
			fail("imagepack: %v\n%s", err, out)
			return
		}
		load := exec.Command("podman", "load", "-i", tar)
		load.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
		if out, err := load.CombinedOutput(); err != nil {
			fail("podman load: %v\n%s", err, out)
			return
		}
		// Only the containers.conf is needed from here on.
		_ = os.Remove(tar)
		_ = os.Remove(filepath.Join(dir, "gate-linux-"+runtime.GOARCH))
		containerImage.conf = conf
	})
	if containerImage.err != "" {
		t.Fatal(containerImage.err)
	}
	return containerImage.conf
}

// runnerDirs is one job's runner folders: what the runner mounts into the action's container.
type runnerDirs struct {
	workspace, home, workflow, fileCommands, temp string
}

func newRunnerDirs(t *testing.T) runnerDirs {
	t.Helper()
	base := t.TempDir()
	d := runnerDirs{filepath.Join(base, "work"), filepath.Join(base, "home"), filepath.Join(base, "workflow"),
		filepath.Join(base, "file_commands"), filepath.Join(base, "temp")}
	for _, p := range []string{d.workspace, d.home, d.workflow, d.fileCommands, d.temp} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{
		filepath.Join(d.workflow, "event.json"):          `{"ref":"refs/heads/main"}`,
		filepath.Join(d.fileCommands, "set_output_1"):    "",
		filepath.Join(d.fileCommands, "step_summary_1"):  "",
		filepath.Join(d.fileCommands, "add_path_1"):      "",
		filepath.Join(d.fileCommands, "set_env_1"):       "",
		filepath.Join(d.fileCommands, "save_state_1"):    "",
		filepath.Join(d.fileCommands, "step_summary_x"):  "",
		filepath.Join(d.fileCommands, "unused_check_me"): "",
	} {
		if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// containerRun is one run of the action's container.
type containerRun struct {
	exit           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
	firstWatchLine time.Duration // from podman run to the gate's first progress line on a workload
	total          time.Duration
}

// runAction runs the image as the runner runs a container action (ContainerActionHandler:
// --workdir, the five mounts, INPUT_* with hyphens kept, GITHUB_*, HOME), on the host network.
func runContainerAction(t *testing.T, conf string, d runnerDirs, inputs map[string]string) containerRun {
	t.Helper()
	args := []string{"run", "--rm", "--network", "host", "--workdir", "/github/workspace",
		"-v", d.workspace + ":/github/workspace", "-v", d.home + ":/github/home", "-v", d.workflow + ":/github/workflow",
		"-v", d.fileCommands + ":/github/file_commands", "-v", d.temp + ":/github/runner_temp"}
	env := map[string]string{
		"HOME": "/github/home", "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": "/github/workspace",
		"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": "/github/workflow/event.json", "GITHUB_REPOSITORY": "octo/shop",
		"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_REF": "refs/heads/main", "GITHUB_RUN_ID": "1",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "http://127.0.0.1:1",
		"GITHUB_OUTPUT": "/github/file_commands/set_output_1", "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary_1",
		"GITHUB_PATH": "/github/file_commands/add_path_1", "GITHUB_ENV": "/github/file_commands/set_env_1",
		"GITHUB_STATE": "/github/file_commands/save_state_1", "RUNNER_TEMP": "/github/runner_temp", "RUNNER_OS": "Linux",
		// action.yml's defaults, as the runner fills them in.
		"INPUT_GITHUB-TOKEN": "ghs_e2eFakeToken0123456789", "INPUT_COMMENT": "never", "INPUT_TIMEOUT": "3m", "INPUT_OUTPUT": "text",
	}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, actionImage)
	cmd := exec.Command("podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var r containerRun
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	sc := bufio.NewScanner(stderrPipe)
	for sc.Scan() {
		line := sc.Text()
		if r.firstWatchLine == 0 && strings.Contains(line, "deployment/") {
			r.firstWatchLine = time.Since(start)
		}
		stderr.WriteString(line + "\n")
	}
	err = cmd.Wait()
	r.total = time.Since(start)
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	out, err := os.ReadFile(filepath.Join(d.fileCommands, "set_output_1"))
	if err != nil {
		t.Fatal(err)
	}
	r.outputs = githubtest.ParseOutputs(t, string(out))
	sum, _ := os.ReadFile(filepath.Join(d.fileCommands, "step_summary_1"))
	r.summary = string(sum)
	t.Logf("podman run: exit %d in %s (first watch line after %s)\nstdout:\n%s\nstderr:\n%s", r.exit, r.total.Round(time.Millisecond),
		r.firstWatchLine.Round(time.Millisecond), r.stdout, r.stderr)
	return r
}

// flatKubeconfig writes the local cluster's kubeconfig with its certificates inlined: a file
// written by a login step holds everything, and the container sees no other file.
func flatKubeconfig(t *testing.T, path string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(framework.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// writeWorkload applies d and writes it to the workspace as k8s/app.yaml, the applied manifest.
func writeWorkload(t *testing.T, d runnerDirs, dep *appsv1.Deployment) {
	t.Helper()
	framework.Apply(t, framework.Client(t), dep)
	dep.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	b, err := yaml.Marshal(dep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(d.workspace, "k8s"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.workspace, "k8s", "app.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestContainerActionAsTheRunnerRunsIt(t *testing.T) {
	t.Parallel()
	conf := podmanImage(t)

	t.Run("healthy, kubeconfig under RUNNER_TEMP", func(t *testing.T) {
		ns := framework.Namespace(t)
		d := newRunnerDirs(t)
		flatKubeconfig(t, filepath.Join(d.temp, "kubeconfig"))
		writeWorkload(t, d, framework.Ready(framework.Deployment(ns, "api")))
		r := runContainerAction(t, conf, d, map[string]string{"kubeconfig": "/github/runner_temp/kubeconfig", "filename": "k8s/app.yaml", "namespace": ns, "soak": "2s"})
		if r.exit != 0 || r.outputs["verdict"] != "healthy" || r.outputs["rolled-back"] != "false" || r.outputs["report-path"] != "rollout-gate-report.json" {
			t.Fatalf("exit %d, outputs %v; want 0 and verdict healthy with the report in the workspace", r.exit, r.outputs)
		}
		if !strings.Contains(r.summary, "deployment/api") || !strings.Contains(r.summary, "rollout-gate 0.0.0-e2e") {
			t.Errorf("the summary does not name the workload and the gate's version:\n%s", r.summary)
		}
		if _, err := os.Stat(filepath.Join(d.workspace, "rollout-gate-report.json")); err != nil {
			t.Errorf("the JSON report is not in the workspace: %v", err)
		}
		if !strings.HasPrefix(r.stdout, "::add-mask::ghs_e2eFakeToken0123456789\n") {
			t.Errorf("the token is not masked first:\n%s", r.stdout)
		}
	})

	t.Run("failed, with its annotation", func(t *testing.T) {
		ns := framework.Namespace(t)
		d := newRunnerDirs(t)
		flatKubeconfig(t, filepath.Join(d.temp, "kubeconfig"))
		writeWorkload(t, d, framework.Deployment(ns, "crasher", "--print-stderr", "FATAL: no config", "--exit-code", "1"))
		r := runContainerAction(t, conf, d, map[string]string{"kubeconfig": "/github/runner_temp/kubeconfig", "filename": "k8s/app.yaml", "namespace": ns, "crash-tolerance": "0"})
		if r.exit != 1 || r.outputs["verdict"] != "failed" || r.outputs["cause"] == "" {
			t.Fatalf("exit %d, outputs %v; want 1, verdict failed and a cause", r.exit, r.outputs)
		}
		if !strings.Contains(r.stdout, "::error file=/github/workspace/k8s/app.yaml,line=") && !strings.Contains(r.stdout, "::error file=k8s/app.yaml,line=") {
			t.Errorf("no ::error annotation on the manifest:\n%s", r.stdout)
		}
		if !strings.Contains(r.summary, "deployment/crasher") {
			t.Errorf("the summary does not name the failed workload:\n%s", r.summary)
		}
	})

	t.Run("a runner path the container cannot see", func(t *testing.T) {
		d := newRunnerDirs(t)
		r := runContainerAction(t, conf, d, map[string]string{"kubeconfig": "/home/runner/.kube/config", "workload": "deploy/api"})
		if r.exit != 2 || r.outputs["verdict"] != "error" {
			t.Fatalf("exit %d, outputs %v; want 2 and verdict error", r.exit, r.outputs)
		}
		for _, want := range []string{"kubeconfig from the kubeconfig input: /home/runner/.kube/config does not exist in the container action: it is a runner path",
			"${{ runner.temp }}/kubeconfig", "rollout-gate/rollout-gate/setup@v1"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
		// (the summary breaks @-mentions with a zero-width space: setup@\u200bv1)
		if !strings.Contains(r.summary, "it is a runner path") || !strings.Contains(r.summary, "rollout-gate/rollout-gate/setup@") {
			t.Errorf("the summary does not say why:\n%s", r.summary)
		}
	})
}
