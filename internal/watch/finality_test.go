package watch

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rollout-gate/rollout-gate/internal/report"

	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// The messages are the kubelet's, the scheduler's, the API server's and the cluster autoscaler's
// as they arrive in a waiting state, a PodScheduled condition or a ReplicaFailure condition.
func TestClassifyMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
		want finality
	}{
		// Final: only a change clears them.
		{"image tag not found", `rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.99.99": failed to resolve reference "docker.io/library/nginx:1.99.99": docker.io/library/nginx:1.99.99: not found`, final},
		{"manifest unknown", `failed to pull and unpack image "127.0.0.1:5000/api:v9": failed to resolve reference "127.0.0.1:5000/api:v9": 127.0.0.1:5000/api:v9: not found: manifest unknown: manifest unknown`, final},
		{"unauthorized", `failed to pull and unpack image "ghcr.io/acme/api:v2": failed to resolve reference "ghcr.io/acme/api:v2": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token: 401 Unauthorized`, final},
		{"denied", `failed to pull and unpack image "registry.example.com/api:v2": failed to resolve reference: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`, final},
		{"registry host does not resolve", `failed to pull and unpack image "registry.invalid/api:v2": failed to resolve reference "registry.invalid/api:v2": failed to do request: Head "https://registry.invalid/v2/api/manifests/v2": dial tcp: lookup registry.invalid on 10.200.0.1:53: no such host`, final},
		{"invalid reference", `Failed to apply default image tag "Registry/API:v2": couldn't parse image name "Registry/API:v2": invalid reference format: repository name must be lowercase`, final},
		{"LimitRange", `pods "api-7d4b9c-x2k9p" is forbidden: maximum memory usage per Container is 256Mi, but limit is 1Gi`, final},
		{"LimitRange ratio", `pods "api-7d4b9c-x2k9p" is forbidden: memory max limit to request ratio per Container is 2, but provided ratio is 4.000000`, final},
		{"PodSecurity", `pods "api-7d4b9c-x2k9p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`, final},
		{"admission webhook", `admission webhook "validate.kyverno.svc-fail" denied the request: resource Pod/production/api-7d4b9c-x2k9p was blocked`, final},
		{"missing PVC", `0/1 nodes are available: persistentvolumeclaim "claims-data" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`, final},
		{"unknown StorageClass", `storageclass.storage.k8s.io "fast-ssd" not found`, final},
		{"unknown StorageClass, as the watch learns it", `0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.; PersistentVolumeClaim data asks for StorageClass fast-ssd: storageclass.storage.k8s.io "fast-ssd" not found`, final},
		{"autoscaler will not add a node", `pod didn't trigger scale-up: 2 node(s) didn't match Pod's node affinity/selector, 1 max node group size reached`, final},

		// Transient: a retry, another rollout ending or a new node may clear them.
		{"registry timeout", `failed to pull and unpack image "registry.example.com/api:v2": failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://registry.example.com/v2/...": dial tcp 10.0.0.7:443: i/o timeout`, transient},
		{"DNS timeout is not a missing host", `failed to do request: Head "https://registry.example.com/v2/api/manifests/v2": dial tcp: lookup registry.example.com on 10.200.0.1:53: read udp 10.200.0.1:41234->10.200.0.1:53: i/o timeout`, transient},
		{"registry refused", `failed to do request: Head "https://127.0.0.1:5000/v2/api/manifests/v2": dial tcp 127.0.0.1:5000: connect: connection refused`, transient},
		{"registry 5xx", `failed to resolve reference "registry.example.com/api:v2": unexpected status from HEAD request to https://registry.example.com/v2/api/manifests/v2: 503 Service Unavailable`, transient},
		{"rate limit", `failed to pull and unpack image "docker.io/library/nginx:1.27": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:0a1b: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.`, transient},
		{"quota", `pods "api-7d4b9c-x2k9p" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1800m, limited: requests.cpu=2`, transient},
		{"autoscaler adding a node", `pod triggered scale-up: [{eks-workers-2c1 2->3 (max: 10)}]`, transient},
		{"Secret cache syncing", `failed to sync secret cache: timed out waiting for the condition`, transient},

		// Undecided: the rule's own default (the grace).
		{"insufficient cpu", `0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`, undecided},
		{"missing ServiceAccount may be applied next", `pods "api-7d4b9c-x2k9p" is forbidden: error looking up service account production/api: serviceaccount "api" not found`, undecided},
		{"unbound claim, v1.34's tail", `0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found`, undecided},
		{"unbound claim, nothing more known", `0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`, undecided},
		{"sandbox error", `failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name`, undecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, why := classifyMessage(tt.msg)
			if got != tt.want {
				t.Errorf("classifyMessage = %s (%s), want %s", got, why, tt.want)
			}
			if got != undecided && why == "" {
				t.Errorf("a decided message says no why")
			}
			if strings.Contains(tt.msg, "storageclass.storage.k8s.io") && why != "the StorageClass does not exist" {
				t.Errorf("why %q, want the StorageClass named, not the claim", why)
			}
		})
	}
}

