package podstate

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWaitingOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason, message string
		want            Outcome
		family          Family
	}{
		{ReasonContainerCreating, "", Waits, FamilyCreating},
		{ReasonCrashLoopBackOff, "back-off 10s restarting failed container", Waits, FamilyCrash},
		{"SomeNewReason", "", Waits, FamilyNone},
		{ReasonInvalidImageName, "", FailsNow, FamilyImage},
		{ReasonErrImagePull, "", FailsAfterGrace, FamilyImage},
		{ReasonRegistryUnavailable, "", FailsAfterGrace, FamilyImage},
		{ReasonCreateContainerConfigError, `secret "db" not found`, FailsNow, FamilyConfig},
		// The kubelet's cache race: the Secret may well exist.
		{ReasonCreateContainerConfigError, `failed to sync secret cache: timed out waiting for the condition`, FailsAfterGrace, FamilyConfig},
		{ReasonRunContainerError, "", FailsNow, FamilyStart},
		{ReasonCreateContainerError, "", FailsAfterGrace, FamilyStart},
		{ReasonPostStartHookError, "", FailsNow, FamilyStart},
		{ReasonCreatePodSandboxError, "", FailsAfterGrace, FamilySandbox},
	}
	for _, tt := range tests {
		w := &corev1.ContainerStateWaiting{Reason: tt.reason, Message: tt.message}
		if got := WaitingOutcome(w); got != tt.want {
			t.Errorf("%s %q: outcome %d, want %d", tt.reason, tt.message, got, tt.want)
		}
		if got := Waiting(tt.reason).Family; got != tt.family {
			t.Errorf("%s: family %d, want %d", tt.reason, got, tt.family)
		}
	}
	if WaitingOutcome(nil) != Waits {
		t.Error("a container that is not waiting waits")
	}
}

func TestStartFailedAndPull(t *testing.T) {
	t.Parallel()
	for reason, want := range map[string]bool{
		ReasonStartError: true, ReasonContainerCannotRun: true, ReasonRunInitContainerError: true, ReasonVerifyNonRootError: true,
		ReasonOOMKilled: false, ReasonError: false, ReasonErrImagePull: false, ReasonCreatePodSandboxError: false,
	} {
		if got := StartFailed(reason); got != want {
			t.Errorf("StartFailed(%s) = %v, want %v", reason, got, want)
		}
	}
	for reason, want := range map[string]bool{ReasonErrImagePull: true, ReasonImagePullBackOff: true, ReasonRegistryUnavailable: false, ReasonInvalidImageName: false} {
		if got := IsPullFailure(reason); got != want {
			t.Errorf("IsPullFailure(%s) = %v, want %v", reason, got, want)
		}
	}
}

func term(code int32, reason string) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}
}

