package target

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

const manifest = `# the api
apiVersion: v1
kind: Service
metadata:
  name: api
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: production
spec: {}
---
# comment only
---

apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
`

func TestFromManifests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	app := write("k8s/app.yaml", manifest)
	write("k8s/ds.yml", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\n")
	write("k8s/README.md", "not a manifest")
	list := write("list.json", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}}]}`)
	bad := write("bad.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x\n")
	noKind := write("nokind.yaml", "foo: bar\n")
	oldAPI := write("old.yaml", "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n")
	release := write("release.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\n---\n"+
		"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n")
	jobInApps := write("jobapps.yaml", "apiVersion: apps/v1\nkind: Job\nmetadata: {name: migrate}\n")
	write("tree/top.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: top}\n")
	write("tree/sub/nested.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nested}\n")
	write("onlysub/sub/nested.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nested}\n")
	write("kust/kustomization.yaml", "resources: [deploy.yaml]\n")
	write("kust/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: k}\n")
	write("withkust/app.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n")
	write("withkust/overlay/kustomization.yaml", "resources: [../app.yaml]\n")
	unrenderedChart := write("chart/templates/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n")
	quotedTemplate := write("quoted.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"{{ .Values.name }}\"\n")
	metaString := write("metastring.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: api\n")
	notMapping := write("notmapping.yaml", "- a\n- b\n")
	badLater := write("badlater.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n   labels: {}\n")
	helmStream := "---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop\n" +
		"---\n# Source: shop/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\n"

	tests := []struct {
		name      string
		paths     []string
		stdin     string
		recursive bool
		want      []string // Key@line (Key@file:line where the file is not the one given), skipped marked with !
		wantErr   string
	}{
		{name: "file with lines and default namespace", paths: []string{app},
			want: []string{"!Service/default/api@2", "Deployment/production/api@7", "StatefulSet/default/db@17"}},
		{name: "folder walks yaml only", paths: []string{filepath.Join(dir, "k8s")},
			want: []string{"!Service/default/api@2", "Deployment/production/api@7", "StatefulSet/default/db@17", "DaemonSet/default/agent@1"}},
		{name: "glob", paths: []string{filepath.Join(dir, "k8s", "*.yml")}, want: []string{"DaemonSet/default/agent@1"}},
		{name: "list kind", paths: []string{list}, want: []string{"Deployment/default/web@1"}},
		{name: "stdin", paths: []string{"-"}, stdin: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: s}\n", want: []string{"Deployment/default/s@1"}},
		{name: "missing file", paths: []string{filepath.Join(dir, "nope.yaml")}, wantErr: "no such file or directory"},
		{name: "glob matching nothing", paths: []string{filepath.Join(dir, "*.txt")}, wantErr: "matches no file"},
		{name: "invalid yaml names file and line", paths: []string{bad}, wantErr: "bad.yaml:1: invalid YAML"},
		{name: "no kind", paths: []string{noKind}, wantErr: "no kind or apiVersion"},
		{name: "old api group", paths: []string{oldAPI}, wantErr: "use apps/v1"},
		{name: "a Job is judged, a CronJob skipped", paths: []string{release},
			want: []string{"Job/default/migrate@1", "!CronJob/default/nightly@5", "Deployment/default/api@9"}},
		{name: "a Job in the wrong api group", paths: []string{jobInApps}, wantErr: "use batch/v1"},
		{name: "a folder is read without its subfolders, as kubectl -f does", paths: []string{filepath.Join(dir, "tree")},
			want: []string{"Deployment/default/top@1"}},
		{name: "recursive reads the subfolders, as kubectl -R does", paths: []string{filepath.Join(dir, "tree")}, recursive: true,
			want: []string{"Deployment/default/nested@1", "Deployment/default/top@1"}},
		{name: "manifests only in subfolders: the -R hint", paths: []string{filepath.Join(dir, "onlysub")}, wantErr: "add -R (--recursive)"},
		{name: "a kustomization folder: the -k hint", paths: []string{filepath.Join(dir, "kust")}, wantErr: "give it to the gate the same way: -k " + filepath.Join(dir, "kust")},
		{name: "a kustomization file: the -k hint", paths: []string{filepath.Join(dir, "kust", "kustomization.yaml")}, wantErr: "give it to the gate the same way: -k"},
		{name: "a kustomization in a subfolder is not read without -R", paths: []string{filepath.Join(dir, "withkust")},
			want: []string{"Deployment/default/a@1"}},
		{name: "a kustomization in a subfolder with -R: the -k hint", paths: []string{filepath.Join(dir, "withkust")}, recursive: true,
			wantErr: "is a kustomization"},
		{name: "helm template on stdin: the chart template and its line", paths: []string{"-"}, stdin: helmStream,
			want: []string{"!Service/default/shop@shop/templates/service.yaml:1", "Deployment/default/shop@shop/templates/deploy.yaml:1"}},
		{name: "an unrendered chart template: the hint", paths: []string{unrenderedChart}, wantErr: "unrendered Helm template"},
		{name: "an unrendered template that parses: the hint", paths: []string{quotedTemplate}, wantErr: "render it first (`helm template RELEASE CHART | gate -f -`), or gate the installed release with --helm-release"},
		{name: "metadata of the wrong shape, in words", paths: []string{metaString}, wantErr: `metastring.yaml:1: not a Kubernetes object: metadata is a string ("api"), want a mapping with name`},
		{name: "a list document, in words", paths: []string{notMapping}, wantErr: "the document is a list; a manifest is a mapping"},
		{name: "a YAML error names the file's line", paths: []string{badLater}, wantErr: "badlater.yaml:5: invalid YAML: line 9: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws, err := FromManifests(tt.paths, tt.recursive, "default", strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "interface {}") || strings.Contains(err.Error(), "Go struct") {
					t.Errorf("err = %v: it names a Go type", err)
				}
				if fault.Code(err) != fault.ExitInvalid {
					t.Errorf("exit code %d, want %d", fault.Code(err), fault.ExitInvalid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				s := fmt.Sprintf("%s@%d", w.Key(), w.Line)
				if !slices.Contains(tt.paths, w.File) && w.File != "<stdin>" && !strings.HasPrefix(w.File, dir) {
					s = fmt.Sprintf("%s@%s:%d", w.Key(), w.File, w.Line)
				}
				if w.Skipped {
					s = "!" + s
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, kind, name, err string
	}{
		{in: "deploy/api", kind: Deployment, name: "api"},
		{in: "Deployment/api", kind: Deployment, name: "api"},
		{in: "sts/db", kind: StatefulSet, name: "db"},
		{in: "daemonset.apps/agent", kind: DaemonSet, name: "agent"},
		{in: "api", err: "want KIND/NAME"},
		{in: "job/migrate", kind: Job, name: "migrate"},
		{in: "jobs.batch/migrate", kind: Job, name: "migrate"},
		{in: "cronjob/x", kind: "cronjob", name: "x"}, // resolved through discovery (Resolve)
		{in: "certificates.cert-manager.io/web", kind: "certificates.cert-manager.io", name: "web"},
		{in: "pvc/data", kind: "pvc", name: "data"},
		{in: "a_b/x", err: `"a_b" is not a kind`},
		{in: "$(id)/x", err: "is not a kind"},
		{in: "deploy/", err: "want KIND/NAME"},
	}
	for _, tt := range tests {
		kind, name, err := ParseRef(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || fault.Code(err) != fault.ExitInvalid {
				t.Errorf("ParseRef(%q) err = %v, want invalid containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || kind != tt.kind || name != tt.name {
			t.Errorf("ParseRef(%q) = %q %q %v, want %q %q", tt.in, kind, name, err, tt.kind, tt.name)
		}
	}
}

// A line longer than the limit is an error naming the file and line, never a silent end of the
// stream that would drop the documents after it.
func TestManifestLongLine(t *testing.T) {
	t.Parallel()
	data := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\n# " + strings.Repeat("x", maxLineLen+1) +
		"\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n"
	_, err := Parse("app.yaml", []byte(data), "prod")
	if fault.Code(err) != fault.ExitInvalid || err == nil || !strings.Contains(err.Error(), "app.yaml:5: line is longer") {
		t.Errorf("err = %v, want exit 2 naming app.yaml:5", err)
	}
	ws, err := Parse("app.yaml", []byte(strings.Replace(data, strings.Repeat("x", maxLineLen+1), "short", 1)), "prod")
	if err != nil || len(ws) != 2 {
		t.Errorf("without the long line: %v, %v", ws, err)
	}
}

// Names reach API paths, reports and commands: only DNS-1123 names pass.
func TestManifestNamesAreValidated(t *testing.T) {
	t.Parallel()
	for _, name := range []string{`"api ##[error]x"`, `"::error::x"`, `"API"`, `"a;b"`, `"` + strings.Repeat("a", 254) + `"`} {
		_, err := Parse("app.yaml", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "+name+"\n"), "prod")
		if fault.Code(err) != fault.ExitInvalid || !strings.Contains(fmt.Sprint(err), "not a valid name") {
			t.Errorf("name %s: err = %v, want an invalid-name error", name, err)
		}
	}
	_, err := Parse("app.yaml", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: \"Prod!\"\n"), "prod")
	if fault.Code(err) != fault.ExitInvalid {
		t.Errorf("bad namespace: err = %v", err)
	}
	if _, _, err := ParseRef("deploy/a$(id)"); fault.Code(err) != fault.ExitInvalid {
		t.Errorf("ParseRef: err = %v", err)
	}
}
