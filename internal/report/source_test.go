package report

import (
	"strings"
	"testing"
)

func TestSourceString(t *testing.T) {
	for _, tc := range []struct {
		src  Source
		want string
	}{
		{Source{File: "k8s/api.yaml", Line: 12}, "k8s/api.yaml:12"},
		{Source{File: "shop/templates/deployment.yaml", Helm: &HelmSource{Release: "shop", Revision: 2}}, "shop/templates/deployment.yaml"},
	} {
		if got := tc.src.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.src, got, tc.want)
		}
	}
	r := &Report{SchemaVersion: SchemaVersion, Verdict: VerdictFailed, Namespace: "shop", Workloads: []Workload{{Kind: "Deployment", Namespace: "shop", Name: "api",
		Verdict: VerdictFailed, Source: &Source{File: "shop/templates/deployment.yaml", Helm: &HelmSource{Release: "shop", Revision: 2}}}}}
	var text strings.Builder
	if err := Text(&text, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	md := Markdown(r, MarkdownOptions{})
	for name, out := range map[string]string{"text": text.String(), "markdown": md} {
		if !strings.Contains(out, "deployment.yaml") || strings.Contains(out, "deployment.yaml:0") {
			t.Errorf("%s names the chart template with a line 0, or not at all:\n%s", name, out)
		}
	}
}
