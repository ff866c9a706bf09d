package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// maxReportPods and maxMoments cap the pods and the timeline in a Result.
const (
	maxReportPods = 20
	maxMoments    = 80
)

// translatePods turns the new revision's pods into report pods, failing ones first.
func translatePods(pods []corev1.Pod) []report.Pod {
	ps := examinedPods(pods, maxReportPods)
	out := make([]report.Pod, 0, len(ps))
	for _, p := range ps {
		rp := report.Pod{Name: p.Name, Phase: string(p.Status.Phase), Ready: podstate.Ready(&p), Node: p.Spec.NodeName, Reason: podReason(&p)}
		for _, st := range p.Status.InitContainerStatuses {
			rp.Containers = append(rp.Containers, translateContainer(st, true))
		}
		for _, st := range p.Status.ContainerStatuses {
			rp.Containers = append(rp.Containers, translateContainer(st, false))
		}
		if rp.Containers == nil {
			rp.Containers = []report.Container{}
		}
		out = append(out, rp)
	}
	return out
}

func translateContainer(st corev1.ContainerStatus, init bool) report.Container {
	c := report.Container{Name: st.Name, Init: init, Image: st.Image, Ready: st.Ready, RestartCount: st.RestartCount}
	switch {
	case st.State.Waiting != nil:
		c.State, c.Reason, c.Message = "waiting", st.State.Waiting.Reason, st.State.Waiting.Message
	case st.State.Running != nil:
		c.State = "running"
	case st.State.Terminated != nil:
		c.State, c.Reason, c.Message = "terminated", st.State.Terminated.Reason, st.State.Terminated.Message
	}
	t := st.State.Terminated
	if t == nil {
		t = st.LastTerminationState.Terminated
	}
	if t != nil {
		c.LastState = &report.Termination{
			ExitCode: t.ExitCode, Signal: cmp.Or(t.Signal, signalOf(t.ExitCode)), Reason: t.Reason, Message: t.Message,
			StartedAt: t.StartedAt.Time, FinishedAt: t.FinishedAt.Time, Meaning: ExitCodeMeaning(t.ExitCode, t.Reason),
		}
	}
	return c
}

