package diagnose

import (
	"cmp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// maxEventGroups caps the events in a Result; warnings are kept first.
const maxEventGroups = 60

// recentEvents keeps events last seen at or after since (all of them when since is zero).
func recentEvents(events []corev1.Event, since time.Time) []corev1.Event {
	var out []corev1.Event
	for _, e := range events {
		if _, last := podstate.EventTimes(&e); since.IsZero() || !last.Before(since) {
			out = append(out, e)
		}
	}
	return out
}

// eventObject names an event's object as kubectl does: pod/api-7d4b9c-xkp2z.
func eventObject(e *corev1.Event) string {
	return strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
}

// groupEvents merges events with the same type, reason, object and message, summing their counts,
// and orders the groups by when they were first seen.
func groupEvents(events []corev1.Event) []report.Event {
	type key struct{ typ, reason, object, msg string }
	idx := map[key]int{}
	var out []report.Event
	for _, e := range events {
		k := key{e.Type, e.Reason, eventObject(&e), strings.TrimSpace(e.Message)}
		first, last := podstate.EventTimes(&e)
		if i, ok := idx[k]; ok {
			g := &out[i]
			g.Count += podstate.EventCount(&e)
			if !first.IsZero() && (g.FirstSeen.IsZero() || first.Before(g.FirstSeen)) {
				g.FirstSeen = first
			}
			if last.After(g.LastSeen) {
				g.LastSeen = last
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, report.Event{Type: e.Type, Reason: e.Reason, Object: k.object, Message: k.msg,
			Count: podstate.EventCount(&e), FirstSeen: first, LastSeen: last})
	}
	slices.SortStableFunc(out, func(a, b report.Event) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Reason, b.Reason))
	})
	if len(out) > maxEventGroups {
		// Keep every warning we can, then the earliest normal events.
		var warn, normal []report.Event
		for _, g := range out {
			if g.Type == corev1.EventTypeWarning {
				warn = append(warn, g)
			} else {
				normal = append(normal, g)
			}
		}
		keep := append(warn[:min(len(warn), maxEventGroups)], normal[:max(0, min(len(normal), maxEventGroups-len(warn)))]...)
		slices.SortStableFunc(keep, func(a, b report.Event) int { return a.FirstSeen.Compare(b.FirstSeen) })
		out = keep
	}
	return out
}

// podEvents returns the events of one pod, optionally only those of one container (events that
// name no container are kept, since pod-level events such as FailedMount concern every container).
func (ev *evidence) podEvents(pod, container string) []corev1.Event {
	var out []corev1.Event
	for _, e := range ev.Events {
		if e.InvolvedObject.Kind != "Pod" || e.InvolvedObject.Name != pod {
			continue
		}
		if c := podstate.EventContainer(&e); container != "" && c != "" && c != container {
			continue
		}
		out = append(out, e)
	}
	return out
}

// eventLine renders one event as evidence: "Warning Unhealthy (x3): Liveness probe failed: ...".
func eventLine(e *corev1.Event) string {
	s := e.Type + " " + e.Reason
	if n := podstate.EventCount(e); n > 1 {
		s += " (x" + itoa(int(n)) + ")"
	}
	return s + " on " + eventObject(e) + ": " + strings.TrimSpace(e.Message)
}
