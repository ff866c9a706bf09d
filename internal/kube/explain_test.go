package kube

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

var (
	pods        = schema.GroupResource{Resource: "pods"}
	deployments = schema.GroupResource{Group: "apps", Resource: "deployments"}
)

func TestExplain(t *testing.T) {
	t.Parallel()
	forbidden := apierrors.NewForbidden(pods, "", errors.New(`User "ci" cannot list resource "pods"`))
	tests := []struct {
		name     string
		err      error
		gr       schema.GroupResource
		code     int
		contains []string
	}{
		{"forbidden names the rule", forbidden, pods, fault.ExitCannotEvaluate,
			[]string{"list pods -n prod: forbidden", "may not list pods", `apiGroups: [""]`, "resources: [pods]", "verbs: [list]", "deploy/rbac.yaml"}},
		{"forbidden in the apps group names the group", forbidden, deployments, fault.ExitCannotEvaluate,
			[]string{"may not list deployments.apps", "apiGroups: [apps]", "resources: [deployments]"}},
		{"unauthorized", apierrors.NewUnauthorized("token expired"), pods, fault.ExitCannotEvaluate, []string{"unauthorized", "credentials in the kubeconfig"}},
		{"unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, pods, fault.ExitCannotEvaluate,
			[]string{"cannot reach the Kubernetes API server", "--kubeconfig/--context"}},
		{"a failed credential plugin is not the network", &url.Error{Op: "Get", URL: "https://eks/api", Err: errors.New("getting credentials: exec: executable aws failed with exit code 255")},
			pods, fault.ExitCannotEvaluate, []string{"credentials: the kubeconfig's credential plugin failed", "exit code 255"}},
		{"not found cannot be evaluated", apierrors.NewNotFound(pods, "api-1"), pods, fault.ExitCannotEvaluate, []string{"list pods -n prod: pods \"api-1\" not found"}},
		{"other errors keep their meaning", errors.New("boom"), pods, fault.ExitFailed, []string{"list pods -n prod: boom"}},
	}
	for _, tt := range tests {
		err := Explain(tt.err, "list pods -n prod", "list", tt.gr)
		if fault.Code(err) != tt.code {
			t.Errorf("%s: code %d, want %d", tt.name, fault.Code(err), tt.code)
		}
		for _, c := range tt.contains {
			if !strings.Contains(err.Error(), c) {
				t.Errorf("%s: %q does not contain %q", tt.name, err, c)
			}
		}
	}
	if Explain(nil, "x", "get", pods) != nil {
		t.Error("Explain(nil) is not nil")
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		err  error
		want int
	}{
		"nil":                   {nil, fault.ExitHealthy},
		"raw forbidden":         {apierrors.NewForbidden(deployments, "api", errors.New("no")), fault.ExitCannotEvaluate},
		"raw not found":         {apierrors.NewNotFound(deployments, "api"), fault.ExitCannotEvaluate},
		"plain failure":         {errors.New("deployment/api failed"), fault.ExitFailed},
		"invalid stays invalid": {fault.Invalidf("bad"), fault.ExitInvalid},
	} {
		if got := fault.Code(Classify(tt.err)); got != tt.want {
			t.Errorf("%s: Code(Classify) = %d, want %d", name, got, tt.want)
		}
	}
}

func TestExplainWrappedRebuildsAForbiddenFromKubectlsWording(t *testing.T) {
	t.Parallel()
	err := errors.New(`failed restoring revision 1: deployments.apps "api" is forbidden: User "ci" cannot patch resource "deployments"`)
	got := ExplainWrapped(err, "undo deployment prod/api", "patch", deployments)
	if fault.Code(got) != fault.ExitCannotEvaluate || !strings.Contains(got.Error(), "verbs: [patch]") {
		t.Errorf("got %v (code %d), want a forbidden explanation naming the patch rule", got, fault.Code(got))
	}
}
