package app

import (
	"errors"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/diagnose"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/watch"
)

// The row leads a failing workload's first finding with the edit of its manifest that takes back
// the change the finding blames, when the workload came from a manifest file it can read again.
func TestRowManifestEdit(t *testing.T) {
	t.Parallel()
	const manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n" +
		"        - name: api\n          env:\n            - name: DATABASE_PORT\n              value: \"abc\"\n"
	failed := func(file string, helm *target.HelmSource) watch.Result {
		return watch.Result{Workload: target.Target{Kind: "Deployment", Name: "api", File: file, Line: 1, Helm: helm}, Verdict: report.VerdictFailed}
	}
	diagnosed := func() *diagnosis {
		return &diagnosis{Result: diagnose.Result{
			Findings: []report.Finding{{Cause: report.CauseConfigError, Summary: `env DATABASE_PORT="abc" is not an integer`}},
			Changes:  []report.Change{{Path: "containers[api].env[DATABASE_PORT]", Before: `"5432"`, After: `"abc"`}}}}
	}
	read := func(path string) ([]byte, error) {
		if path != "k8s/api.yaml" {
			return nil, errors.New("no such file")
		}
		return []byte(manifest), nil
	}
	for _, tc := range []struct {
		name string
		res  watch.Result
		line int // 0: no edit
	}{
		{"from a manifest file", failed("k8s/api.yaml", nil), 12},
		{"from stdin", failed("-", nil), 0},
		{"a Helm template", failed("k8s/api.yaml", &target.HelmSource{Release: "shop"}), 0},
		{"the file is gone", failed("k8s/gone.yaml", nil), 0},
		{"no source", failed("", nil), 0},
	} {
		w := row(tc.res, diagnosed(), nil, read)
		got := 0
		if e := w.Findings[0].Edit; e != nil {
			got = e.Line
		}
		if got != tc.line {
			t.Errorf("%s: edit at line %d, want %d", tc.name, got, tc.line)
		}
	}
}