// The cluster autoscaler's events on an unschedulable pod, shaped as the API server holds them:
// core/v1 events from its legacy recorder (source cluster-autoscaler, count and lastTimestamp
// when folded) and events.k8s.io/v1 ones (reportingController, eventTime, series).
func TestAutoscalerEventsDecideTheWait(t *testing.T) {
	t.Parallel()
	policy := Policy{CrashTolerance: 1, PendingGrace: 30 * time.Second, Soak: 10 * time.Second}
	const (
		insufficient = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
		triggered    = "pod triggered scale-up: [{eks-workers-2c1 2->3 (max: 10)}]"
		refused      = "pod didn't trigger scale-up: 1 max node group size reached, 2 node(s) didn't match Pod's node affinity/selector"
	)
	unschedulable := func(p *corev1.Pod) {
		p.UID = "uid-api-1"
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: insufficient, LastTransitionTime: metav1.NewTime(t0)}}
	}
	// legacy is a core/v1 event of the autoscaler's recorder, count times from first to last.
	legacy := func(uid types.UID, reason, msg string, first, last time.Time, count int32) *corev1.Event {
		return &corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-1", UID: uid},
			Type: corev1.EventTypeNormal, Reason: reason, Message: msg, Source: corev1.EventSource{Component: "cluster-autoscaler"},
			FirstTimestamp: metav1.NewTime(first), LastTimestamp: metav1.NewTime(last), Count: count}
	}
	// seriesEv is the events.k8s.io/v1 form: no timestamps but eventTime and, once repeated, a series.
	seriesEv := func(reason, msg string, at, lastSeen time.Time, count int32) *corev1.Event {
		e := &corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-1", UID: "uid-api-1"},
			Type: corev1.EventTypeNormal, Reason: reason, Message: msg, ReportingController: "cluster-autoscaler",
			EventTime: metav1.NewMicroTime(at)}
		if count > 1 {
			e.Series = &corev1.EventSeries{Count: count, LastObservedTime: metav1.NewMicroTime(lastSeen)}
		}
		return e
	}
	s5, s40 := t0.Add(5*time.Second), t0.Add(40*time.Second)
	tests := []struct {
		name        string
		events      []*corev1.Event
		now         time.Time
		wantVerdict report.Verdict
		wantMsg     string
		wantRecheck time.Time
		wantNote    string
	}{
		{name: "no autoscaler: the grace as usual", now: t0.Add(30 * time.Second),
			wantVerdict: report.VerdictFailed, wantMsg: "for more than 30s"},
		{name: "a scale-up under way waits past the grace",
			events: []*corev1.Event{legacy("uid-api-1", podstate.EventTriggeredScaleUp, triggered, s5, s5, 1)},
			now:    t0.Add(2 * time.Minute), wantRecheck: s5.Add(scaleUpWait), wantNote: "the cluster autoscaler is adding a node"},
		{name: "a scale-up that brings no node in time fails",
			events: []*corev1.Event{legacy("uid-api-1", podstate.EventTriggeredScaleUp, triggered, s5, s5, 1)},
			now:    s5.Add(scaleUpWait), wantVerdict: report.VerdictFailed, wantMsg: "for more than 5m5s"},
		{name: "a refusal fails at once, within the grace",
			events: []*corev1.Event{legacy("uid-api-1", podstate.EventNotTriggerScaleUp, refused, s5, s5, 1)},
			now:    s5, wantVerdict: report.VerdictFailed, wantMsg: "will not add a node for it (" + refused + ")"},
		{name: "a scale-up after a refusal waits",
			events: []*corev1.Event{legacy("uid-api-1", podstate.EventNotTriggerScaleUp, refused, s5, s5, 1),
				legacy("uid-api-1", podstate.EventTriggeredScaleUp, triggered, s40, s40, 1)},
			now: t0.Add(45 * time.Second), wantRecheck: s40.Add(scaleUpWait), wantNote: "adding a node"},
		{name: "a refusal repeated (folded) after the scale-up fails",
			events: []*corev1.Event{legacy("uid-api-1", podstate.EventTriggeredScaleUp, triggered, s5, s5, 1),
				legacy("uid-api-1", podstate.EventNotTriggerScaleUp, refused, s5.Add(-time.Second), s40, 4)},
			now: s40, wantVerdict: report.VerdictFailed, wantMsg: "will not add a node"},
		{name: "events.k8s.io: a refusal series observed after the scale-up fails",
			events: []*corev1.Event{seriesEv(podstate.EventTriggeredScaleUp, triggered, s5, s5, 1),
				seriesEv(podstate.EventNotTriggerScaleUp, refused, t0, s40, 3)},
			now: s40, wantVerdict: report.VerdictFailed, wantMsg: "will not add a node"},
		{name: "events.k8s.io: a scale-up waits",
			events: []*corev1.Event{seriesEv(podstate.EventTriggeredScaleUp, triggered, s40, s40, 1)},
			now:    t0.Add(45 * time.Second), wantRecheck: s40.Add(scaleUpWait), wantNote: "adding a node"},
		{name: "another pod's refusal is not this pod's",
			events: []*corev1.Event{legacy("uid-api-2", podstate.EventNotTriggerScaleUp, refused, s5, s5, 1)},
			now:    t0.Add(20 * time.Second), wantRecheck: t0.Add(30 * time.Second), wantNote: "Pending (Unschedulable)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Snapshot{Object: deployment(1, 1, 0), Pods: []*corev1.Pod{pod("api-1", unschedulable)}, Events: tt.events}
			j := Evaluate(s, policy, tt.now)
			if j.Verdict != tt.wantVerdict {
				t.Fatalf("verdict %q (%s: %s), want %q", j.Verdict, j.Reason, j.Message, tt.wantVerdict)
			}
			if tt.wantVerdict != "" {
				if j.Reason != "Unschedulable" || !strings.Contains(j.Message, tt.wantMsg) {
					t.Errorf("reason %q message %q, want Unschedulable saying %q", j.Reason, j.Message, tt.wantMsg)
				}
				return
			}
			if !j.RecheckAt.Equal(tt.wantRecheck) {
				t.Errorf("recheck at %s, want %s", j.RecheckAt, tt.wantRecheck)
			}
			if !strings.Contains(j.Progress, tt.wantNote) {
				t.Errorf("progress %q, want it to say %q", j.Progress, tt.wantNote)
			}
		})
	}
}
