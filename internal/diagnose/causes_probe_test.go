package diagnose

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// execErr is the kubelet's message for an exec probe whose binary the image lacks.
const execErr = ` probe errored and resulted in unknown state: failed to exec in container: exec: "/bin/healthcheck": stat /bin/healthcheck: no such file or directory`

// execProbe puts an exec probe of /bin/healthcheck on the first container as kind.
func execProbe(kind string) func(*evidence) {
	return func(ev *evidence) {
		p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/healthcheck"}}}, PeriodSeconds: 2, FailureThreshold: 3}
		c := &ev.Pods[0].Spec.Containers[0]
		switch kind {
		case "Liveness":
			c.LivenessProbe = p
		case "Startup":
			c.StartupProbe = p
		default:
			c.ReadinessProbe = p
		}
	}
}

// erroring gives the first container an exec kind probe and the kubelet's errored runs of it.
func erroring(kind string, ready bool) func(*evidence) {
	return func(ev *evidence) {
		execProbe(kind)(ev)
		ev.Pods[0].Status.ContainerStatuses[0].Ready = ready
		ev.Events = nil
		kubeletEvent(ev, corev1.EventTypeWarning, "Unhealthy", kind+execErr)
	}
}

func TestProbeCannotWorkFindings(t *testing.T) {
	t.Parallel()
	cases := []classifyCase{
		{
			name: "a liveness probe that errors on a ready container", fixture: "readiness-probe", reason: "LivenessProbeErrored",
			editEvidence: erroring("Liveness", true),
			want: want{
				cause: report.CauseLivenessProbe, container: "api", confidence: report.ConfidenceHigh,
				summary:  []string{"the liveness probe of container api cannot run", "stat /bin/healthcheck: no such file or directory", "can never restart this container on a hang"},
				detail:   []string{`livenessProbe of container api: exec [`, "never counts toward failureThreshold"},
				evidence: []string{"Warning Unhealthy (x3) on pod/api-7d4b9c-xkp2z: Liveness probe errored and resulted in unknown state", "the probe never killed it"},
				fix: []string{
					"kubectl exec api-7d4b9c-xkp2z -c api -n production -- /bin/healthcheck",
					"kubectl annotate deployment/api -n production rollout-gate.io/ignore=true --overwrite",
				},
			},
		},
		{
			name: "a startup probe that errors", fixture: "readiness-probe", reason: "StartupProbeErrored",
			editEvidence: erroring("Startup", false),
			want: want{
				cause: report.CauseLivenessProbe, container: "api",
				summary: []string{"the startup probe of container api cannot run", "never counts as started"},
			},
		},
		{
			name: "a readiness probe that errors", fixture: "readiness-probe", reason: podstate.VerdictReadinessProbeFailing,
			editEvidence: func(ev *evidence) {
				erroring("Readiness", false)(ev)
				ev.Pods[0].Spec.Containers[0].LivenessProbe = nil
			},
			want: want{
				cause: report.CauseReadinessProbe, container: "api",
				summary:  []string{"the readiness probe of container api cannot run", "stat /bin/healthcheck"},
				detail:   []string{"errored (result Unknown)"},
				fixHas:   []string{"-- /bin/healthcheck", "rollout-gate.io/ignore=true"},
				evidence: []string{"Readiness probe errored"},
			},
		},
		{
			name: "one errored liveness run does not outrank a readiness stall", fixture: "readiness-probe", reason: podstate.VerdictReadinessProbeFailing,
			editEvidence: func(ev *evidence) {
				execProbe("Liveness")(ev)
				e := podEvent(ev, corev1.EventTypeWarning, "Unhealthy", "Liveness"+execErr, 1, fixtureNow.Add(-time.Minute), fixtureNow.Add(-time.Minute))
				e.InvolvedObject.FieldPath = "spec.containers{api}"
				ev.Events = append(ev.Events, e)
			},
			want: want{cause: report.CauseReadinessProbe, container: "api"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkFindings(t, classify(tc.gather(t)), tc.want)
		})
	}
}

