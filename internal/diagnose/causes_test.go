package diagnose

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

func TestPullProblem(t *testing.T) {
	t.Parallel()
	tests := []struct{ reason, msg, kind string }{
		{"ErrImagePull", `failed to pull and unpack image "docker.io/library/nginx:1.99": failed to resolve reference "docker.io/library/nginx:1.99": docker.io/library/nginx:1.99: not found`, "not found"},
		{"ErrImagePull", `failed to resolve reference "ghcr.io/acme/api:v2": failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized`, "unauthorized"},
		{"ErrImagePull", `pull access denied for acme/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`, "not found"},
		{"ErrImagePull", `dial tcp: lookup registry.internal on 10.96.0.10:53: no such host`, "registry unreachable"},
		{"ErrImagePull", `429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit`, "rate limited"},
		{"ErrImageNeverPull", `Container image "api:dev" is not present with pull policy of Never`, "not on the node"},
		{"InvalidImageName", `Failed to apply default image tag "Registry/API:v1": couldn't parse image name`, "invalid name"},
		{"ImagePullBackOff", `Back-off pulling image "x"`, ""},
	}
	for _, tc := range tests {
		if kind, _ := pullProblem(tc.reason, tc.msg); kind != tc.kind {
			t.Errorf("pullProblem(%s, %q) = %q, want %q", tc.reason, tc.msg, kind, tc.kind)
		}
	}
	for img, want := range map[string]string{"nginx:1.27": "docker.io", "acme/api:v1": "docker.io", "ghcr.io/acme/api:v1": "ghcr.io",
		"localhost/api": "localhost", "registry.internal:5000/api": "registry.internal:5000"} {
		if got := registryOf(img); got != want {
			t.Errorf("registryOf(%q) = %q, want %q", img, got, want)
		}
	}
}

func TestCreateDeniedKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg     string
		summary string
		fix     string
	}{
		{`Error creating: admission webhook "validate.kyverno.svc-fail" denied the request: resource Pod/production/api-x was blocked due to the following policies require-labels`,
			`admission webhook validate.kyverno.svc-fail denies them`, "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations"},
		{`Error creating: pods "api-x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "api" must set securityContext.allowPrivilegeEscalation=false)`,
			`they violate PodSecurity restricted:latest`, "kubectl get namespace production --show-labels"},
		{`Error creating: pods "api-x" is forbidden: error looking up service account production/api-sa: serviceaccount "api-sa" not found`,
			`service account api-sa does not exist`, "kubectl create serviceaccount api-sa -n production"},
		{`Error creating: pods "api-x" is forbidden: failed quota: compute: must specify limits.cpu for: api; limits.memory for: api`,
			`ResourceQuota compute requires requests and limits`, ""},
		{`Error creating: pods "api-x" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi`,
			`a LimitRange rejects their resources`, "kubectl describe limitrange -n production"},
	}
	for _, tc := range tests {
		ev := &evidence{Kind: "Deployment", Name: "api", Namespace: "production",
			Events: []corev1.Event{{InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", Name: "api-7d4b9c"}, Type: "Warning", Reason: "FailedCreate", Message: tc.msg, Count: 3}}}
		fs := classify(ev)
		if len(fs) != 1 || fs[0].Cause != report.CauseCreateDenied || !strings.Contains(fs[0].Summary, tc.summary) {
			t.Errorf("%q:\n%s", tc.msg, dump(fs))
			continue
		}
		if tc.fix != "" && !contains(fs[0].Fix, tc.fix) {
			t.Errorf("fix lacks %q: %v", tc.fix, fs[0].Fix)
		}
	}
}

func TestOOMWithoutLimit(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "oom-killed")
	fx.pods = fx.pods[:1]
	fx.pods[0].Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	d, _, _ := fx.diagnoser(nil)
	in := fx.input("CrashLoopBackOff")
	in.Workload = nil // the pod's own spec is all there is
	ev, err := d.gather(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	fs := classify(ev)
	if fs[0].Cause != report.CauseOOMKilled || !strings.Contains(fs[0].Summary, "no memory limit") ||
		!containsSub(fs[0].Fix, "--requests=memory='<expected use>' --limits=memory='<limit>'") {
		t.Errorf("got %s", dump(fs))
	}
}

func TestDiagnoseDaemonSet(t *testing.T) {
	t.Parallel()
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "production", UID: "uid-agent"},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}}},
	}
	v1, v2 := baseTemplate(), baseTemplate()
	v2.Spec.Containers[0].Image = "registry.example.com/api:v2"
	ds.Spec.Template = *v2
	cr1, cr2 := crAt(t, "agent-111", 1, "agent", "111", v1), crAt(t, "agent-222", 2, "agent", "222", v2)
	for _, cr := range []*appsv1.ControllerRevision{&cr1, &cr2} {
		cr.Namespace = "production"
		cr.Labels["app"] = "agent"
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-x7k2p", Namespace: "production", Labels: map[string]string{"app": "agent", appsv1.ControllerRevisionHashLabelKey: "222"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "DaemonSet", Name: "agent", UID: "uid-agent", Controller: new(true)}}},
		Spec: v2.Spec,
		Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "api",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "registry.example.com/api:v2: not found"}}}}},
	}
	failed := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: "production"}, Type: "Warning", Reason: "FailedCreate",
		InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", Name: "agent"}, Message: "an old event", Count: 1,
		LastTimestamp: metav1.NewTime(fixtureNow.Add(-time.Hour))}
	d := &Diagnoser{Client: kubetest.Client(ds, &cr1, &cr2, pod, failed), Logs: &recordedLogs{}, LogLines: 50, Now: func() time.Time { return fixtureNow }}
	res, err := d.Diagnose(context.Background(), Input{Workload: ds, Pods: []corev1.Pod{*pod}, Since: fixtureNow.Add(-10 * time.Minute), Reason: "ErrImagePull"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != "2" || len(res.Changes) != 1 || res.Changes[0].Path != "containers[api].image" {
		t.Errorf("revision %q changes %+v", res.Revision, res.Changes)
	}
	if len(res.Findings) != 1 || res.Findings[0].Cause != report.CauseImagePull ||
		res.Findings[0].Change != "image of container api changed from registry.example.com/api:v1 to registry.example.com/api:v2 in this rollout" ||
		!contains(res.Findings[0].Fix, "kubectl set image daemonset/agent api=registry.example.com/api:v1 -n production") {
		t.Errorf("findings: %s", dump(res.Findings))
	}
}

// A replica that started seconds ago and is not ready yet is not a finding next to a real one.
func TestFreshReplicaIsNotAFinding(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "readiness-probe")
	d, _, _ := fx.diagnoser(nil)
	for _, tc := range []struct {
		started time.Time
		events  bool
		want    int
	}{
		{fixtureNow.Add(-10 * time.Second), true, 0}, // too early to judge, even with failures
		{fixtureNow.Add(-time.Minute), false, 0},     // no failure on record, not long enough
		{fixtureNow.Add(-time.Minute), true, 1},      // failing for a minute
		{fixtureNow.Add(-5 * time.Minute), false, 1}, // running, never ready, for minutes
	} {
		in := fx.input("ReadinessTimeout")
		in.Pods = []corev1.Pod{*fx.pods[0].DeepCopy()}
		in.Pods[0].Status.ContainerStatuses[0].State.Running.StartedAt = metav1.NewTime(tc.started)
		ev, err := d.gather(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if !tc.events {
			ev.Events = nil
		}
		var got int
		for _, f := range classify(ev) {
			if f.Container == "api" {
				got++
			}
		}
		if got != tc.want {
			t.Errorf("started %s ago, events %t: %d findings for the container, want %d", fixtureNow.Sub(tc.started), tc.events, got, tc.want)
		}
	}
}

// The runtime could not start the process: the termination message says why, not the log.
func TestStartErrorInLastState(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "unknown")
	lt := fx.pods[0].Status.ContainerStatuses[0].LastTerminationState.Terminated
	lt.ExitCode, lt.Reason = 128, "StartError"
	lt.Message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/serve": stat /app/serve: no such file or directory: unknown`
	d, _, _ := fx.diagnoser(nil)
	ev, err := d.gather(context.Background(), fx.input("CrashLoopBackOff"))
	if err != nil {
		t.Fatal(err)
	}
	fs := classify(ev)
	if fs[0].Cause != report.CauseAppCrash || !strings.Contains(fs[0].Summary, "the runtime fails to run its entrypoint (StartError)") ||
		!strings.Contains(fs[0].Detail, `exec: "/app/serve": stat /app/serve: no such file or directory`) {
		t.Errorf("got %s", dump(fs))
	}
}
