package target

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

func TestFromKustomizations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("base/kustomization.yaml", "resources: [service.yaml, deploy.yaml]\n")
	write("base/service.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n")
	write("base/deploy.yaml", "# the api\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: api:v1\n")
	write("overlays/prod/kustomization.yaml", "namespace: prod\nnamePrefix: prod-\nresources: [../../base]\npatches:\n- path: env.yaml\n")
	write("overlays/prod/env.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        env: [{name: PORT, value: \"x\"}]\n")
	write("broken/kustomization.yaml", "resources: [missing.yaml]\n")
	write("plain/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
	before, err := os.ReadFile(filepath.Join(dir, "overlays/prod/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	ws, err := FromKustomizations([]string{filepath.Join(dir, "overlays/prod")}, "default")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.Key()+"@"+strings.TrimPrefix(w.File, dir+"/")+":"+itoa(w.Line))
	}
	want := []string{"Service/prod/prod-api@base/service.yaml:1", "Deployment/prod/prod-api@base/deploy.yaml:3"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	d := ws[1]
	if d.Skipped || d.Kustomization == nil || d.Kustomization.Dir != filepath.Join(dir, "overlays/prod") {
		t.Fatalf("the Deployment's kustomize source = %+v", d.Kustomization)
	}
	if !slices.Contains(d.Kustomization.Patched, filepath.Join(dir, "overlays/prod/kustomization.yaml")) {
		t.Errorf("patched by %v, want the overlay's kustomization.yaml", d.Kustomization.Patched)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "overlays/prod/kustomization.yaml"))
	if string(after) != string(before) {
		t.Errorf("the build changed the user's kustomization.yaml:\n%s", after)
	}

	for _, tc := range []struct{ name, dir, wantErr string }{
		{"missing folder", filepath.Join(dir, "nope"), "give the folder that holds kustomization.yaml"},
		{"no kustomization", filepath.Join(dir, "plain"), "holds no kustomization.yaml; give the folder of one, or give plain manifests with -f"},
		{"a file", filepath.Join(dir, "plain/deploy.yaml"), "not a folder"},
		{"a build error", filepath.Join(dir, "broken"), "kustomize could not build it"},
	} {
		_, err := FromKustomizations([]string{tc.dir}, "default")
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || fault.Code(err) != fault.ExitInvalid {
			t.Errorf("%s: err = %v (exit %d), want exit 2 with %q", tc.name, err, fault.Code(err), tc.wantErr)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
