package manifestfix

import (
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
---
# the API
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: registry.example.com/migrate:v3
      containers:
        - name: api
          image: registry.example.com/api:v1.2.2 # pinned
          env:
            - name: DATABASE_HOST
              value: db
            - name: DATABASE_PORT
              value: "${DATABASE_PORT}"
            - name: FEATURE_X
              value: 'on'
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: api-db, key: password}
`

func TestSuggest(t *testing.T) {
	t.Parallel()
	portFinding := &report.Finding{Cause: report.CauseConfigError, Summary: `env DATABASE_PORT="${DATABASE_PORT}" is not an integer`}
	for _, tc := range []struct {
		name    string
		docLine int
		f       *report.Finding
		changes []report.Change
		want    *report.ManifestEdit // nil: no edit
	}{
		{"env literal back to the last good value", 7, portFinding,
			[]report.Change{{Path: "containers[api].env[DATABASE_PORT]", Before: `"5432"`, After: `"${DATABASE_PORT}"`}},
			&report.ManifestEdit{File: "deploy/api.yaml", Line: 24, Path: "containers[api].env[DATABASE_PORT]", What: "DATABASE_PORT",
				Old: `              value: "${DATABASE_PORT}"`, New: `              value: "5432"`, Before: `"5432"`, After: `"${DATABASE_PORT}"`}},
		{"the change the finding names, not the first", 7, portFinding,
			[]report.Change{{Path: "containers[api].env[DATABASE_HOST]", Before: `"db-old"`, After: `"db"`},
				{Path: "containers[api].env[DATABASE_PORT]", Before: `"5432"`, After: `"${DATABASE_PORT}"`}},
			&report.ManifestEdit{File: "deploy/api.yaml", Line: 24, Path: "containers[api].env[DATABASE_PORT]", What: "DATABASE_PORT",
				Old: `              value: "${DATABASE_PORT}"`, New: `              value: "5432"`, Before: `"5432"`, After: `"${DATABASE_PORT}"`}},
		{"a plain image stays plain, its comment kept", 7, &report.Finding{Cause: report.CauseImagePull, Summary: "image registry.example.com/api:v1.2.2 not found"},
			[]report.Change{{Path: "containers[api].image", Before: "registry.example.com/api:v1.2.1", After: "registry.example.com/api:v1.2.2"}},
			&report.ManifestEdit{File: "deploy/api.yaml", Line: 19, Path: "containers[api].image", What: "the image of container api",
				Old: `          image: registry.example.com/api:v1.2.2 # pinned`, New: `          image: registry.example.com/api:v1.2.1 # pinned`,
				Before: "registry.example.com/api:v1.2.1", After: "registry.example.com/api:v1.2.2"}},
		{"a plain value that YAML would read as a number is quoted", 7, &report.Finding{Summary: "DATABASE_HOST is wrong"},
			[]report.Change{{Path: "containers[api].env[DATABASE_HOST]", Before: `"5432"`, After: `"db"`}},
			&report.ManifestEdit{File: "deploy/api.yaml", Line: 22, Path: "containers[api].env[DATABASE_HOST]", What: "DATABASE_HOST",
				Old: `              value: db`, New: `              value: "5432"`, Before: `"5432"`, After: `"db"`}},
		{"an init container", 7, &report.Finding{Cause: report.CauseInitContainer, Summary: "init container migrate: image pull failed"},
			[]report.Change{{Path: "initContainers[migrate].image", Before: "registry.example.com/migrate:v2", After: "registry.example.com/migrate:v3"}},
			&report.ManifestEdit{File: "deploy/api.yaml", Line: 16, Path: "initContainers[migrate].image", What: "the image of container migrate",
				Old: `          image: registry.example.com/migrate:v3`, New: `          image: registry.example.com/migrate:v2`,
				Before: "registry.example.com/migrate:v2", After: "registry.example.com/migrate:v3"}},
		{"masked values are never written", 7, &report.Finding{Summary: "DB_PASSWORD rejected"},
			[]report.Change{{Path: "containers[api].env[DB_PASSWORD]", Before: report.MaskedValue, After: report.MaskedValue}}, nil},
		{"a reference is not a value in the manifest", 7, &report.Finding{Summary: "DB_PASSWORD missing"},
			[]report.Change{{Path: "containers[api].env[DB_PASSWORD]", Before: "secretKeyRef old/password", After: "secretKeyRef api-db/password"}}, nil},
		{"added in this rollout: nothing to go back to", 7, portFinding,
			[]report.Change{{Path: "containers[api].env[DATABASE_PORT]", After: `"${DATABASE_PORT}"`}}, nil},
		{"a change the finding does not name", 7, portFinding,
			[]report.Change{{Path: "containers[api].env[FEATURE_X]", Before: `"off"`, After: `"on"`}}, nil},
		{"another document", 1, portFinding,
			[]report.Change{{Path: "containers[api].env[DATABASE_PORT]", Before: `"5432"`, After: `"${DATABASE_PORT}"`}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Suggest("deploy/api.yaml", []byte(manifest), tc.docLine, tc.f, tc.changes)
			switch {
			case tc.want == nil && got != nil:
				t.Errorf("edit %+v, want none", *got)
			case tc.want != nil && got == nil:
				t.Errorf("no edit, want %+v", *tc.want)
			case tc.want != nil && *got != *tc.want:
				t.Errorf("edit\n %+v\nwant\n %+v", *got, *tc.want)
			}
			if got != nil && !strings.Contains(strings.Split(manifest, "\n")[got.Line-1], strings.TrimSpace(got.Old)) {
				t.Errorf("line %d of the manifest is not %q", got.Line, got.Old)
			}
		})
	}
}

func TestReplaceScalarQuotes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ line, want, out string }{
		{`  value: 'on'`, "off", `  value: "off"`},
		{`  value: "a\"b"`, "c", `  value: "c"`},
		{`  value: plain # note`, "yes", `  value: "yes" # note`},
		{`  value: plain`, "new line\n::error::x", `  value: "new line\n::error::x"`},
	} {
		got, ok := replaceScalar(tc.line, strings.Index(tc.line, ": ")+3, tc.want)
		if !ok || got != tc.out {
			t.Errorf("replaceScalar(%q, %q) = %q, %v, want %q", tc.line, tc.want, got, ok, tc.out)
		}
	}
}