func TestCrashAccounting(t *testing.T) {
	t.Parallel()
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	backOff := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonCrashLoopBackOff}}
	tests := []struct {
		name         string
		cs           corev1.ContainerStatus
		exitZeroEnds bool
		crashes      int
		exited       bool
	}{
		{"running, never restarted", corev1.ContainerStatus{State: running}, false, 0, false},
		{"first exit, not counted in restartCount yet", corev1.ContainerStatus{State: corev1.ContainerState{Terminated: term(1, ReasonError)}}, false, 1, true},
		{"in back-off after the first exit", corev1.ContainerStatus{State: backOff, LastTerminationState: corev1.ContainerState{Terminated: term(1, ReasonError)}}, false, 1, true},
		{"running again after two restarts", corev1.ContainerStatus{State: running, RestartCount: 2, LastTerminationState: corev1.ContainerState{Terminated: term(1, ReasonError)}}, false, 2, true},
		{"restarts whose last state is gone: counted, nothing to explain", corev1.ContainerStatus{State: running, RestartCount: 2}, false, 2, false},
		{"back-off with no last state on record", corev1.ContainerStatus{State: backOff, RestartCount: 3}, false, 3, true},
		{"RunContainerError after an exit", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonRunContainerError}},
			LastTerminationState: corev1.ContainerState{Terminated: term(128, ReasonStartError)}}, false, 1, false},
		{"an init container's exit 0 is its end", corev1.ContainerStatus{State: corev1.ContainerState{Terminated: term(0, ReasonCompleted)}}, true, 0, false},
		{"an app container's exit 0 is a crash", corev1.ContainerStatus{State: corev1.ContainerState{Terminated: term(0, ReasonCompleted)}}, false, 1, true},
		{"second exit", corev1.ContainerStatus{RestartCount: 1, State: corev1.ContainerState{Terminated: term(1, ReasonError)},
			LastTerminationState: corev1.ContainerState{Terminated: term(1, ReasonError)}}, false, 2, true},
		{"a liveness kill that exited 0 is a restart", corev1.ContainerStatus{RestartCount: 1, State: running,
			LastTerminationState: corev1.ContainerState{Terminated: term(0, ReasonCompleted)}}, false, 1, true},
		{"an init container that failed", corev1.ContainerStatus{State: corev1.ContainerState{Terminated: term(1, ReasonError)}}, true, 1, true},
		{"a Job's container done after one crash", corev1.ContainerStatus{RestartCount: 1, State: corev1.ContainerState{Terminated: term(0, ReasonCompleted)},
			LastTerminationState: corev1.ContainerState{Terminated: term(1, ReasonError)}}, true, 1, true},
		{"creating after a restart", corev1.ContainerStatus{RestartCount: 2, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonContainerCreating}},
			LastTerminationState: corev1.ContainerState{Terminated: term(1, ReasonError)}}, false, 2, true},
	}
	for _, tt := range tests {
		if got := Crashes(tt.cs, tt.exitZeroEnds); got != tt.crashes {
			t.Errorf("%s: Crashes = %d, want %d", tt.name, got, tt.crashes)
		}
		if got := Exited(tt.cs, tt.exitZeroEnds); got != tt.exited {
			t.Errorf("%s: Exited = %v, want %v", tt.name, got, tt.exited)
		}
	}
}

func TestOOMThenSIGKILLIsOneKill(t *testing.T) {
	t.Parallel()
	oom := term(137, ReasonOOMKilled)
	tests := []struct {
		name     string
		cs       corev1.ContainerStatus
		oom      bool
		again    bool
		lastCode int32
	}{
		{"OOMKilled now", corev1.ContainerStatus{State: corev1.ContainerState{Terminated: oom}}, true, false, 137},
		{"OOMKilled last time, running now", corev1.ContainerStatus{RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: oom}}, true, false, 137},
		{"a plain 137 right after an OOM kill is the same kill", corev1.ContainerStatus{RestartCount: 1, State: corev1.ContainerState{Terminated: term(137, ReasonError)},
			LastTerminationState: corev1.ContainerState{Terminated: oom}}, true, true, 137},
		{"an exit 1 after an OOM kill is not", corev1.ContainerStatus{RestartCount: 1, State: corev1.ContainerState{Terminated: term(1, ReasonError)},
			LastTerminationState: corev1.ContainerState{Terminated: oom}}, false, false, 1},
		{"a 137 with no OOM kill before it is a kill from outside", corev1.ContainerStatus{RestartCount: 1, State: corev1.ContainerState{Terminated: term(137, ReasonError)},
			LastTerminationState: corev1.ContainerState{Terminated: term(1, ReasonError)}}, false, false, 137},
	}
	for _, tt := range tests {
		if got := OOMKilled(tt.cs); got != tt.oom {
			t.Errorf("%s: OOMKilled = %v, want %v", tt.name, got, tt.oom)
		}
		prev, again := SIGKILLAfterOOM(tt.cs)
		if again != tt.again || again && prev != oom {
			t.Errorf("%s: SIGKILLAfterOOM = %v, %v; want %v with the OOM kill", tt.name, prev, again, tt.again)
		}
		if got := LastTermination(tt.cs); got == nil || got.ExitCode != tt.lastCode {
			t.Errorf("%s: LastTermination = %+v, want exit %d", tt.name, got, tt.lastCode)
		}
	}
}

func TestConditions(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(t0)}}
	if Ready(pod) || !ReadySince(pod).IsZero() || !ScheduledAt(pod).Equal(t0) || Condition(pod, corev1.PodReady) != nil {
		t.Fatalf("a pod without conditions: not ready, scheduled at its creation")
	}
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(2 * time.Second))},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(9 * time.Second))},
	}
	if !Ready(pod) || !ReadySince(pod).Equal(t0.Add(9*time.Second)) || !ScheduledAt(pod).Equal(t0.Add(2*time.Second)) {
		t.Errorf("ready since +9s, scheduled at +2s: got %v %v %v", Ready(pod), ReadySince(pod), ScheduledAt(pod))
	}
	pod.Status.Conditions[1].Status = corev1.ConditionFalse
	if Ready(pod) || !ReadySince(pod).IsZero() {
		t.Errorf("a NotReady pod is not ready")
	}
}

