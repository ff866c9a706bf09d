package watch

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// The scheduler's message for a pod whose claim is not bound, as v1.34 and v1.37 write it; a
// claim whose StorageClass does not exist gets the same one.
const unboundClaims = "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found"

// waitsForClaim: pod api-1 (in prod) mounts claim data and the scheduler holds it back with msg.
func waitsForClaim(msg string) podOpt {
	return func(p *corev1.Pod) {
		p.Namespace, p.UID = "prod", "uid-api-1"
		p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: metav1.NewTime(t0)}}
	}
}

func claim(name, class string, phase corev1.PersistentVolumeClaimPhase) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod"}, Status: corev1.PersistentVolumeClaimStatus{Phase: phase}}
	if class != "" {
		c.Spec.StorageClassName = &class
	}
	return c
}

func storageClass(name string) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "example.com/disk"}
}

func forbid(verb, resource string) k8stesting.ReactionFunc {
	return func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource(resource), "", errors.New(`User "ci" cannot `+verb+` resource "`+resource+`"`))
	}
}

// TestClaimFacts: what the watch learns of a held-back pod's claim decides whether its pod fails
// at once (a StorageClass that does not exist) or waits the grace (anything else), and a claim
// the gate may not read is said, not guessed.
func TestClaimFacts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		msg           string // the scheduler's
		objects       []runtime.Object
		forbidden     string // a resource the gate may not get
		wantSaid      string
		wantUnchecked string
		wantGets      int
	}{
		{name: "a StorageClass that does not exist", msg: unboundClaims, objects: []runtime.Object{claim("data", "fast-ssd", corev1.ClaimPending)},
			wantSaid: `PersistentVolumeClaim data asks for StorageClass fast-ssd: storageclass.storage.k8s.io "fast-ssd" not found`, wantGets: 2},
		{name: "the class exists: provisioning may still come", msg: unboundClaims,
			objects: []runtime.Object{claim("data", "standard", corev1.ClaimPending), storageClass("standard")}, wantGets: 2},
		{name: "no class named: nothing to check", msg: unboundClaims, objects: []runtime.Object{claim("data", "", corev1.ClaimPending)}, wantGets: 1},
		{name: "bound: nothing to check", msg: unboundClaims, objects: []runtime.Object{claim("data", "gone", corev1.ClaimBound)}, wantGets: 1},
		{name: "no such claim: the scheduler says so itself", msg: unboundClaims, wantGets: 1},
		{name: "held back for another reason: no read", msg: "0/1 nodes are available: 1 Insufficient cpu.",
			objects: []runtime.Object{claim("data", "fast-ssd", corev1.ClaimPending)}, wantGets: 0},
		{name: "StorageClasses forbidden: said, and the grace applies", msg: unboundClaims, objects: []runtime.Object{claim("data", "fast-ssd", corev1.ClaimPending)},
			forbidden: "storageclasses", wantUnchecked: "could not check StorageClass fast-ssd of PersistentVolumeClaim data", wantGets: 2},
		{name: "claims forbidden: said, and the grace applies", msg: unboundClaims, objects: []runtime.Object{claim("data", "fast-ssd", corev1.ClaimPending)},
			forbidden: "persistentvolumeclaims", wantUnchecked: "could not check PersistentVolumeClaim data", wantGets: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := fake.NewClientset(tt.objects...)
			if tt.forbidden != "" {
				cs.PrependReactor("get", tt.forbidden, forbid("get", tt.forbidden))
			}
			f := newClaimFacts(kubetest.Wrap(cs), "prod")
			pods := []*corev1.Pod{pod("api-1", waitsForClaim(tt.msg))}
			// Twice: the second judgement reads nothing again.
			var said map[string]string
			var unchecked []string
			for range 2 {
				said, unchecked = f.check(context.Background(), pods)
			}
			if got := said["data"]; got != tt.wantSaid {
				t.Errorf("said %q, want %q", got, tt.wantSaid)
			}
			if got := strings.Join(unchecked, "\n"); tt.wantUnchecked == "" && got != "" || !strings.Contains(got, tt.wantUnchecked) {
				t.Errorf("unchecked %q, want %q", got, tt.wantUnchecked)
			}
			if tt.wantUnchecked != "" && !strings.Contains(strings.Join(unchecked, ""), "deploy/rbac.yaml") {
				t.Errorf("unchecked %q does not say which rule to add", unchecked)
			}
			gets := 0
			for _, a := range cs.Actions() {
				if a.GetVerb() == "get" {
					gets++
				}
			}
			// A claim that does not exist may be created a moment later: read again then.
			want := tt.wantGets
			if len(tt.objects) == 0 {
				want *= 2
			}
			if gets != want {
				t.Errorf("%d gets over two judgements, want %d: %v", gets, want, cs.Actions())
			}
		})
	}
}

