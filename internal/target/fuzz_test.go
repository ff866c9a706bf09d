package target

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

// FuzzManifest parses arbitrary manifest streams: the parser never panics, every error is bad
// input (exit 2) naming the file, and every workload it returns has DNS-1123 names and a line
// inside the stream.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: prod}\n",
		"---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: StatefulSet\n  metadata: {name: db}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"::error::x\"\n",
		"apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\n",
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\"}}",
		"key: [unclosed\n",
		"--- \n...\n---\r\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata: {name: crlf}\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		ws, err := Parse("app.yaml", []byte(data), "prod")
		if err != nil {
			if fault.Code(err) != fault.ExitInvalid || !strings.Contains(err.Error(), "app.yaml") {
				t.Errorf("error is not bad input naming the file: %v", err)
			}
			return
		}
		lines := strings.Count(data, "\n") + 1
		for _, w := range ws {
			if errs := validation.IsDNS1123Subdomain(w.Name); len(errs) > 0 {
				t.Errorf("workload name %q: %v", w.Name, errs)
			}
			if errs := validation.IsDNS1123Label(w.Namespace); len(errs) > 0 {
				t.Errorf("namespace %q: %v", w.Namespace, errs)
			}
			if w.File != "app.yaml" || w.Line < 1 || w.Line > lines {
				t.Errorf("source %s:%d outside the %d-line stream", w.File, w.Line, lines)
			}
		}
	})
}
