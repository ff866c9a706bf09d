//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 25: the gate reads the inputs teams have (kustomize, kubectl's -R, helm template) as the
// apply read them, and reports each object where its author wrote it. The broken workloads exit 3
// after they start; the runs use --crash-tolerance 0, so the verdict does not depend on whether
// the gate starts before or after the second crash (the default tolerates one).

// writeTree writes files (path → content) under a new temp folder and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deploymentYAML is a one-replica Deployment of the test app run with args, as a manifest.
func deploymentYAML(name string, args ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels: {app: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: %[2]s
        imagePullPolicy: Never
        args: [%[3]s]
`, name, framework.TestAppImage, strings.Join(quoted, ", "))
}

// applyYAML applies the Deployments of a YAML stream, as kubectl apply would.
func applyYAML(t *testing.T, ns string, stream []byte) {
	t.Helper()
	c := framework.Client(t)
	for _, doc := range strings.Split(string(stream), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var d appsv1.Deployment
		if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("decode %s: %v", doc, err)
		}
		if d.Kind != "Deployment" {
			continue
		}
		d.Namespace = ns
		framework.Apply(t, c, &d)
	}
}

func TestInputsKustomizeOverlayWithABrokenPatch(t *testing.T) {
	t.Parallel()
	ns := framework.Namespace(t)
	dir := writeTree(t, map[string]string{
		"base/kustomization.yaml":          "resources: [deploy.yaml]\n",
		"base/deploy.yaml":                 "# the shop's api\n" + deploymentYAML("api"),
		"overlays/prod/kustomization.yaml": fmt.Sprintf("namespace: %s\nnamePrefix: prod-\nresources: [../../base]\npatches:\n- path: crash.yaml\n", ns),
		// The broken patch: the container exits 3 at start.
		"overlays/prod/crash.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        args: [\"--exit-code\", \"3\"]\n",
	})
	overlay := filepath.Join(dir, "overlays/prod")
	// What `kubectl apply -k` does: build with kustomize, apply the result.
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	built, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	applyYAML(t, ns, built)

	run := runGate(t, "-k", overlay, "--soak", "10s", "--crash-tolerance", "0")
	run.mustEnd(t, 1, report.VerdictFailed, "the overlay's patch makes the container exit 3")
	w := run.workload(t, "deployment/prod-api")
	if w.Source == nil || w.Source.File != filepath.Join(dir, "base/deploy.yaml") || w.Source.Line != 2 ||
		w.Source.Kustomization != overlay || !slices.Contains(w.Source.PatchedBy, filepath.Join(overlay, "kustomization.yaml")) {
		t.Errorf("source %+v, want base/deploy.yaml:2 built by the overlay and changed by its kustomization.yaml", w.Source)
	}
	if !strings.Contains(run.Stdout, "overlays/prod/kustomization.yaml") {
		t.Errorf("the report does not name the overlay that changed the Deployment:\n%s", run.Stdout)
	}

	// The same folder given to -f: the message says to use -k.
	asFile := runGate(t, "-f", overlay)
	asFile.mustExit(t, 2, "a kustomization given to -f is invalid input")
	if !strings.Contains(asFile.Stderr, "-k "+overlay) {
		t.Errorf("the -f error does not say to use -k:\n%s", asFile.Stderr)
	}
}

func TestInputsFolderIsReadAsKubectlReadsIt(t *testing.T) {
	t.Parallel()
	ns := framework.Namespace(t)
	c := framework.Client(t)
	framework.Apply(t, c, framework.Ready(framework.Deployment(ns, "top")))
	framework.Apply(t, c, framework.Deployment(ns, "nested", "--exit-code", "3"))
	dir := writeTree(t, map[string]string{
		"top.yaml":        fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: top, namespace: %s}\n", ns),
		"sub/nested.yaml": fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nested, namespace: %s}\n", ns),
	})

	// kubectl apply -f DIR reads DIR's own files: so does the gate, and the crash below is not its.
	flat := runGate(t, "-f", dir, "--soak", "2s")
	flat.mustEnd(t, 0, report.VerdictHealthy, "without -R only top.yaml is read")
	if len(flat.Report.Workloads) != 1 {
		t.Errorf("without -R the gate judged %d workloads, want 1 (top)", len(flat.Report.Workloads))
	}

	deep := runGate(t, "-R", "-f", dir, "--soak", "10s", "--wait-all", "--crash-tolerance", "0")
	deep.mustEnd(t, 1, report.VerdictFailed, "with -R sub/nested.yaml is read too, and it crashes")
	if w := deep.workload(t, "deployment/nested"); w.Source == nil || w.Source.File != filepath.Join(dir, "sub/nested.yaml") {
		t.Errorf("deployment/nested source %+v, want sub/nested.yaml", w.Source)
	}
}

func TestInputsHelmTemplateStream(t *testing.T) {
	t.Parallel()
	ns := framework.Namespace(t)
	// What `helm template shop ./shop` writes: each document after the template it came from.
	stream := "---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop\n" +
		"spec:\n  ports: [{port: 80}]\n---\n# Source: shop/templates/deploy.yaml\n" + deploymentYAML("shop", "--exit-code", "3")
	applyYAML(t, ns, []byte(stream))

	run := startGateRunStdin(t, strings.NewReader(stream), "-f", "-", "-n", ns, "--soak", "10s", "--crash-tolerance", "0").wait(t)
	run.mustEnd(t, 1, report.VerdictFailed)
	if w := run.workload(t, "deployment/shop"); w.Source == nil || w.Source.File != "shop/templates/deploy.yaml" || w.Source.Line != 1 {
		t.Errorf("source %+v, want the chart template shop/templates/deploy.yaml at its line 1", w.Source)
	}

	// The chart's template itself, unrendered: the hint, not a Go type.
	tpl := writeManifest(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n")
	bad := runGate(t, "-f", tpl, "-n", ns)
	bad.mustExit(t, 2, "an unrendered template is invalid input")
	if !strings.Contains(bad.Stderr, "unrendered Helm template") || strings.Contains(bad.Stderr, "interface {}") {
		t.Errorf("the error does not give the hint, or names a Go type:\n%s", bad.Stderr)
	}
}