// podReason is the most telling state of a pod, as kubectl's STATUS column would show it.
func podReason(p *corev1.Pod) string {
	if p.Status.Reason != "" {
		return p.Status.Reason
	}
	if c := podstate.Condition(p, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse && c.Reason != "" {
		return c.Reason
	}
	for _, st := range p.Status.InitContainerStatuses {
		if w := st.State.Waiting; w != nil && w.Reason != "" && w.Reason != podstate.ReasonPodInitializing {
			return podstate.InitPrefix + w.Reason
		}
		if t := st.State.Terminated; t != nil && t.ExitCode != 0 {
			return podstate.InitPrefix + cmp.Or(t.Reason, podstate.ReasonError)
		}
	}
	for _, st := range p.Status.ContainerStatuses {
		if w := st.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
		if t := st.State.Terminated; t != nil {
			return cmp.Or(t.Reason, "Terminated")
		}
	}
	for _, st := range p.Status.ContainerStatuses {
		if t := st.LastTerminationState.Terminated; t != nil && t.Reason == podstate.ReasonOOMKilled {
			return podstate.ReasonOOMKilled
		}
	}
	if p.Status.Phase == corev1.PodRunning && !podstate.Ready(p) {
		return "NotReady"
	}
	return ""
}

// Milestones are the moments of a rollout that need no diagnosis: when it began and when each
// of its pods was created. The gate records them for the workloads it does not diagnose
// (healthy, interrupted) too, so that each has its lane in the report's diagram.
func Milestones(revision string, since time.Time, pods []corev1.Pod) []report.Moment {
	var ms []report.Moment
	if !since.IsZero() {
		what := "rollout began"
		if revision != "" {
			what = fmt.Sprintf("rollout of revision %s began", revision)
		}
		ms = append(ms, report.Moment{At: since, What: what, Kind: report.MomentRollout})
	}
	for _, p := range pods {
		if !p.CreationTimestamp.IsZero() {
			ms = append(ms, report.Moment{At: p.CreationTimestamp.Time, What: fmt.Sprintf("pod %s created", p.Name), Kind: report.MomentPod})
		}
	}
	sortMoments(ms)
	return ms
}

// timeline puts the rollout's moments in order: rollout start, pod creation and scheduling,
// container starts and exits, and the telling events. The start, the pods' creation and the
// containers' failed exits are marked as milestones.
func timeline(ev *evidence) []report.Moment {
	ms := Milestones(ev.Revision, ev.Since, ev.Pods)
	add := func(at time.Time, format string, a ...any) {
		if !at.IsZero() {
			ms = append(ms, report.Moment{At: at, What: fmt.Sprintf(format, a...)})
		}
	}
	// exited records a container's end, a crash unless it exited 0 of its own accord.
	exited := func(t *corev1.ContainerStateTerminated, kind, container, pod string) {
		if t.FinishedAt.IsZero() {
			return
		}
		m := report.Moment{At: t.FinishedAt.Time, What: fmt.Sprintf("%s %s of pod %s terminated: exit %d%s", kind, container, pod, t.ExitCode, reasonSuffix(t.Reason))}
		if t.ExitCode != 0 || t.Signal != 0 || t.Reason == podstate.ReasonOOMKilled {
			m.Kind = report.MomentCrash
		}
		ms = append(ms, m)
	}
	for _, p := range ev.Pods {
		if c := podstate.Condition(&p, corev1.PodScheduled); c != nil {
			if c.Status == corev1.ConditionTrue {
				add(c.LastTransitionTime.Time, "pod %s scheduled on node %s", p.Name, p.Spec.NodeName)
			} else {
				add(c.LastTransitionTime.Time, "pod %s unschedulable: %s", p.Name, firstLine(c.Message, 200))
			}
		}
		all := append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...)
		for i, st := range all {
			kind := "container"
			if i < len(p.Status.InitContainerStatuses) {
				kind = "init container"
			}
			if t := st.LastTerminationState.Terminated; t != nil {
				add(t.StartedAt.Time, "%s %s of pod %s started", kind, st.Name, p.Name)
				exited(t, kind, st.Name, p.Name)
			}
			if r := st.State.Running; r != nil {
				restart := ""
				if st.RestartCount > 0 {
					restart = fmt.Sprintf(" (restart %d)", st.RestartCount)
				}
				add(r.StartedAt.Time, "%s %s of pod %s started%s", kind, st.Name, p.Name, restart)
			}
			if t := st.State.Terminated; t != nil {
				add(t.StartedAt.Time, "%s %s of pod %s started", kind, st.Name, p.Name)
				exited(t, kind, st.Name, p.Name)
			}
		}
	}
	for _, g := range groupEvents(ev.Events) {
		if g.Type != corev1.EventTypeWarning && g.Reason != podstate.EventKilling {
			continue
		}
		what := fmt.Sprintf("%s %s on %s: %s", g.Type, g.Reason, g.Object, firstLine(g.Message, 200))
		if g.Count > 1 {
			what += fmt.Sprintf(" (x%d, last at %s)", g.Count, g.LastSeen.UTC().Format(time.TimeOnly))
		}
		add(g.FirstSeen, "%s", what)
	}
	sortMoments(ms)
	ms = slices.CompactFunc(ms, func(a, b report.Moment) bool { return a.At.Equal(b.At) && a.What == b.What })
	if len(ms) > maxMoments {
		ms = ms[:maxMoments]
	}
	return ms
}

func sortMoments(ms []report.Moment) {
	slices.SortStableFunc(ms, func(a, b report.Moment) int { return a.At.Compare(b.At) })
}

func reasonSuffix(r string) string {
	if r == "" || strings.EqualFold(r, podstate.ReasonError) {
		return ""
	}
	return " (" + r + ")"
}
