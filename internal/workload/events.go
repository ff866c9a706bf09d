package workload

import (
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