func TestLongRunningHasSidecars(t *testing.T) {
	t.Parallel()
	always := corev1.ContainerRestartPolicyAlways
	pod := &corev1.Pod{
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "migrate"}, {Name: "proxy", RestartPolicy: &always}},
			Containers:     []corev1.Container{{Name: "api"}},
		},
		Status: corev1.PodStatus{
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate"}, {Name: "proxy"}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "api"}},
		},
	}
	var names []string
	for _, cs := range LongRunning(pod) {
		names = append(names, cs.Name)
	}
	if len(names) != 2 || names[0] != "api" || names[1] != "proxy" {
		t.Errorf("LongRunning = %v, want [api proxy]", names)
	}
	if Spec(pod, "migrate") == nil || Spec(pod, "nope") != nil || IsSidecar(Spec(pod, "migrate")) || !IsSidecar(Spec(pod, "proxy")) {
		t.Error("Spec finds init containers; only the one with restartPolicy Always is a sidecar")
	}
}

func TestFieldPathContainer(t *testing.T) {
	t.Parallel()
	for fp, want := range map[string]string{
		"spec.containers{api}":           "api",
		"spec.initContainers{migrate}":   "migrate",
		"spec.ephemeralContainers{dbg}":  "dbg",
		"":                               "",
		"spec.containers{api":            "",
		"spec.volumes{data}":             "",
		"metadata.annotations{x}":        "",
		"spec.containers{api}.something": "api",
	} {
		if got := FieldPathContainer(fp); got != want {
			t.Errorf("FieldPathContainer(%q) = %q, want %q", fp, got, want)
		}
	}
}

