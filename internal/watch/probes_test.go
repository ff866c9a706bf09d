package watch

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

func probe(initial, period, timeout, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
		InitialDelaySeconds: initial, PeriodSeconds: period, TimeoutSeconds: timeout, FailureThreshold: failures, SuccessThreshold: 1,
	}
}

// withSpec gives the pod one container "api" with these probes (nil: none).
func withSpec(liveness, readiness, startup *corev1.Probe) podOpt {
	return func(p *corev1.Pod) {
		p.UID = "pod-uid-" + "1"
		p.Spec.NodeName = "node-1"
		p.Spec.Containers = []corev1.Container{{Name: "api", LivenessProbe: liveness, ReadinessProbe: readiness, StartupProbe: startup}}
	}
}

// probedPod is the set-up of the probe-window tests: pod api-1 whose one container api has these
// probes (nil: none), ready at ready unless it is zero, and the status of that container, started
// and running since t0 after restarts restarts.
func probedPod(liveness, startup *corev1.Probe, ready time.Time, restarts int32) (*corev1.Pod, corev1.ContainerStatus) {
	opts := []podOpt{withSpec(liveness, nil, startup)}
	if !ready.IsZero() {
		opts = append(opts, readyAt(ready))
	}
	started := true
	return pod("api-1", opts...), corev1.ContainerStatus{Name: "api", State: runningSince(t0), Started: &started, Ready: true, RestartCount: restarts}
}

func runningSince(at time.Time) corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at)}}
}

func readyAt(at time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)})
	}
}

func notReadyAt(at time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(at)})
	}
}

// unhealthy is a kubelet Unhealthy event for container api of pod uid, last seen at.
func unhealthy(kind, detail string, at time.Time) *corev1.Event {
	return &corev1.Event{
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", UID: "pod-uid-1", FieldPath: "spec.containers{api}"},
		Reason:         "Unhealthy", Type: corev1.EventTypeWarning, Message: kind + " probe failed: " + detail,
		LastTimestamp: metav1.NewTime(at),
	}
}

func TestKillWindowEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		liveness    *corev1.Probe
		startup     *corev1.Probe
		startedSeen time.Time
		ready       time.Time
		want        time.Duration // after t0; 0 means no window
	}{
		// end = from + window + margin: window = failureThreshold*period + timeout (the kubelet's,
		// podstate.KillWindow), margin = window/2 + 10s (loadMargin).
		{name: "no liveness probe", want: 0},
		{name: "fast test probe", liveness: probe(3, 1, 1, 2), want: 3*time.Second + 3*time.Second + 11500*time.Millisecond},
		{name: "API defaults", liveness: probe(0, 10, 1, 3), want: 31*time.Second + 25500*time.Millisecond},
		{name: "zero fields take the API defaults", liveness: &corev1.Probe{}, want: 31*time.Second + 25500*time.Millisecond},
		{name: "initial delay within the startup probe counts from the start", liveness: probe(30, 1, 1, 2), startup: probe(0, 1, 1, 30),
			startedSeen: t0.Add(10 * time.Second), want: 30*time.Second + 3*time.Second + 11500*time.Millisecond},
		{name: "after the startup probe passed", liveness: probe(0, 1, 1, 2), startup: probe(0, 1, 1, 30),
			startedSeen: t0.Add(20 * time.Second), want: 20*time.Second + 3*time.Second + 11500*time.Millisecond},
		{name: "startup passed, not recorded: the Ready turn stands in", liveness: probe(0, 1, 1, 2), startup: probe(0, 1, 1, 30),
			ready: t0.Add(25 * time.Second), want: 25*time.Second + 3*time.Second + 11500*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, cs := probedPod(tt.liveness, tt.startup, tt.ready, 0)
			got := killWindowEnd(p, cs, tt.startedSeen, t0.Add(time.Hour))
			if tt.want == 0 {
				if !got.IsZero() {
					t.Fatalf("killWindowEnd = %s, want none", got)
				}
				return
			}
			if want := t0.Add(tt.want); !got.Equal(want) {
				t.Errorf("killWindowEnd = t0+%s, want t0+%s", got.Sub(t0), tt.want)
			}
		})
	}
}

