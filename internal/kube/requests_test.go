package kube

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path, watch string
		verb, resource      string
	}{
		{"GET", "/api/v1/namespaces/shop/pods", "", "list", "pods"},
		{"GET", "/api/v1/namespaces/shop/pods", "true", "watch", "pods"},
		{"GET", "/api/v1/namespaces/shop/pods/api-1/log", "", "get", "pods/log"},
		{"GET", "/apis/apps/v1/namespaces/shop/deployments/api", "", "get", "apps/deployments"},
		{"PATCH", "/apis/apps/v1/namespaces/shop/deployments/api", "", "patch", "apps/deployments"},
		{"GET", "/api/v1/namespaces/shop", "", "get", "namespaces"},
		{"GET", "/api/v1/nodes", "", "list", "nodes"},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "", "create", "authorization.k8s.io/selfsubjectaccessreviews"},
		{"GET", "/apis", "", "get", "/apis"},
	}
	for _, tt := range tests {
		verb, resource := describe(tt.method, tt.path, tt.watch)
		if verb != tt.verb || resource != tt.resource {
			t.Errorf("describe(%s %s watch=%q) = %q %q, want %q %q", tt.method, tt.path, tt.watch, verb, resource, tt.verb, tt.resource)
		}
	}
}

func TestRequestCounterCountsAndTabulates(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	c := NewRequestCounter()
	client := &http.Client{Transport: c.Wrap(http.DefaultTransport)}
	for _, p := range []string{"/api/v1/namespaces/a/pods", "/api/v1/namespaces/b/pods", "/api/v1/namespaces/a/pods?watch=true"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var out bytes.Buffer
	c.WriteTable(&out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"2  list  pods", "1  watch  pods", "3  total"}
	if len(lines) != len(want)+1 {
		t.Fatalf("table:\n%s", out.String())
	}
	for i, w := range want {
		if got := strings.Join(strings.Fields(lines[i+1]), "  "); got != w {
			t.Errorf("line %d = %q, want %q", i+1, got, w)
		}
	}
}
