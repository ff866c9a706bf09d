package diagnose

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

func ev(kind, name, typ, reason, msg string, count int32, first, last time.Time) corev1.Event {
	return corev1.Event{
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name},
		Type:           typ, Reason: reason, Message: msg, Count: count,
		FirstTimestamp: metav1.NewTime(first), LastTimestamp: metav1.NewTime(last),
	}
}

// podEvent is ev about the first pod of the evidence e, in its namespace.
func podEvent(e *evidence, typ, reason, msg string, count int32, first, last time.Time) corev1.Event {
	pe := ev("Pod", e.Pods[0].Name, typ, reason, msg, count, first, last)
	pe.InvolvedObject.Namespace = e.Namespace
	return pe
}

func TestGroupEvents(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 4, 4, 8, 10, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	events := []corev1.Event{
		ev("Pod", "api-1", "Warning", "BackOff", "Back-off restarting failed container api", 3, at(20), at(60)),
		ev("Pod", "api-1", "Normal", "Pulled", "Container image already present", 1, at(1), at(1)),
		// same type, reason, object and message: merged, counts summed, widest time span kept
		ev("Pod", "api-1", "Warning", "BackOff", "Back-off restarting failed container api", 2, at(10), at(90)),
		// same message on another pod: its own group
		ev("Pod", "api-2", "Warning", "BackOff", "Back-off restarting failed container api", 4, at(15), at(70)),
		// same pod, another message: its own group
		ev("Pod", "api-1", "Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404", 1, at(5), at(5)),
		// events.k8s.io series count wins over the legacy count
		{InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", Name: "api-7d4b9c"}, Type: "Warning", Reason: "FailedCreate",
			Message: "Error creating: quota", EventTime: metav1.NewMicroTime(at(2)),
			Series: &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(at(100))}},
	}
	got := groupEvents(events)
	want := []report.Event{
		{Type: "Normal", Reason: "Pulled", Object: "pod/api-1", Message: "Container image already present", Count: 1, FirstSeen: at(1), LastSeen: at(1)},
		{Type: "Warning", Reason: "FailedCreate", Object: "replicaset/api-7d4b9c", Message: "Error creating: quota", Count: 7, FirstSeen: at(2), LastSeen: at(100)},
		{Type: "Warning", Reason: "Unhealthy", Object: "pod/api-1", Message: "Liveness probe failed: HTTP probe failed with statuscode: 404", Count: 1, FirstSeen: at(5), LastSeen: at(5)},
		{Type: "Warning", Reason: "BackOff", Object: "pod/api-1", Message: "Back-off restarting failed container api", Count: 5, FirstSeen: at(10), LastSeen: at(90)},
		{Type: "Warning", Reason: "BackOff", Object: "pod/api-2", Message: "Back-off restarting failed container api", Count: 4, FirstSeen: at(15), LastSeen: at(70)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d groups, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.Reason != w.Reason || g.Object != w.Object || g.Message != w.Message || g.Count != w.Count ||
			!g.FirstSeen.Equal(w.FirstSeen) || !g.LastSeen.Equal(w.LastSeen) {
			t.Errorf("group %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestGroupEventsCapKeepsWarnings(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 4, 4, 8, 10, 0, 0, time.UTC)
	var events []corev1.Event
	for i := range maxEventGroups + 20 {
		at := t0.Add(time.Duration(i) * time.Second)
		events = append(events, ev("Pod", "p", "Normal", "Pulled", "normal "+itoa(i), 1, at, at))
	}
	late := t0.Add(time.Hour)
	for i := range 5 {
		events = append(events, ev("Pod", "p", "Warning", "BackOff", "warning "+itoa(i), 1, late, late))
	}
	got := groupEvents(events)
	if len(got) != maxEventGroups {
		t.Fatalf("got %d groups, want the cap %d", len(got), maxEventGroups)
	}
	warnings := 0
	for i, g := range got {
		if g.Type == "Warning" {
			warnings++
		}
		if i > 0 && g.FirstSeen.Before(got[i-1].FirstSeen) {
			t.Errorf("groups out of order at %d", i)
		}
	}
	if warnings != 5 {
		t.Errorf("kept %d warnings, want all 5", warnings)
	}
}

func TestRecentEventsAndEventLine(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 4, 4, 8, 10, 0, 0, time.UTC)
	old := ev("Pod", "p", "Warning", "BackOff", "old", 1, since.Add(-time.Hour), since.Add(-time.Minute))
	spanning := ev("Pod", "p", "Warning", "BackOff", "still happening", 9, since.Add(-time.Hour), since.Add(time.Minute))
	got := recentEvents([]corev1.Event{old, spanning}, since)
	if len(got) != 1 || got[0].Message != "still happening" {
		t.Errorf("recentEvents kept %+v, want only the event last seen after the rollout began", got)
	}
	if n := len(recentEvents([]corev1.Event{old, spanning}, time.Time{})); n != 2 {
		t.Errorf("zero since kept %d events, want all", n)
	}
	line := eventLine(&spanning)
	if !strings.HasPrefix(line, "Warning BackOff (x9) on pod/p: still happening") {
		t.Errorf("eventLine = %q", line)
	}
}
