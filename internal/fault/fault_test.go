package fault

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCode(t *testing.T) {
	t.Parallel()
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "api", errors.New("no"))
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitHealthy},
		{"plain failure", errors.New("deployment/api failed"), ExitFailed},
		{"invalid", Invalidf("--timeout: bad"), ExitInvalid},
		{"wrapped invalid", fmt.Errorf("parse: %w", Invalidf("bad")), ExitInvalid},
		{"cannot evaluate", CannotEvaluatef("not found"), ExitCannotEvaluate},
		{"raw forbidden", forbidden, ExitCannotEvaluate},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ExitCannotEvaluate},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("%s: Code = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "ci" cannot list resource "pods"`))
	tests := []struct {
		name     string
		err      error
		code     int
		contains []string
	}{
		{"forbidden names the rule", forbidden, ExitCannotEvaluate,
			[]string{"list pods -n prod: forbidden", "may not list pods", `apiGroups: [""]`, "resources: [pods]", "verbs: [list]", "deploy/rbac.yaml"}},
		{"unauthorized", apierrors.NewUnauthorized("token expired"), ExitCannotEvaluate, []string{"unauthorized", "credentials in the kubeconfig"}},
		{"unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, ExitCannotEvaluate,
			[]string{"cannot reach the Kubernetes API server", "--kubeconfig/--context"}},
		{"other errors keep their meaning", errors.New("boom"), ExitFailed, []string{"list pods -n prod: boom"}},
	}
	for _, tt := range tests {
		err := Explain(tt.err, "list pods -n prod", "list", "", "pods")
		if Code(err) != tt.code {
			t.Errorf("%s: code %d, want %d", tt.name, Code(err), tt.code)
		}
		for _, c := range tt.contains {
			if !strings.Contains(err.Error(), c) {
				t.Errorf("%s: %q does not contain %q", tt.name, err, c)
			}
		}
	}
	if Explain(nil, "x", "get", "", "pods") != nil {
		t.Error("Explain(nil) is not nil")
	}
}
