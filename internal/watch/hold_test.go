package watch

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// TestHoldEnd: a container whose liveness probe showed no trouble is held one probe period after
// its first possible run (with evidenceMargin); any trouble puts it back on the full kill window.
func TestHoldEnd(t *testing.T) {
	t.Parallel()
	defaults := probe(0, 10, 1, 3)
	// The full kill window of the API's default probe from t0: 31 s + 25.5 s of margin.
	killDefaults := 56500 * time.Millisecond
	tests := []struct {
		name        string
		liveness    *corev1.Probe
		startup     *corev1.Probe
		restarts    int32
		flaps       int
		ready       time.Time
		startedSeen time.Time
		events      []*corev1.Event
		want        time.Duration // after t0; 0: no hold
		wantWhy     string
	}{
		{name: "no liveness probe: no hold", want: 0},
		{name: "the API's defaults: one period and the timeout after the start", liveness: defaults,
			want: 11*time.Second + evidenceMargin, wantWhy: "first liveness probe of api-1/api"},
		{name: "an initial delay of 20 s counts first", liveness: probe(20, 10, 1, 3),
			want: 31*time.Second + evidenceMargin, wantWhy: "first liveness probe"},
		{name: "the fast probe", liveness: probe(5, 5, 1, 3), want: 11*time.Second + evidenceMargin},
		{name: "zero fields take the API's defaults", liveness: &corev1.Probe{}, want: 11*time.Second + evidenceMargin},
		{name: "after the startup probe passed", liveness: defaults, startup: probe(0, 1, 1, 30), startedSeen: t0.Add(20 * time.Second),
			want: 31*time.Second + evidenceMargin},
		{name: "a restart: the full kill window", liveness: defaults, restarts: 1,
			want: killDefaults, wantWhy: "liveness window of api-1/api: it restarted 1 times"},
		{name: "a NotReady turn: the full kill window", liveness: defaults, flaps: 1,
			want: killDefaults, wantWhy: "its pod turned NotReady"},
		{name: "a liveness failure in this run: the full kill window", liveness: defaults,
			events: []*corev1.Event{unhealthy("Liveness", "connection refused", t0.Add(10*time.Second))},
			want:   killDefaults, wantWhy: "its liveness probe failed"},
		{name: "an errored liveness probe: the full kill window", liveness: defaults,
			events: []*corev1.Event{errored("Liveness", t0.Add(2*time.Second), t0.Add(3*time.Second), 2, false, false)},
			want:   killDefaults, wantWhy: "its liveness probe failed"},
		{name: "a liveness failure of an earlier run does not count", liveness: defaults,
			events: []*corev1.Event{unhealthy("Liveness", "connection refused", t0.Add(-5*time.Second))},
			want:   11*time.Second + evidenceMargin},
		{name: "a readiness failure before ready is a start", liveness: defaults, ready: t0.Add(5 * time.Second),
			events: []*corev1.Event{unhealthy("Readiness", "connection refused", t0.Add(2*time.Second))},
			want:   11*time.Second + evidenceMargin},
		{name: "a readiness failure after ready: the full kill window", liveness: defaults, ready: t0.Add(5 * time.Second),
			events: []*corev1.Event{unhealthy("Readiness", "statuscode: 503", t0.Add(8*time.Second))},
			want:   killDefaults, wantWhy: "its readiness probe failed after ready"},
		{name: "startup probe failures are how a slow start looks", liveness: defaults, startup: probe(0, 1, 1, 30), startedSeen: t0.Add(20 * time.Second),
			events: []*corev1.Event{unhealthy("Startup", "connection refused", t0.Add(10*time.Second))},
			want:   31*time.Second + evidenceMargin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, cs := probedPod(tt.liveness, tt.startup, tt.ready, tt.restarts)
			now := t0.Add(time.Hour) // the fake clock: the hold's end does not move with it once the start is known
			got, why := holdEnd(p, cs, probeFailures(p, tt.events), tt.startedSeen, tt.flaps, now)
			if tt.want == 0 {
				if !got.IsZero() {
					t.Fatalf("holdEnd = t0+%s (%s), want none", got.Sub(t0), why)
				}
				return
			}
			if want := t0.Add(tt.want); !got.Equal(want) {
				t.Errorf("holdEnd = t0+%s (%s), want t0+%s", got.Sub(t0), why, tt.want)
			}
			if !strings.Contains(why, tt.wantWhy) {
				t.Errorf("why = %q, want it to contain %q", why, tt.wantWhy)
			}
		})
	}
}

// TestEvaluateHoldOverTime walks a fake clock through one healthy rollout with the API's default
// probes, and through the same rollout whose liveness probe fails once: the first is healthy once
// the first liveness run had time to fail, the second waits its full kill window.
func TestEvaluateHoldOverTime(t *testing.T) {
	t.Parallel()
	started := true
	mk := func(restarts int32) *corev1.Pod {
		return pod("api-1", withSpec(probe(0, 10, 1, 3), probe(0, 10, 1, 3), nil), readyAt(t0.Add(time.Second)),
			container(corev1.ContainerStatus{Name: "api", Ready: true, Started: &started, State: runningSince(t0), RestartCount: restarts}))
	}
	failure := []*corev1.Event{unhealthy("Liveness", "connection refused", t0.Add(10*time.Second))}
	tests := []struct {
		name        string
		soak        time.Duration
		events      []*corev1.Event
		healthyFrom time.Duration // the first tick (1 s apart) at which the verdict is healthy
	}{
		{name: "nothing seen: the soak, then the first run's hold", soak: 10 * time.Second, healthyFrom: 11*time.Second + evidenceMargin},
		{name: "a long soak outlasts the hold", soak: 30 * time.Second, healthyFrom: 31 * time.Second},
		{name: "a liveness failure: its hold after the failure, past the kill window", soak: 10 * time.Second, events: failure,
			healthyFrom: 10*time.Second + 31*time.Second + 25500*time.Millisecond},
		{name: "--soak 0: no soak and no liveness hold", soak: 0, healthyFrom: time.Second},
		{name: "--soak 0 still holds a liveness probe seen failing", soak: 0, events: failure,
			healthyFrom: 10*time.Second + 31*time.Second + 25500*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			policy := DefaultPolicy()
			policy.Soak = tt.soak
			var first time.Duration
			for at := time.Second; at <= 3*time.Minute; at += 500 * time.Millisecond {
				j := Evaluate(Snapshot{Object: deployment(1, 1, 1), Pods: []*corev1.Pod{mk(0)}, CompletedAt: t0.Add(time.Second), Events: tt.events}, policy, t0.Add(at))
				if j.Verdict == report.VerdictHealthy {
					first = at
					break
				}
				if j.Verdict != "" {
					t.Fatalf("verdict %s at t0+%s: %s", j.Verdict, at, j.Message)
				}
			}
			// Healthy at the first half-second tick at or after the hold's end.
			want := tt.healthyFrom.Round(500 * time.Millisecond)
			if want < tt.healthyFrom {
				want += 500 * time.Millisecond
			}
			if first != want {
				t.Errorf("healthy from t0+%s, want t0+%s", first, want)
			}
		})
	}
}
