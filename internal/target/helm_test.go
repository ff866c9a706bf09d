package target

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/helmrelease"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

const helmManifest = `---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: api
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec: {}
---
# Source: shop/templates/worker.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: worker
  namespace: jobs
`

func hook(name, kind, path string, phase string, events ...string) helmrelease.Hook {
	h := helmrelease.Hook{Name: name, Kind: kind, Path: path, Events: events,
		Manifest: "# Source: " + path + "\napiVersion: batch/v1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n"}
	h.LastRun.Phase = phase
	return h
}

func TestFromHelmRelease(t *testing.T) {
	type want struct {
		ref, ns, file, hook string
		skipped             bool
	}
	for _, tc := range []struct {
		name     string
		manifest string
		hooks    []helmrelease.Hook
		want     []want
		wantErr  string
	}{
		{name: "manifest resources with their templates", manifest: helmManifest, want: []want{
			{ref: "service/api", ns: "shop", file: "shop/templates/service.yaml", skipped: true},
			{ref: "deployment/api", ns: "shop", file: "shop/templates/deployment.yaml"},
			{ref: "statefulset/worker", ns: "jobs", file: "shop/templates/worker.yaml"},
		}},
		{name: "hook Jobs that ran in this revision, not the others", manifest: "",
			hooks: []helmrelease.Hook{
				hook("migrate", "Job", "shop/templates/migrate.yaml", "Succeeded", "pre-install", "pre-upgrade"),
				hook("smoke", "Job", "shop/templates/tests/smoke.yaml", "", "test"),
				hook("seed", "Job", "shop/templates/seed.yaml", "Unknown", "post-install"),
				hook("cfg", "ConfigMap", "shop/templates/cfg.yaml", "Succeeded", "pre-upgrade"),
			},
			want: []want{{ref: "job/migrate", ns: "shop", file: "shop/templates/migrate.yaml", hook: "pre-install,pre-upgrade"}}},
		{name: "a document without a Source line, and an overlong one",
			manifest: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n---\n# Source: x/" + strings.Repeat("a", 300) + "\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: b\n",
			want: []want{
				{ref: "deployment/a", ns: "shop", file: "(no # Source: line)"},
				{ref: "daemonset/b", ns: "shop", file: "x/" + strings.Repeat("a", maxTemplatePath-2)},
			}},
		{name: "an invalid rendered document names the release and template", manifest: "# Source: shop/templates/bad.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: Bad_Name\n",
			wantErr: "helm release shop -n shop revision 4: shop/templates/bad.yaml:1: Deployment metadata.name \"Bad_Name\" is not a valid name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &helmrelease.Release{Name: "shop", Namespace: "shop", Version: 4, Manifest: tc.manifest, Hooks: tc.hooks}
			ws, err := FromHelmRelease(r)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || fault.Code(err) != fault.ExitInvalid {
					t.Fatalf("err = %v (exit %d), want exit 2 with %q", err, fault.Code(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != len(tc.want) {
				t.Fatalf("got %d workloads %v, want %d", len(ws), ws, len(tc.want))
			}
			for i, w := range tc.want {
				g := ws[i]
				if g.Ref().String() != w.ref || g.Namespace != w.ns || g.File != w.file || g.Line != 0 || g.Skipped != w.skipped {
					t.Errorf("[%d] = %s -n %s %s:%d skipped=%v, want %s -n %s %s:0 skipped=%v", i, g.Ref(), g.Namespace, g.File, g.Line, g.Skipped, w.ref, w.ns, w.file, w.skipped)
				}
				if g.Helm == nil || g.Helm.Release != "shop" || g.Helm.Revision != 4 || g.Helm.Hook != w.hook {
					t.Errorf("[%d] helm source %+v, want release shop revision 4 hook %q", i, g.Helm, w.hook)
				}
			}
		})
	}
}

func TestDropDeletedHooks(t *testing.T) {
	src := &HelmSource{Release: "shop", Revision: 2}
	hookSrc := &HelmSource{Release: "shop", Revision: 2, Hook: "pre-upgrade"}
	ws := []Target{
		{Kind: Deployment, Namespace: "shop", Name: "api", Helm: src},
		{Kind: Job, Namespace: "shop", Name: "migrate", Helm: hookSrc},
		{Kind: Job, Namespace: "shop", Name: "cleanup", Helm: hookSrc},
	}
	cs := kubetest.Client(&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate", Namespace: "shop"}})
	kept, gone, err := DropDeletedHooks(context.Background(), cs, ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0].Name != "api" || kept[1].Name != "migrate" {
		t.Errorf("kept %v, want deployment/api (not a hook: CheckExists judges it) and job/migrate", kept)
	}
	if len(gone) != 1 || gone[0].Name != "cleanup" {
		t.Errorf("gone %v, want job/cleanup", gone)
	}
}

// A rendered resource that is not in the cluster (Helm pending or interrupted) gets a Helm hint,
// not the kubectl apply one.
func TestCheckExistsHelmHint(t *testing.T) {
	ws := []Target{{Kind: Deployment, Namespace: "shop", Name: "api", File: "shop/templates/deployment.yaml", Helm: &HelmSource{Release: "shop", Revision: 3}}}
	err := CheckExists(context.Background(), kubetest.Client(), ws)
	if err == nil || fault.Code(err) != fault.ExitCannotEvaluate {
		t.Fatalf("err %v, want exit 3", err)
	}
	for _, want := range []string{"deployment/api not found in namespace shop", "helm release shop revision 3 renders it (shop/templates/deployment.yaml)", "helm status shop -n shop"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "kubectl apply") {
		t.Errorf("%v: the kubectl apply hint is wrong for a Helm release", err)
	}
}
