//go:build helmsdk

package helmrollback

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	"helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/rest"
)

// TestRunIsHelmRollback runs the gate's rollback through Helm's own action on Helm's in-memory
// storage: the revision the gate names is the one Helm goes back to, Helm stores the rollback as
// a new revision "Rollback to N" and supersedes the one it replaced, as `helm history` shows it.
func TestRunIsHelmRollback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		statuses []common.Status // revisions 1..n
		to       int
	}{
		{name: "broken upgrade", statuses: []common.Status{common.StatusSuperseded, common.StatusDeployed}, to: 1},
		{name: "past a failed revision", statuses: []common.Status{common.StatusSuperseded, common.StatusFailed, common.StatusDeployed}, to: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ac := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
			ac.Releases = storage.Init(driver.NewMemory())
			ac.KubeClient = &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard}
			for i, s := range tc.statuses {
				rel := &release.Release{Name: "shop", Namespace: "prod", Version: i + 1,
					Chart:    &chart.Chart{Metadata: &chart.Metadata{Name: "shop", Version: "0.1.0", APIVersion: "v2"}},
					Info:     &release.Info{Status: s, Description: "Upgrade complete"},
					Manifest: "# Source: shop/templates/deployment.yaml\n"}
				if err := ac.Releases.Create(rel); err != nil {
					t.Fatal(err)
				}
			}
			if err := run(ac, Request{Release: "shop", Namespace: "prod", To: tc.to, Driver: "secrets", Timeout: time.Minute, MaxHistory: 10}); err != nil {
				t.Fatalf("run: %v", err)
			}
			hist, err := action.NewHistory(ac).Run("shop")
			if err != nil {
				t.Fatal(err)
			}
			got := map[int]*release.Release{}
			for _, h := range hist {
				r := h.(*release.Release)
				got[r.Version] = r
			}
			n := len(tc.statuses)
			next, replaced := got[n+1], got[n]
			if next == nil || next.Info.Status != common.StatusDeployed || next.Info.Description != "Rollback to 1" {
				t.Fatalf("revision %d: %+v, want deployed, \"Rollback to 1\"", n+1, next)
			}
			if replaced.Info.Status != common.StatusSuperseded {
				t.Errorf("revision %d is %s, want superseded", n, replaced.Info.Status)
			}
		})
	}
	if err := run(action.NewConfiguration(), Request{Release: "shop", Namespace: "prod"}); err == nil {
		t.Errorf("a request without a revision ran; it must never fall back to Helm's \"previous\"")
	}
}

// TestGetterNamespace: Helm's kube client takes the default namespace of the objects it builds
// from the getter; it must be the release's, not the kubeconfig's.
func TestGetterNamespace(t *testing.T) {
	t.Parallel()
	g := getter{cfg: &rest.Config{Host: "https://127.0.0.1:1"}, namespace: "prod"}
	if ns, _, err := g.ToRawKubeConfigLoader().Namespace(); err != nil || ns != "prod" {
		t.Errorf("namespace %q (%v), want prod", ns, err)
	}
	if cfg, _ := g.ToRESTConfig(); cfg == g.cfg || cfg.Host != g.cfg.Host {
		t.Errorf("ToRESTConfig must hand Helm a copy of the gate's config")
	}
}
