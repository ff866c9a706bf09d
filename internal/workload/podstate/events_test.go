package podstate

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Each fold of a repeat into an event is an occurrence at its time, whichever API wrote it.
func TestEventOccurrences(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name        string
		e           corev1.Event
		first, last time.Time
		count       int32
		msg         string
	}{
		{"core/v1, once", corev1.Event{FirstTimestamp: metav1.NewTime(at(1)), LastTimestamp: metav1.NewTime(at(1)), Count: 1, Message: "Liveness probe failed: refused"},
			at(1), at(1), 1, "Liveness probe failed: refused"},
		{"core/v1, folded: count raised, lastTimestamp moved", corev1.Event{FirstTimestamp: metav1.NewTime(at(1)), LastTimestamp: metav1.NewTime(at(40)), Count: 14,
			Message: "(combined from similar events): Liveness probe errored and resulted in unknown state: exec failed"},
			at(1), at(40), 14, "Liveness probe errored and resulted in unknown state: exec failed"},
		{"events.k8s.io/v1, once", corev1.Event{EventTime: metav1.NewMicroTime(at(2)), Message: "0/1 nodes are available"},
			at(2), at(2), 1, "0/1 nodes are available"},
		{"events.k8s.io/v1, series grown", corev1.Event{EventTime: metav1.NewMicroTime(at(2)),
			Series: &corev1.EventSeries{Count: 9, LastObservedTime: metav1.NewMicroTime(at(90))}, Message: "Back-off restarting failed container"},
			at(2), at(90), 9, "Back-off restarting failed container"},
		{"no time but its creation", corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(at(3))}},
			at(3), at(3), 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first, last := EventTimes(&tt.e)
			if !first.Equal(tt.first) || !last.Equal(tt.last) {
				t.Errorf("EventTimes = %s, %s; want %s, %s", first, last, tt.first, tt.last)
			}
			if n := EventCount(&tt.e); n != tt.count {
				t.Errorf("EventCount = %d, want %d", n, tt.count)
			}
			if m := EventMessage(&tt.e); m != tt.msg {
				t.Errorf("EventMessage = %q, want %q", m, tt.msg)
			}
		})
	}
}
