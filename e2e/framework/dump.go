package framework

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Dump describes a namespace for a failed test: each pod with its container states and the last
// lines of its containers' logs (current and previous), then the events in time order.
func Dump(ctx context.Context, c kubernetes.Interface, namespace string) string {
	var b strings.Builder
	pods, err := c.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(&b, "list pods: %v\n", err)
	} else if len(pods.Items) == 0 {
		b.WriteString("no pods\n")
	}
	if pods != nil {
		for i := range pods.Items {
			p := &pods.Items[i]
			b.WriteString(PodSummary(p))
			for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
				for _, previous := range []bool{false, true} {
					if previous && cs.RestartCount == 0 {
						continue
					}
					tail := int64(20)
					logs, err := c.CoreV1().Pods(namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: cs.Name, Previous: previous, TailLines: &tail}).DoRaw(ctx)
					which := "logs"
					if previous {
						which = "previous logs"
					}
					switch {
					case err != nil:
						fmt.Fprintf(&b, "    %s %s: %v\n", cs.Name, which, err)
					case len(logs) > 0:
						fmt.Fprintf(&b, "    %s %s:\n%s", cs.Name, which, indent(string(logs), "      | "))
					}
				}
			}
		}
	}
	b.WriteString("events:\n")
	b.WriteString(eventsText(ctx, c, namespace))
	return b.String()
}

// PodSummary is one line for the pod and one per container: state, restarts, last termination.
func PodSummary(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pod %s: phase %s", p.Name, p.Status.Phase)
	if p.Status.Reason != "" {
		fmt.Fprintf(&b, " (%s)", p.Status.Reason)
	}
	b.WriteString("\n")
	line := func(kind string, cs corev1.ContainerStatus) {
		fmt.Fprintf(&b, "  %s %s: %s, ready=%t, restarts=%d", kind, cs.Name, stateText(cs.State), cs.Ready, cs.RestartCount)
		if cs.LastTerminationState.Terminated != nil {
			fmt.Fprintf(&b, ", last: %s", stateText(cs.LastTerminationState))
		}
		b.WriteString("\n")
	}
	for _, cs := range p.Status.InitContainerStatuses {
		line("init", cs)
	}
	for _, cs := range p.Status.ContainerStatuses {
		line("container", cs)
	}
	return b.String()
}

func stateText(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return strings.TrimSpace("waiting " + s.Waiting.Reason + " " + firstLine(s.Waiting.Message))
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return fmt.Sprintf("terminated %s exit %d", s.Terminated.Reason, s.Terminated.ExitCode)
	}
	return "unknown"
}

func eventsText(ctx context.Context, c kubernetes.Interface, namespace string) string {
	events, err := c.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("list events: %v\n", err)
	}
	items := events.Items
	sort.SliceStable(items, func(i, j int) bool { return eventTime(&items[i]).Time.Before(eventTime(&items[j]).Time) })
	var b strings.Builder
	for _, e := range items {
		fmt.Fprintf(&b, "  %s %s %s %s/%s: %s", eventTime(&e).Format("15:04:05"), e.Type, e.Reason,
			strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, firstLine(e.Message))
		if e.Count > 1 {
			fmt.Fprintf(&b, " (x%d)", e.Count)
		}
		b.WriteString("\n")
	}
	if len(items) == 0 {
		b.WriteString("  none\n")
	}
	return b.String()
}

// eventTime is when the event last happened, whichever of its time fields is set.
func eventTime(e *corev1.Event) metav1.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp
	case !e.EventTime.IsZero():
		return metav1.NewTime(e.EventTime.Time)
	}
	return e.FirstTimestamp
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}