// The diagnosis reads events folded by the kubelet's correlator (core/v1 count and lastTimestamp)
// and by events.k8s.io/v1 writers (eventTime and series) alike, and without the aggregator's
// prefix, so that the rules that read a message's start still match.
func TestEventsReadFolded(t *testing.T) {
	t.Parallel()
	t0 := fixtureNow.Add(-10 * time.Minute)
	obj := corev1.ObjectReference{Kind: "Pod", Name: "api-1", Namespace: "production", FieldPath: "spec.containers{api}"}
	core := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "core", Namespace: "production"}, InvolvedObject: obj,
		Type: "Warning", Reason: "Unhealthy", Message: "(combined from similar events): Liveness" + execErr,
		FirstTimestamp: metav1.NewTime(t0), LastTimestamp: metav1.NewTime(t0.Add(5 * time.Minute)), Count: 42}
	series := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "series", Namespace: "production"}, InvolvedObject: obj,
		Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container api in pod api-1",
		EventTime: metav1.NewMicroTime(t0), Series: &corev1.EventSeries{Count: 17, LastObservedTime: metav1.NewMicroTime(t0.Add(6 * time.Minute))}}
	d := &Diagnoser{Client: kubetest.Client(core, series)}
	got, err := d.events(context.Background(), "production", objectRef{"Pod", "api-1"}, t0.Add(4*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d events, want both (each last happened after since): %+v", len(got), got)
	}
	want := map[string]struct {
		msg   string
		count int32
		last  time.Time
	}{
		"core":   {"Liveness" + execErr, 42, t0.Add(5 * time.Minute)},
		"series": {series.Message, 17, t0.Add(6 * time.Minute)},
	}
	for _, e := range got {
		w := want[e.Name]
		if e.Message != w.msg {
			t.Errorf("%s: message %q, want %q", e.Name, e.Message, w.msg)
		}
		if n := podstate.EventCount(&e); n != w.count {
			t.Errorf("%s: count %d, want %d", e.Name, n, w.count)
		}
		if first, last := podstate.EventTimes(&e); !first.Equal(t0) || !last.Equal(w.last) {
			t.Errorf("%s: first %s last %s, want %s and %s", e.Name, first, last, t0, w.last)
		}
	}
}

// restartedBetweenSyncs shows the first container as the kubelet may between two syncs after a
// liveness kill: created again, with no last state on hand.
func restartedBetweenSyncs(ev *evidence) {
	cs := &ev.Pods[0].Status.ContainerStatuses[0]
	cs.LastTerminationState = corev1.ContainerState{}
	cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
}

// The make-test flake of issue 26: a previous-log read that fails, on any status the watch may
// hand over, never turns a liveness kill into cause unknown, and the failed read is a gap.
func TestProbeKillSurvivesAFailedLogRead(t *testing.T) {
	t.Parallel()
	rejected := errors.New("the server rejected our request for an unknown reason")
	states := map[string]func(*evidence){
		"in back-off":                  nil,
		"created again":                restartedBetweenSyncs,
		"running again, not ready":     func(ev *evidence) { runningAgain(ev, true) },
		"running again, no last state": func(ev *evidence) { runningAgain(ev, false) },
	}
	for name, edit := range states {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fx := loadFixture(t, "liveness-slow")
			d, _, rl := fx.diagnoser(nil)
			rl.err[logKey("api-7d4b9c-xkp2z", "api")] = rejected
			ev, err := d.gather(context.Background(), fx.input("CrashLoopBackOff"))
			if err != nil {
				t.Fatal(err)
			}
			if edit != nil {
				edit(ev)
			}
			got := classify(ev)
			if len(got) == 0 || got[0].Cause != report.CauseLivenessProbe {
				t.Fatalf("want cause %s from the Killing and Unhealthy events alone, got:\n%s", report.CauseLivenessProbe, dump(got))
			}
			if !slices.ContainsFunc(ev.Gaps, func(g string) bool { return strings.Contains(g, "the server rejected our request") }) {
				t.Errorf("the failed log read is not a gap: %q", ev.Gaps)
			}
		})
	}
}

// runningAgain shows the first container running its next run, not ready, with or without the
// last state on hand.
func runningAgain(ev *evidence, lastState bool) {
	cs := &ev.Pods[0].Status.ContainerStatuses[0]
	if !lastState {
		cs.LastTerminationState = corev1.ContainerState{}
	}
	cs.Ready = false
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(fixtureNow.Add(-5 * time.Second))}}
}
