package app

import (
	"errors"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

func TestManifestEdit(t *testing.T) {
	t.Parallel()
	const manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n" +
		"        - name: api\n          env:\n            - name: DATABASE_PORT\n              value: \"abc\"\n"
	failed := func(src *report.Source) *report.Workload {
		return &report.Workload{Kind: "Deployment", Name: "api", Verdict: report.VerdictFailed, Source: src,
			Findings: []report.Finding{{Cause: report.CauseConfigError, Summary: `env DATABASE_PORT="abc" is not an integer`}},
			Changes:  []report.Change{{Path: "containers[api].env[DATABASE_PORT]", Before: `"5432"`, After: `"abc"`}}}
	}
	read := func(path string) ([]byte, error) {
		if path != "k8s/api.yaml" {
			return nil, errors.New("no such file")
		}
		return []byte(manifest), nil
	}
	for _, tc := range []struct {
		name string
		w    *report.Workload
		line int // 0: no edit
	}{
		{"from a manifest file", failed(&report.Source{File: "k8s/api.yaml", Line: 1}), 12},
		{"from stdin", failed(&report.Source{File: "-", Line: 1}), 0},
		{"a Helm template", failed(&report.Source{File: "k8s/api.yaml", Helm: &report.HelmSource{Release: "shop"}}), 0},
		{"the file is gone", failed(&report.Source{File: "k8s/gone.yaml", Line: 1}), 0},
		{"no source", failed(nil), 0},
	} {
		manifestEdit(tc.w, read)
		got := 0
		if e := tc.w.Findings[0].Edit; e != nil {
			got = e.Line
		}
		if got != tc.line {
			t.Errorf("%s: edit at line %d, want %d", tc.name, got, tc.line)
		}
	}
}
