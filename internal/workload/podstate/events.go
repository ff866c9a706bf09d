package podstate

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The kubelet's and the scheduler's events as the watch and the diagnosis both read them. A
// repeated event is not a new object: the event correlator folds a repeat into the existing one,
// raising `count` and moving `lastTimestamp` (core/v1 writers such as the kubelet), or growing
// `series.count` and moving `series.lastObservedTime` (events.k8s.io/v1 writers such as the
// scheduler); after ten differing messages of one reason and object within ten minutes it also
// rewrites the message as "(combined from similar events): <latest message>". Each such update
// is a new occurrence at its time, so these read every event the same way, whichever API wrote it.

// combinedPrefix is what client-go's EventAggregatorByReasonMessageFunc puts before the latest
// message of an aggregated event.
const combinedPrefix = "(combined from similar events): "

// EventTimes returns when an event first and last happened. events.k8s.io/v1 writers leave
// firstTimestamp and lastTimestamp empty and set eventTime (the first occurrence) and, once it
// repeats, series.lastObservedTime.
func EventTimes(e *corev1.Event) (first, last time.Time) {
	first = e.FirstTimestamp.Time
	if first.IsZero() {
		first = e.EventTime.Time
	}
	if first.IsZero() {
		first = e.CreationTimestamp.Time
	}
	last = e.LastTimestamp.Time
	if e.Series != nil && e.Series.LastObservedTime.After(last) {
		last = e.Series.LastObservedTime.Time
	}
	if e.EventTime.After(last) {
		last = e.EventTime.Time
	}
	if last.IsZero() || last.Before(first) {
		last = first
	}
	return first, last
}

// EventCount is how many times an event happened: core/v1 `count` or events.k8s.io/v1
// `series.count`, and at least once.
func EventCount(e *corev1.Event) int32 {
	n := e.Count
	if e.Series != nil && e.Series.Count > n {
		n = e.Series.Count
	}
	return max(n, 1)
}

// EventMessage is the event's message without the aggregator's "(combined from similar events): "
// prefix, so that rules that read the message's start ("Liveness probe failed: ...") still match
// once the correlator has folded the events.
func EventMessage(e *corev1.Event) string {
	return strings.TrimPrefix(strings.TrimSpace(e.Message), combinedPrefix)
}

// Event reasons the kubelet and the scheduler write about pods.
const (
	EventUnhealthy        = "Unhealthy"        // a probe failed or errored
	EventKilling          = "Killing"          // the kubelet stops a container (a probe kill says why)
	EventFailedMount      = "FailedMount"      // a volume cannot be mounted
	EventFailed           = "Failed"           // the kubelet could not pull, create or start a container
	EventFailedScheduling = "FailedScheduling" // the scheduler found no node

	// The cluster autoscaler's, on a pod it considered for a scale-up; both are type Normal.
	EventTriggeredScaleUp  = "TriggeredScaleUp"  // "pod triggered scale-up: [{<node group> 2->3 (max: 10)}]"
	EventNotTriggerScaleUp = "NotTriggerScaleUp" // "pod didn't trigger scale-up: 1 max node group size reached, ..."
)

// EventLast is when an event last happened (EventTimes): a repeat folded into one event counts
// at its last time.
func EventLast(e *corev1.Event) time.Time {
	_, last := EventTimes(e)
	return last
}

// containerFieldPaths are how an event's involvedObject.fieldPath names a container of its pod.
var containerFieldPaths = []string{"spec.containers{", "spec.initContainers{", "spec.ephemeralContainers{"}

// FieldPathContainer returns NAME from an event's fieldPath "spec.containers{NAME}" (or
// initContainers, ephemeralContainers), or "" when the event names no container.
func FieldPathContainer(fieldPath string) string {
	for _, prefix := range containerFieldPaths {
		if rest, ok := strings.CutPrefix(fieldPath, prefix); ok {
			if name, _, ok := strings.Cut(rest, "}"); ok {
				return name
			}
			return ""
		}
	}
	return ""
}

// EventContainer returns the container an event is about, or "" when it is about the whole pod.
func EventContainer(e *corev1.Event) string { return FieldPathContainer(e.InvolvedObject.FieldPath) }

// ProbeEvent is one Unhealthy event of the kubelet's prober: "Liveness probe failed: ..." or,
// when the kubelet could not run the probe at all (an Unknown result it throws away, which never
// counts toward failureThreshold), "Liveness probe errored and resulted in unknown state: ...".
type ProbeEvent struct {
	Kind      ProbeKind
	Container string
	// Message is the event's message without the aggregator's prefix; Answer is what follows its
	// first ": " (the probe's answer or error).
	Message, Answer string
	Errored         bool
	// First and Last are when it first and last happened, Count how often (a folded event counts
	// every repeat).
	First, Last time.Time
	Count       int32
}

// ParseProbeEvent reads an Unhealthy event of a probe; ok is false for any other event.
func ParseProbeEvent(e *corev1.Event) (ProbeEvent, bool) {
	if e.Reason != EventUnhealthy {
		return ProbeEvent{}, false
	}
	msg := EventMessage(e)
	kind, rest, ok := strings.Cut(msg, " probe ")
	if !ok || !slices.Contains(ProbeKinds, ProbeKind(kind)) {
		return ProbeEvent{}, false
	}
	_, answer, _ := strings.Cut(msg, ": ")
	first, last := EventTimes(e)
	return ProbeEvent{Kind: ProbeKind(kind), Container: EventContainer(e), Message: msg, Answer: answer,
		Errored: strings.HasPrefix(rest, "errored"), First: first, Last: last, Count: EventCount(e)}, true
}

// ProbeKill reads the kubelet's Killing event for a probe, "Container api failed liveness probe,
// will be restarted": which probe killed; ok is false for any other event.
func ProbeKill(e *corev1.Event) (ProbeKind, bool) {
	if e.Reason != EventKilling {
		return "", false
	}
	for _, k := range []ProbeKind{Liveness, Startup} {
		if strings.Contains(e.Message, "failed "+strings.ToLower(string(k))+" probe") {
			return k, true
		}
	}
	return "", false
}