// TestUnknownStorageClassFailsAtOnce: with the API's word that the claim's StorageClass does not
// exist, the pod fails at the first judgement, on the path of a claim that does not exist; without
// it the same scheduler message waits the grace.
func TestUnknownStorageClassFailsAtOnce(t *testing.T) {
	t.Parallel()
	policy := Policy{CrashTolerance: 1, PendingGrace: 30 * time.Second, Soak: 10 * time.Second}
	said := map[string]string{"data": `PersistentVolumeClaim data asks for StorageClass fast-ssd: storageclass.storage.k8s.io "fast-ssd" not found`}
	tests := []struct {
		name        string
		msg         string
		claims      map[string]string
		now         time.Time
		wantVerdict report.Verdict
		wantMsg     string
	}{
		{name: "unknown class: failed at once", msg: unboundClaims, claims: said, now: t0.Add(time.Second),
			wantVerdict: report.VerdictFailed, wantMsg: `unschedulable (the StorageClass does not exist): ` + unboundClaims + `; PersistentVolumeClaim data asks for StorageClass fast-ssd`},
		{name: "missing claim: failed at once, as before", msg: `0/1 nodes are available: persistentvolumeclaim "data" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`,
			now: t0.Add(time.Second), wantVerdict: report.VerdictFailed, wantMsg: "(the PersistentVolumeClaim does not exist)"},
		{name: "nothing known of the claim: the grace", msg: unboundClaims, now: t0.Add(29 * time.Second)},
		{name: "nothing known of the claim: failed after the grace", msg: unboundClaims, now: t0.Add(30 * time.Second),
			wantVerdict: report.VerdictFailed, wantMsg: "unschedulable for more than 30s"},
		{name: "another pod's claim does not count", msg: unboundClaims, claims: map[string]string{"other": said["data"]}, now: t0.Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Snapshot{Object: deployment(1, 1, 0), Pods: []*corev1.Pod{pod("api-1", waitsForClaim(tt.msg))}, Claims: tt.claims}
			j := Evaluate(s, policy, tt.now)
			if j.Verdict != tt.wantVerdict {
				t.Fatalf("verdict %q (%s: %s), want %q", j.Verdict, j.Reason, j.Message, tt.wantVerdict)
			}
			if tt.wantVerdict == "" {
				if want := t0.Add(policy.PendingGrace); !j.RecheckAt.Equal(want) {
					t.Errorf("recheck at %s, want the grace's end %s", j.RecheckAt, want)
				}
				return
			}
			if j.Reason != "Unschedulable" || !strings.Contains(j.Message, tt.wantMsg) {
				t.Errorf("reason %q message %q, want Unschedulable saying %q", j.Reason, j.Message, tt.wantMsg)
			}
		})
	}
}

// TestClaimReadsAreGranted: every read the claim check makes is granted by deploy/rbac.yaml's
// read-only roles, so the documented RBAC gets the at-once verdict.
func TestClaimReadsAreGranted(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset(claim("data", "fast-ssd", corev1.ClaimPending))
	newClaimFacts(kubetest.Wrap(cs), "prod").check(context.Background(), []*corev1.Pod{pod("api-1", waitsForClaim(unboundClaims))})
	rules := readRules(t)
	if len(cs.Actions()) == 0 {
		t.Fatal("the check read nothing")
	}
	for _, a := range cs.Actions() {
		gr := a.GetResource().GroupResource()
		if !slices.ContainsFunc(rules, func(r rbacRule) bool {
			return slices.Contains(r.APIGroups, gr.Group) && slices.Contains(r.Resources, gr.Resource) && slices.Contains(r.Verbs, a.GetVerb())
		}) {
			t.Errorf("the claim check calls %s %s, which deploy/rbac.yaml's read-only roles do not grant", a.GetVerb(), gr)
		}
	}
}

