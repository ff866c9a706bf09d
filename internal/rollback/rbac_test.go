package rollback

import (
	"os"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// TestRBACCoversRollback runs each kind of rollback on the fake clientset and checks that every
// API call it made is granted by deploy/rbac.yaml (read-only + rollback roles), and that the
// read-only role alone grants no mutating verb. This keeps the documented RBAC true to the code.
func TestRBACCoversRollback(t *testing.T) {
	t.Parallel()
	read, rollback := loadRoles(t)
	if verbs := mutatingVerbs(read); len(verbs) > 0 {
		t.Errorf("read-only roles grant mutating verbs: %v", verbs)
	}
	granted := append(slices.Clone(read), rollback...)

	stsOwner := controller("StatefulSet", "web", "sts-uid")
	cases := []struct {
		kind, name string
		objects    func(t *testing.T) []runtime.Object
		setup      func(cs *fake.Clientset)
	}{
		{"Deployment", "api", func(*testing.T) []runtime.Object {
			return []runtime.Object{deployment("2", "app:v2", false), replicaSet("1", "app:v1"), replicaSet("2", "app:v2")}
		}, nil},
		{"StatefulSet", "web", func(t *testing.T) []runtime.Object {
			return []runtime.Object{statefulSet(appsv1.OrderedReadyPodManagement, appsv1.RollingUpdateStatefulSetStrategyType, "v2", "web-v2"),
				controllerRevision(t, "web", "StatefulSet", "sts-uid", 1, "v1"),
				controllerRevision(t, "web", "StatefulSet", "sts-uid", 2, "v2"),
				pod("web-0", "web-v2", false, &stsOwner)}
		}, func(cs *fake.Clientset) { playStatefulSetController(cs, "web-v1") }},
		{"DaemonSet", "agent", func(t *testing.T) []runtime.Object {
			return []runtime.Object{daemonSet("v2"),
				controllerRevision(t, "agent", "DaemonSet", "ds-uid", 1, "v1"),
				controllerRevision(t, "agent", "DaemonSet", "ds-uid", 2, "v2")}
		}, nil},
	}
	for _, tc := range cases {
		cs := fake.NewClientset(tc.objects(t)...)
		if tc.setup != nil {
			tc.setup(cs)
		}
		r := &Rollbacker{Client: kubetest.Wrap(cs)}
		if got := undo(r, tc.kind, ns, tc.name); got.Status != "rolled-back" {
			t.Fatalf("%s: Status = %q (%s), want rolled-back", tc.kind, got.Status, got.Message)
		}
		for _, a := range cs.Actions() {
			res := a.GetResource()
			resource := res.Resource
			if sub := a.GetSubresource(); sub != "" {
				resource += "/" + sub
			}
			if !allows(granted, a.GetVerb(), res.Group, resource) {
				t.Errorf("%s rollback calls %s %s (group %q), which deploy/rbac.yaml does not grant",
					tc.kind, a.GetVerb(), resource, res.Group)
			}
		}
	}
}

// loadRoles returns the rules of the read-only ClusterRoles and of the rollback ClusterRole.
func loadRoles(t *testing.T) (read, rollback []rbacv1.PolicyRule) {
	t.Helper()
	data, err := os.ReadFile("../../deploy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var role rbacv1.ClusterRole
		if err := yaml.UnmarshalStrict([]byte(doc), &role); err != nil && !strings.Contains(err.Error(), "unknown field") {
			t.Fatalf("parse deploy/rbac.yaml: %v", err)
		}
		if role.Kind != "ClusterRole" {
			continue
		}
		switch role.Name {
		case "rollout-gate-read", "rollout-gate-nodes":
			read = append(read, role.Rules...)
		case "rollout-gate-rollback":
			rollback = append(rollback, role.Rules...)
		default:
			t.Errorf("unexpected ClusterRole %q", role.Name)
		}
	}
	if len(read) == 0 || len(rollback) == 0 {
		t.Fatalf("deploy/rbac.yaml: found %d read and %d rollback rules, want both", len(read), len(rollback))
	}
	return read, rollback
}

func allows(rules []rbacv1.PolicyRule, verb, group, resource string) bool {
	for _, r := range rules {
		if slices.Contains(r.Verbs, verb) && slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) {
			return true
		}
	}
	return false
}

func mutatingVerbs(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, v := range r.Verbs {
			if !slices.Contains([]string{"get", "list", "watch"}, v) {
				out = append(out, v+" "+strings.Join(r.Resources, ","))
			}
		}
	}
	return out
}