func TestReadinessStall(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	tests := []struct {
		name        string
		readiness   *corev1.Probe
		startup     *corev1.Probe
		started     *bool
		startedSeen time.Time
		notReady    time.Time
		events      []*corev1.Event
		grace       time.Duration
		want        time.Duration // deadline after t0
		wantOK      bool
	}{
		// w = initialDelay + failureThreshold*period + timeout (podstate.Probe.FromStart);
		// deadline = anchor + w + w/2 + 10s + grace.
		{name: "failing test probe", readiness: probe(0, 1, 1, 2), events: []*corev1.Event{unhealthy("Readiness", "HTTP probe failed with statuscode: 503", t0.Add(5*time.Second))},
			grace: 15 * time.Second, want: 3*time.Second + 11500*time.Millisecond + 15*time.Second, wantOK: true},
		{name: "an honest initial delay widens the window", readiness: probe(30, 10, 1, 3), events: []*corev1.Event{unhealthy("Readiness", "connection refused", t0.Add(40*time.Second))},
			grace: 15 * time.Second, want: 61*time.Second + 40500*time.Millisecond + 15*time.Second, wantOK: true},
		{name: "no failure reported yet: a busy kubelet is no verdict", readiness: probe(0, 1, 1, 2), grace: 15 * time.Second},
		{name: "a failure before the last progress does not count", readiness: probe(0, 1, 1, 2), notReady: t0.Add(60 * time.Second),
			events: []*corev1.Event{unhealthy("Readiness", "503", t0.Add(30*time.Second))}, grace: 15 * time.Second},
		{name: "NotReady after Ready counts from the turn", readiness: probe(0, 1, 1, 2), notReady: t0.Add(60 * time.Second),
			events: []*corev1.Event{unhealthy("Readiness", "503", t0.Add(61*time.Second))}, grace: 15 * time.Second,
			want: 60*time.Second + 14500*time.Millisecond + 15*time.Second, wantOK: true},
		{name: "the startup probe is still in charge", readiness: probe(0, 1, 1, 2), startup: probe(0, 1, 1, 60), started: &no,
			events: []*corev1.Event{unhealthy("Readiness", "503", t0.Add(5*time.Second))}, grace: 15 * time.Second},
		{name: "after the startup probe passed", readiness: probe(0, 1, 1, 2), startup: probe(0, 1, 1, 60), started: &yes,
			startedSeen: t0.Add(40 * time.Second), events: []*corev1.Event{unhealthy("Readiness", "503", t0.Add(41*time.Second))},
			grace: 15 * time.Second, want: 40*time.Second + 14500*time.Millisecond + 15*time.Second, wantOK: true},
		{name: "liveness failures are not readiness failures", readiness: probe(0, 1, 1, 2),
			events: []*corev1.Event{unhealthy("Liveness", "503", t0.Add(5*time.Second))}, grace: 15 * time.Second},
		{name: "no readiness probe", events: []*corev1.Event{unhealthy("Readiness", "503", t0.Add(5*time.Second))}, grace: 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []podOpt{withSpec(nil, tt.readiness, tt.startup)}
			if !tt.notReady.IsZero() {
				opts = append(opts, notReadyAt(tt.notReady))
			}
			p := pod("api-1", opts...)
			cs := corev1.ContainerStatus{Name: "api", State: runningSince(t0), Started: tt.started}
			deadline, msg, _, ok := readinessStall(p, cs, probeFailures(p, tt.events), tt.startedSeen, tt.grace)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (deadline t0+%s)", ok, tt.wantOK, deadline.Sub(t0))
			}
			if !ok {
				return
			}
			if want := t0.Add(tt.want); !deadline.Equal(want) {
				t.Errorf("deadline = t0+%s, want t0+%s", deadline.Sub(t0), tt.want)
			}
			if !strings.HasPrefix(msg, "Readiness probe failed") {
				t.Errorf("message = %q, want the newest readiness failure", msg)
			}
		})
	}
}