type rbacRule struct{ APIGroups, Resources, Verbs []string }

// readRules are the rules of deploy/rbac.yaml's read-only roles (rollout-gate-read, -nodes).
func readRules(t *testing.T) []rbacRule {
	t.Helper()
	data, err := os.ReadFile("../../deploy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rules []rbacRule
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var role struct {
			Kind     string
			Metadata struct{ Name string }
			Rules    []rbacRule
		}
		if err := yaml.Unmarshal([]byte(doc), &role); err != nil {
			t.Fatal(err)
		}
		if role.Kind == "ClusterRole" && (role.Metadata.Name == "rollout-gate-read" || role.Metadata.Name == "rollout-gate-nodes") {
			rules = append(rules, role.Rules...)
		}
	}
	return rules
}

// TestLeanPodKeepsClaims: the pod cache keeps the volumes that name a claim, so the claim check
// has names to read; it drops every other volume.
func TestLeanPodKeepsClaims(t *testing.T) {
	t.Parallel()
	p := pod("api-1", waitsForClaim(unboundClaims))
	p.Spec.Volumes = append(p.Spec.Volumes,
		corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
			VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: claimSpecOf("fast-ssd")}}}},
		corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls"}}})
	got := podstateClaims(leanPod(p))
	if want := "data=data scratch=api-1-scratch"; got != want {
		t.Errorf("claims after lean %q, want %q", got, want)
	}
	if n := len(leanPod(p).Spec.Volumes); n != 2 {
		t.Errorf("lean keeps %d volumes, want the 2 that name a claim", n)
	}
}

func claimSpecOf(class string) corev1.PersistentVolumeClaimSpec {
	return corev1.PersistentVolumeClaimSpec{StorageClassName: &class}
}

func podstateClaims(p *corev1.Pod) string {
	var out []string
	for _, c := range podstate.Claims(p) {
		out = append(out, c.Volume+"="+c.Name)
	}
	return strings.Join(out, " ")
}

// TestWatchOfAClaimWithAnUnknownClass runs the whole watch: the pod the scheduler holds back for
// its claim fails at once when the claim's StorageClass does not exist (a grace of a minute
// would outlast the timeout), and, where the gate may not read StorageClasses, fails after the
// grace with the result saying what it could not check.
func TestWatchOfAClaimWithAnUnknownClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		grace     time.Duration
		forbidden bool
		wantMsg   string
		wantView  string
	}{
		{name: "the class does not exist", grace: time.Minute, wantMsg: "(the StorageClass does not exist)"},
		{name: "StorageClasses forbidden", grace: time.Second, forbidden: true, wantMsg: "unschedulable for more than 1s",
			wantView: "could not check StorageClass fast-ssd of PersistentVolumeClaim data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, rs, newPod, _ := rollout()
			newPod.UID = "pod-new"
			waitsForClaim(unboundClaims)(newPod)
			newPod.Status.Conditions[0].LastTransitionTime = metav1.Now()
			client := fake.NewClientset(d, rs, newPod, claim("data", "fast-ssd", corev1.ClaimPending))
			if tt.forbidden {
				client.PrependReactor("get", "storageclasses", forbid("get", "storageclasses"))
			}
			w := &Watcher{Client: kubetest.Wrap(client), Policy: Policy{CrashTolerance: 1, PendingGrace: tt.grace}, Timeout: 20 * time.Second}
			res, err := w.Watch(context.Background(), []target.Target{apiDeployment})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Verdict != report.VerdictFailed || !strings.Contains(res[0].Message, tt.wantMsg) {
				t.Fatalf("result %s %s %q, want failed saying %q", res[0].Verdict, res[0].Reason, res[0].Message, tt.wantMsg)
			}
			if view := strings.Join(res[0].View, "\n"); tt.wantView != "" && !strings.Contains(view, tt.wantView) || tt.wantView == "" && strings.Contains(view, "could not check") {
				t.Errorf("view %q, want it to say %q", view, tt.wantView)
			}
		})
	}
}