func TestParseProbeEvent(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	ev := func(reason, msg string) *corev1.Event {
		return &corev1.Event{Reason: reason, Message: msg, Count: 4, FirstTimestamp: metav1.NewTime(t0), LastTimestamp: metav1.NewTime(t0.Add(30 * time.Second)),
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", FieldPath: "spec.containers{api}"}}
	}
	tests := []struct {
		name string
		e    *corev1.Event
		ok   bool
		want ProbeEvent
	}{
		{"a failure", ev(EventUnhealthy, "Liveness probe failed: HTTP probe failed with statuscode: 404"), true,
			ProbeEvent{Kind: Liveness, Container: "api", Message: "Liveness probe failed: HTTP probe failed with statuscode: 404",
				Answer: "HTTP probe failed with statuscode: 404", First: t0, Last: t0.Add(30 * time.Second), Count: 4}},
		{"an error, folded by the aggregator", ev(EventUnhealthy, "(combined from similar events): Startup probe errored and resulted in unknown state: exec: not found"), true,
			ProbeEvent{Kind: Startup, Container: "api", Message: "Startup probe errored and resulted in unknown state: exec: not found",
				Answer: "exec: not found", Errored: true, First: t0, Last: t0.Add(30 * time.Second), Count: 4}},
		{"another reason", ev(EventKilling, "Liveness probe failed: x"), false, ProbeEvent{}},
		{"not a probe", ev(EventUnhealthy, "Sidecar probe failed: x"), false, ProbeEvent{}},
	}
	for _, tt := range tests {
		got, ok := ParseProbeEvent(tt.e)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	for msg, want := range map[string]ProbeKind{
		"Container api failed liveness probe, will be restarted": Liveness,
		"Container api failed startup probe, will be restarted":  Startup,
		"Stopping container api":                                 "",
	} {
		got, ok := ProbeKill(&corev1.Event{Reason: EventKilling, Message: msg})
		if got != want || ok != (want != "") {
			t.Errorf("ProbeKill(%q) = %q %v, want %q", msg, got, ok, want)
		}
	}
	if _, ok := ProbeKill(&corev1.Event{Reason: EventUnhealthy, Message: "Container api failed liveness probe"}); ok {
		t.Error("only a Killing event is a kill")
	}
}

func TestProbeDefaultsAndKillWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		p         *corev1.Probe
		window    time.Duration
		fromStart time.Duration
		soonest   time.Duration
		explain   string
	}{
		{"nil: the API's defaults", nil, 31 * time.Second, 31 * time.Second, 20 * time.Second,
			"initialDelaySeconds 0 + failureThreshold 3 × periodSeconds 10 + timeoutSeconds 1 = 31s"},
		{"zero fields: the API's defaults", &corev1.Probe{}, 31 * time.Second, 31 * time.Second, 20 * time.Second,
			"initialDelaySeconds 0 + failureThreshold 3 × periodSeconds 10 + timeoutSeconds 1 = 31s"},
		// The e2e slow probe: first probe within 3s of the delay, two more 3s apart, the last
		// one's timeout.
		{"period 3, threshold 3, timeout 1, delay 5", &corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 3, TimeoutSeconds: 1, FailureThreshold: 3},
			10 * time.Second, 15 * time.Second, 11 * time.Second, "initialDelaySeconds 5 + failureThreshold 3 × periodSeconds 3 + timeoutSeconds 1 = 15s"},
		{"threshold 1", &corev1.Probe{PeriodSeconds: 5, TimeoutSeconds: 2, FailureThreshold: 1}, 7 * time.Second, 7 * time.Second, 0,
			"initialDelaySeconds 0 + failureThreshold 1 × periodSeconds 5 + timeoutSeconds 2 = 7s"},
		// A probe slower than its period: the ticker keeps one tick, so probes follow each other
		// every timeout.
		{"timeout longer than the period", &corev1.Probe{PeriodSeconds: 1, TimeoutSeconds: 5, FailureThreshold: 3}, 16 * time.Second, 16 * time.Second, 2 * time.Second,
			"initialDelaySeconds 0 + failureThreshold 3 × timeoutSeconds 5 + periodSeconds 1 = 16s"},
	}
	for _, tt := range tests {
		s := WithDefaults(tt.p)
		if got := KillWindow(tt.p); got != tt.window || s.KillWindow() != tt.window {
			t.Errorf("%s: KillWindow = %s, want %s", tt.name, got, tt.window)
		}
		if got := s.FromStart(); got != tt.fromStart {
			t.Errorf("%s: FromStart = %s, want %s", tt.name, got, tt.fromStart)
		}
		if got := s.SoonestKill(); got != tt.soonest {
			t.Errorf("%s: SoonestKill = %s, want %s", tt.name, got, tt.soonest)
		}
		if got := s.Explain(); got != tt.explain {
			t.Errorf("%s: Explain = %q, want %q", tt.name, got, tt.explain)
		}
		if got, want := s.ExplainWindow(), tt.explain[strings.Index(tt.explain, "failureThreshold"):strings.LastIndex(tt.explain, "= ")]+"= "+tt.window.String(); got != want {
			t.Errorf("%s: ExplainWindow = %q, want %q", tt.name, got, want)
		}
	}
	s := WithDefaults(&corev1.Probe{InitialDelaySeconds: 2, PeriodSeconds: 4, TimeoutSeconds: 3, FailureThreshold: 6, SuccessThreshold: 2})
	if want := (Probe{InitialDelay: 2 * time.Second, Period: 4 * time.Second, Timeout: 3 * time.Second, FailureThreshold: 6, SuccessThreshold: 2}); s != want {
		t.Errorf("WithDefaults keeps set fields: %+v, want %+v", s, want)
	}
}

func TestProbeOfAndVerdicts(t *testing.T) {
	t.Parallel()
	l, r, s := &corev1.Probe{PeriodSeconds: 1}, &corev1.Probe{PeriodSeconds: 2}, &corev1.Probe{PeriodSeconds: 3}
	c := &corev1.Container{LivenessProbe: l, ReadinessProbe: r, StartupProbe: s}
	if ProbeOf(c, Liveness) != l || ProbeOf(c, Readiness) != r || ProbeOf(c, Startup) != s || ProbeOf(nil, Liveness) != nil {
		t.Error("ProbeOf picks the kind's probe")
	}
	if Liveness.Lower() != "liveness" || Startup.Lower() != "startup" || Readiness.Lower() != "readiness" {
		t.Error("Lower is the spec's word")
	}
	if ProbeCannotWorkVerdict(Liveness, true) != "LivenessProbeErrored" || ProbeCannotWorkVerdict(Startup, false) != "StartupProbeFailing" {
		t.Error("the watch's reasons for a probe that cannot work")
	}
}