// TestEvaluateProbes runs the probe rules through Evaluate: the verdicts a loaded kubelet used to
// turn into false passes, and the stalls that used to wait for --timeout.
func TestEvaluateProbes(t *testing.T) {
	t.Parallel()
	policy := Policy{CrashTolerance: 1, PendingGrace: 30 * time.Second, Soak: 10 * time.Second, ReadinessGrace: 15 * time.Second}
	started := true
	live := func(opts ...podOpt) *corev1.Pod {
		return pod("api-1", append([]podOpt{withSpec(probe(3, 1, 1, 2), nil, nil), readyAt(t0.Add(time.Second)),
			container(corev1.ContainerStatus{Name: "api", Ready: true, Started: &started, State: runningSince(t0)})}, opts...)...)
	}
	// liveLate's liveness probe has its first run 10 s after the start, at a tick up to 3 s later.
	liveLate := func() *corev1.Pod {
		return pod("api-1", withSpec(probe(10, 3, 1, 3), nil, nil), readyAt(t0.Add(time.Second)),
			container(corev1.ContainerStatus{Name: "api", Ready: true, Started: &started, State: runningSince(t0)}))
	}
	stalled := pod("api-1", withSpec(nil, probe(0, 1, 1, 2), nil), notReadyAt(t0),
		container(corev1.ContainerStatus{Name: "api", Started: &started, State: runningSince(t0)}))
	mountPending := pod("api-1", withSpec(nil, nil, nil), func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "api", State: waiting("ContainerCreating", "")}}
	})
	failedMount := &corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod", UID: "pod-uid-1"}, Reason: "FailedMount", Type: corev1.EventTypeWarning,
		Message: `MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found`, LastTimestamp: metav1.NewTime(t0.Add(2 * time.Second))}
	tests := []struct {
		name        string
		pods        []*corev1.Pod
		events      []*corev1.Event
		flaps       map[string]int
		completedAt time.Time
		now         time.Time
		wantVerdict report.Verdict
		wantReason  string
		wantMsg     string
		wantRecheck time.Time
		wantHeld    bool
	}{
		// The liveness hold (hold.go): probe(3, 1, 1, 2) has its first run by t0+5, the hold ends at t0+5+evidenceMargin,
		// the 10 s soak at t0+11.
		{name: "healthy once the soak and the first liveness run are over", pods: []*corev1.Pod{live()}, completedAt: t0.Add(time.Second),
			now: t0.Add(max(11*time.Second, 5*time.Second+evidenceMargin)), wantVerdict: report.VerdictHealthy, wantReason: "Complete"},
		{name: "the plain soak is over but the first liveness run is not", pods: []*corev1.Pod{liveLate()}, completedAt: t0.Add(time.Second),
			now: t0.Add(12 * time.Second), wantRecheck: t0.Add(14*time.Second + evidenceMargin)},
		{name: "healthy once the first liveness run has passed", pods: []*corev1.Pod{liveLate()}, completedAt: t0.Add(time.Second),
			now: t0.Add(14*time.Second + evidenceMargin), wantVerdict: report.VerdictHealthy, wantReason: "Complete"},
		{name: "a NotReady turn puts the container back on its kill window", pods: []*corev1.Pod{live()}, flaps: map[string]int{"api-1": 1},
			completedAt: t0.Add(time.Second), now: t0.Add(12 * time.Second), wantRecheck: t0.Add(17500 * time.Millisecond)},
		{name: "a liveness failure holds the verdict past the window", pods: []*corev1.Pod{live()}, completedAt: t0.Add(time.Second),
			events: []*corev1.Event{unhealthy("Liveness", "Get \"http://10.0.0.1:9999/healthz\": connection refused", t0.Add(18*time.Second))},
			now:    t0.Add(20 * time.Second), wantRecheck: t0.Add(32500 * time.Millisecond), wantHeld: true},
		{name: "a liveness failure inside the liveness window holds too", pods: []*corev1.Pod{live()}, completedAt: t0.Add(time.Second),
			events: []*corev1.Event{unhealthy("Liveness", "refused", t0.Add(2*time.Second))}, now: t0.Add(10 * time.Second),
			wantRecheck: t0.Add(17500 * time.Millisecond), wantHeld: true},
		{name: "startup probe failures of a slow start do not hold once it has started", pods: []*corev1.Pod{live()}, completedAt: t0.Add(time.Second),
			events: []*corev1.Event{unhealthy("Startup", "connection refused", t0.Add(10*time.Second))}, now: t0.Add(19 * time.Second), wantVerdict: report.VerdictHealthy},
		{name: "a liveness failure from an earlier container run does not hold", pods: []*corev1.Pod{live()}, completedAt: t0.Add(time.Second),
			events: []*corev1.Event{unhealthy("Liveness", "refused", t0.Add(-5*time.Second))}, now: t0.Add(19 * time.Second), wantVerdict: report.VerdictHealthy},
		{name: "a pod that turned NotReady is not complete", pods: []*corev1.Pod{pod("api-1", withSpec(nil, probe(0, 1, 1, 2), nil), notReadyAt(t0.Add(5*time.Second)),
			container(corev1.ContainerStatus{Name: "api", State: runningSince(t0)}))}, completedAt: t0.Add(time.Second), now: t0.Add(20 * time.Second)},
		{name: "a readiness stall within its window is still in progress", pods: []*corev1.Pod{stalled},
			events: []*corev1.Event{unhealthy("Readiness", "HTTP probe failed with statuscode: 503", t0.Add(20*time.Second))},
			now:    t0.Add(25 * time.Second), wantRecheck: t0.Add(29500 * time.Millisecond)},
		{name: "a readiness stall past its window fails", pods: []*corev1.Pod{stalled},
			events: []*corev1.Event{unhealthy("Readiness", "HTTP probe failed with statuscode: 503", t0.Add(30*time.Second))},
			now:    t0.Add(31 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "ReadinessProbeFailing", wantMsg: "statuscode: 503"},
		{name: "a liveness probe that errors, folded, fails instead of holding until it passes", pods: []*corev1.Pod{live()}, completedAt: t0.Add(time.Second),
			events: []*corev1.Event{errored("Liveness", t0.Add(4*time.Second), t0.Add(25*time.Second), 21, false, true)},
			now:    t0.Add(26 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "LivenessProbeErrored", wantMsg: "stat /bin/healthcheck"},
		{name: "a liveness probe that errors holds the soak within its window", pods: []*corev1.Pod{live()}, completedAt: t0.Add(time.Second),
			events: []*corev1.Event{errored("Liveness", t0.Add(4*time.Second), t0.Add(12*time.Second), 8, true, false)},
			now:    t0.Add(13 * time.Second), wantRecheck: t0.Add(17500 * time.Millisecond), wantHeld: true},
		{name: "a readiness probe that errors, folded in the series shape, stalls", pods: []*corev1.Pod{stalled},
			events: []*corev1.Event{errored("Readiness", t0.Add(time.Second), t0.Add(30*time.Second), 29, true, true)},
			now:    t0.Add(31 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "ReadinessProbeFailing", wantMsg: "Readiness probe errored"},
		{name: "three NotReady turns without a restart fail as flapping", pods: []*corev1.Pod{live()}, flaps: map[string]int{"api-1": 3},
			now: t0.Add(5 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "ReadinessFlapping", wantMsg: "turned NotReady 3 times"},
		{name: "two NotReady turns are tolerated", pods: []*corev1.Pod{live()}, flaps: map[string]int{"api-1": 2}, completedAt: t0.Add(time.Second),
			now: t0.Add(19 * time.Second), wantVerdict: report.VerdictHealthy},
		{name: "a missing Secret volume waits out the pending grace", pods: []*corev1.Pod{mountPending}, events: []*corev1.Event{failedMount},
			now: t0.Add(10 * time.Second), wantRecheck: t0.Add(30 * time.Second)},
		{name: "a missing Secret volume fails after the pending grace", pods: []*corev1.Pod{mountPending}, events: []*corev1.Event{failedMount},
			now: t0.Add(30 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "FailedMount", wantMsg: `secret "web-tls" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obj := deployment(1, 1, 1)
			if len(tt.pods) > 0 && !podstate.Ready(tt.pods[0]) {
				obj = deployment(1, 1, 0)
			}
			j := Evaluate(Snapshot{Object: obj, Pods: tt.pods, CompletedAt: tt.completedAt, Events: tt.events, Flaps: tt.flaps}, policy, tt.now)
			if j.Verdict != tt.wantVerdict {
				t.Fatalf("verdict = %q (%s: %s; %s), want %q", j.Verdict, j.Reason, j.Message, j.Progress, tt.wantVerdict)
			}
			if tt.wantReason != "" && j.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", j.Reason, tt.wantReason)
			}
			if !strings.Contains(j.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", j.Message, tt.wantMsg)
			}
			if !tt.wantRecheck.IsZero() && !j.RecheckAt.Equal(tt.wantRecheck) {
				t.Errorf("recheck at t0+%s, want t0+%s (%s)", j.RecheckAt.Sub(t0), tt.wantRecheck.Sub(t0), j.Progress)
			}
			if (j.Held != "") != tt.wantHeld {
				t.Errorf("held = %q, want held %v", j.Held, tt.wantHeld)
			}
		})
	}
}

func TestMissingObjectMount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		want bool
	}{
		{`MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found`, true},
		{`MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found`, true},
		{`MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: app.yaml`, true},
		{`MountVolume.SetUp failed for volume "tls" : couldn't find key tls.crt in Secret prod/web-tls`, true},
		{`MountVolume.SetUp failed for volume "tls" : references non-existent secret key: tls.crt`, true},
		{`MountVolume.SetUp failed for volume "data" : rpc error: code = DeadlineExceeded`, false},
		{`Unable to attach or mount volumes: unmounted volumes=[data]: timed out waiting for the condition`, false},
	}
	for _, tt := range tests {
		if got := missingObjectMount(tt.msg); got != tt.want {
			t.Errorf("missingObjectMount(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// TestObserveCountsFlapsAndStarts follows one pod through a sequence of states as the watch sees
// them: only a Ready to NotReady turn without a restart is a flap, and a container run's start is
// recorded once, when first seen.
func TestObserveCountsFlapsAndStarts(t *testing.T) {
	t.Parallel()
	yes := true
	state := func(ready bool, restarts int32, started bool) *corev1.Pod {
		opts := []podOpt{withSpec(nil, nil, nil)}
		if ready {
			opts = append(opts, readyAt(t0))
		} else {
			opts = append(opts, notReadyAt(t0))
		}
		cs := corev1.ContainerStatus{Name: "api", RestartCount: restarts, State: runningSince(t0)}
		if started {
			cs.Started = &yes
		}
		return pod("api-1", append(opts, container(cs))...)
	}
	steps := []struct {
		pod       *corev1.Pod
		wantFlaps int
	}{
		{state(false, 0, false), 0}, // starting
		{state(true, 0, true), 0},   // ready
		{state(false, 0, true), 1},  // NotReady, no restart: flap
		{state(false, 0, true), 1},  // still NotReady: the same flap
		{state(true, 0, true), 1},   // ready again
		{state(false, 1, true), 1},  // NotReady because it restarted: the crash rules count that
		{state(true, 1, true), 1},   // ready
		{state(false, 1, true), 2},  // flap
	}
	tr := &tracked{}
	for i, st := range steps {
		now := t0.Add(time.Duration(i) * time.Second)
		tr.observe([]*corev1.Pod{st.pod}, now)
		if got := tr.flaps["api-1"]; got != st.wantFlaps {
			t.Fatalf("step %d: flaps = %d, want %d", i, got, st.wantFlaps)
		}
	}
	// Run 0 was first seen started at step 1, run 1 at step 5.
	p0, p1 := steps[1].pod, steps[5].pod
	if got := tr.startedSeen[StartedKey(p0, p0.Status.ContainerStatuses[0])]; !got.Equal(t0.Add(time.Second)) {
		t.Errorf("run 0 started seen at t0+%s, want t0+1s", got.Sub(t0))
	}
	if got := tr.startedSeen[StartedKey(p1, p1.Status.ContainerStatuses[0])]; !got.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("run 1 started seen at t0+%s, want t0+5s", got.Sub(t0))
	}
}

// errored is the kubelet's Unhealthy event for a probe it could not run, folded as the event
// correlator folds it: in the core/v1 shape (count and lastTimestamp, the kubelet's recorder) or
// the events.k8s.io/v1 shape (eventTime and series), combined or not.
func errored(kind string, first, last time.Time, count int32, seriesShape, combined bool) *corev1.Event {
	msg := kind + ` probe errored and resulted in unknown state: failed to exec in container: exec: "/bin/healthcheck": stat /bin/healthcheck: no such file or directory`
	if combined {
		msg = "(combined from similar events): " + msg
	}
	e := &corev1.Event{
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", UID: "pod-uid-1", FieldPath: "spec.containers{api}"},
		Reason:         "Unhealthy", Type: corev1.EventTypeWarning, Message: msg,
	}
	if seriesShape {
		e.EventTime = metav1.NewMicroTime(first)
		if count > 1 {
			e.Series = &corev1.EventSeries{Count: count, LastObservedTime: metav1.NewMicroTime(last)}
		}
	} else {
		e.FirstTimestamp, e.LastTimestamp, e.Count = metav1.NewTime(first), metav1.NewTime(last), count
	}
	return e
}

func TestProbeCannotWork(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	// liveness: window = 0 + 3*2 + 1 = 7s, margin 13.5s: the kill window ends at t0+20.5s.
	live := probe(0, 2, 1, 3)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		name              string
		liveness, startup *corev1.Probe
		started           *bool
		events            []*corev1.Event
		now               time.Time
		wantReason        string
		wantRecheck       time.Time
	}{
		{name: "errors, core/v1 count folded", liveness: live, now: at(25),
			events:     []*corev1.Event{errored("Liveness", at(2), at(24), 12, false, false)},
			wantReason: "LivenessProbeErrored"},
		{name: "errors, events.k8s.io/v1 series folded", liveness: live, now: at(25),
			events:     []*corev1.Event{errored("Liveness", at(2), at(24), 12, true, false)},
			wantReason: "LivenessProbeErrored"},
		{name: "errors combined from similar events after ten", liveness: live, now: at(40),
			events:     []*corev1.Event{errored("Liveness", at(2), at(2), 1, false, false), errored("Liveness", at(20), at(38), 9, false, true)},
			wantReason: "LivenessProbeErrored"},
		{name: "errors within the kill window: not yet", liveness: live, now: at(20),
			events:      []*corev1.Event{errored("Liveness", at(2), at(18), 9, false, false)},
			wantRecheck: at(20.5)},
		{name: "two errors: not proof", liveness: live, now: at(25),
			events: []*corev1.Event{errored("Liveness", at(2), at(4), 2, false, false)}},
		{name: "errors that stopped long ago", liveness: live, now: at(60),
			events: []*corev1.Event{errored("Liveness", at(2), at(10), 5, false, false)}},
		{name: "errors of an earlier run count once", liveness: live, now: at(25),
			events: []*corev1.Event{errored("Liveness", t0.Add(-time.Minute), at(24), 30, false, false)}},
		{name: "failures on every run without a kill", liveness: live, now: at(25),
			events:     []*corev1.Event{withCount(unhealthy("Liveness", "HTTP probe failed with statuscode: 500", at(24)), at(2), 12)},
			wantReason: "LivenessProbeFailing"},
		{name: "intermittent failures are not a dead probe", liveness: live, now: at(25),
			events: []*corev1.Event{withCount(unhealthy("Liveness", "HTTP probe failed with statuscode: 500", at(24)), at(2), 4)}},
		{name: "startup probe errors", startup: probe(0, 1, 1, 10), liveness: live, started: &no, now: at(30),
			events:     []*corev1.Event{errored("Startup", at(1), at(29), 28, true, true)},
			wantReason: "StartupProbeErrored"},
		{name: "liveness not run before the startup probe passes", startup: probe(0, 1, 1, 100), liveness: live, started: &no, now: at(30),
			events: []*corev1.Event{errored("Liveness", at(1), at(29), 28, false, false)}},
		{name: "readiness errors are the readiness rule's", liveness: live, started: &yes, now: at(30),
			events: []*corev1.Event{errored("Readiness", at(1), at(29), 28, false, false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := pod("api-1", withSpec(tt.liveness, nil, tt.startup))
			cs := corev1.ContainerStatus{Name: "api", State: runningSince(t0), Started: tt.started}
			reason, msg, ok, recheck := probeCannotWork(p, cs, probeFailures(p, tt.events), time.Time{}, tt.now)
			if reason != tt.wantReason || ok != (tt.wantReason != "") {
				t.Fatalf("probeCannotWork = %q, %v (%s), want %q", reason, ok, msg, tt.wantReason)
			}
			if ok && (!strings.Contains(msg, "never killed it") || strings.Contains(msg, "combined from similar")) {
				t.Errorf("message %q: want the kubelet's words without the aggregator's prefix", msg)
			}
			if !recheck.Equal(tt.wantRecheck) {
				t.Errorf("recheck t0+%s, want t0+%s", recheck.Sub(t0), tt.wantRecheck.Sub(t0))
			}
		})
	}
}

// withCount folds an event: it first happened at first and count times in all.
func withCount(e *corev1.Event, first time.Time, count int32) *corev1.Event {
	e.FirstTimestamp, e.Count = metav1.NewTime(first), count
	return e
}
