package watch

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Policy holds the thresholds the judge applies. The defaults and why they were chosen are in the
// README ("How it decides").
type Policy struct {
	// CrashTolerance is how many crashes (container exits followed by a restart) of any one
	// container of the new revision are tolerated; one more fails the gate. 0 fails on the first.
	CrashTolerance int
	// PendingGrace is how long a pod may stay unschedulable, or retry a transient start-up error
	// (an image pull that timed out, a sandbox error), or a workload may report ReplicaFailure,
	// before the gate fails.
	PendingGrace time.Duration
	// Soak is how long a complete rollout must stay complete before it is called healthy. The
	// soak also lasts until the liveness probe of every new container has had its first run, or,
	// when trouble was seen, its whole kill window (hold.go). 0 turns both off; a liveness probe
	// seen failing still holds the verdict (livenessHold).
	Soak time.Duration
	// ReadinessGrace is added to a readiness probe's own window before a container whose
	// readiness probe keeps failing fails the rollout (see readinessStall).
	ReadinessGrace time.Duration
	// ProgressTimeout fails a rollout that made no progress for this long (progress.go), or for a
	// Deployment's own progressDeadlineSeconds when shorter. 0: only the watch's timeout.
	ProgressTimeout time.Duration
}

// readinessFlapLimit is how many times a new pod may turn NotReady while its containers keep
// running before the rollout fails as flapping: once is a blip, three times is a pattern.
const readinessFlapLimit = 3

// DefaultPolicy is the policy of the CLI's defaults.
func DefaultPolicy() Policy {
	return Policy{CrashTolerance: 1, PendingGrace: 30 * time.Second, Soak: 10 * time.Second, ReadinessGrace: 15 * time.Second,
		ProgressTimeout: 2 * time.Minute}
}

// Snapshot is what the judge sees of one workload at one moment.
type Snapshot struct {
	// Object is the workload as last seen: *appsv1.Deployment, *appsv1.StatefulSet,
	// *appsv1.DaemonSet, *batchv1.Job, or an Argo Rollout as *unstructured.Unstructured.
	Object runtime.Object
	// Pods are the pods of the new revision only.
	Pods []*corev1.Pod
	// CompletedAt is when the rollout was first seen complete in the current stretch of
	// completeness (zero when it is not complete); the judge uses it for the soak.
	CompletedAt time.Time
	// Events are the Warning events of the new revision's pods (Unhealthy probes, FailedMount)
	// and the cluster autoscaler's events on them (TriggeredScaleUp, NotTriggerScaleUp).
	Events []*corev1.Event
	// StartedSeen is when the watch first saw each container run (StartedKey) report
	// `started: true`: the moment its startup probe passed, or later, never earlier.
	StartedSeen map[string]time.Time
	// Flaps counts, per pod name, how often the pod turned from Ready to NotReady while the watch
	// looked and none of its containers restarted.
	Flaps map[string]int
	// ProgressAt is when the rollout last progressed (progress.go); zero: not followed.
	ProgressAt time.Time
	// Claims holds, by claim name, the API's word that a claim of a pod the scheduler holds back
	// can never bind (claims.go): a StorageClass that does not exist.
	Claims map[string]string
}

// Judgement is the judge's answer for one snapshot.
type Judgement struct {
	// Verdict is empty while the rollout is still in progress.
	Verdict report.Verdict
	Reason  string
	Message string
	// Complete is kubectl's notion of a finished rollout with every new pod Ready (the soak may
	// still be running).
	Complete bool
	// Soaking is set while a complete rollout waits out its soak; Held says what holds it beyond
	// the plain soak when that is a probe failure (then the soak must not be cut short).
	Soaking bool
	Held    string
	// SoakEnd is when the soak ends on the judge's clock, and soakWhy what it waits for; the watch
	// restates the line's time on the gate's clock (see soakNote).
	SoakEnd time.Time
	soakWhy string
	// Progress is the one-line state for the progress stream.
	Progress string
	// Failing names the pods whose state caused a failed verdict.
	Failing []string
	// RecheckAt, when set, is the moment the judgement may change without any new event
	// (a grace period or the soak running out).
	RecheckAt time.Time
}

// Evaluate judges one workload. It is pure: everything time-dependent is measured against now.
func Evaluate(s Snapshot, p Policy, now time.Time) Judgement {
	var wl workload.Rollout
	w, forErr := workload.For(s.Object)
	switch w := w.(type) {
	case workload.Completion:
		return evaluateCompletion(w, s, p, now)
	case workload.Rollout:
		wl = w
	}
	j := Judgement{}
	var recheck []time.Time

	// Workload-level failures first: they are what the controller itself has concluded.
	if wl != nil {
		for _, st := range wl.Stalls() {
			switch {
			case st.Failed:
				j.Verdict, j.Reason, j.Message = report.VerdictFailed, st.Reason, st.Message
			case st.DeadlineExceeded:
				j.Verdict, j.Reason, j.Message = report.VerdictFailed, "ProgressDeadlineExceeded", st.Message
			case st.CannotCreate:
				// A LimitRange, PodSecurity or webhook denial is final; a quota may clear when
				// another rollout ends (finality.go).
				msg := workload.DropRepeatedTail(st.Message)
				f, why := classifyMessage(msg)
				until := st.Since.Add(p.PendingGrace)
				switch {
				case f == final:
					j.Verdict, j.Reason = report.VerdictFailed, orDefault(st.Reason, "ReplicaFailure")
					j.Message = fmt.Sprintf("the controller cannot create pods (%s): %s", why, msg)
				case !now.Before(until):
					j.Verdict, j.Reason = report.VerdictFailed, orDefault(st.Reason, "ReplicaFailure")
					j.Message = fmt.Sprintf("the controller cannot create pods for more than %s: %s", p.PendingGrace, msg)
				default:
					recheck = append(recheck, until)
				}
			}
		}
	}

	// Pod-level failures of the new revision: found long before any deadline.
	podNotes, podRecheck := j.judgePods(s.Pods, s, p, now)
	recheck = append(recheck, podRecheck...)

	var msg string
	var done bool
	err := forErr
	if wl != nil {
		msg, done, err = wl.RolloutStatus()
	}
	j.Progress = progressLine(wl, podNotes)
	if err != nil && j.Verdict == "" {
		// kubectl's viewer only errs on a deadline it already saw, or on strategies it cannot
		// track (OnDelete): neither will complete by waiting.
		j.Verdict, j.Reason, j.Message = report.VerdictFailed, "CannotTrack", err.Error()
	}
	if j.Verdict != "" {
		return j
	}
	if done {
		if pods := notReady(s.Pods); len(pods) > 0 {
			// The workload's status lags its pods: a pod that turned NotReady restarts the soak.
			done = false
			msg = "waiting for pods to be ready again: " + strings.Join(pods, ", ")
			j.Progress += "; not ready: " + strings.Join(pods, ", ")
		}
	}
	j.Complete = done
	if !done {
		j.Message = strings.TrimSpace(msg)
		if pw, ok := wl.(workload.Pauser); ok && pw.Pause() != "" {
			// Waiting on a pause (an Argo canary's pause step) for a person to promote it: no
			// lack of progress; --timeout ends it (watch.go timedOut).
			j.RecheckAt = earliest(recheck)
			return j
		}
		recheck = append(recheck, j.noProgress(s, p, now))
		j.RecheckAt = earliest(recheck)
		return j
	}
	// The soak runs from completion or from the last restart of a new-revision container,
	// whichever is later: a container the kubelet restarts at once (a liveness kill) can keep a
	// Deployment available throughout, so "complete" alone is no proof of health. It also lasts
	// until every container's liveness probe has had its first run (hold.go), and while its
	// liveness probe has failed recently.
	start := s.CompletedAt
	if start.IsZero() {
		start = now
	}
	restarted := lastRestart(s.Pods)
	if restarted.After(start) {
		start = restarted
	}
	soakEnd := start.Add(p.Soak)
	why := ""
	if restarted.Equal(start) {
		why = "a container restarted"
	}
	for _, pod := range s.Pods {
		fails := probeFailures(pod, s.Events)
		for _, cs := range podstate.LongRunning(pod) {
			// The liveness hold (hold.go) is part of the soak: --soak 0 turns it off.
			if p.Soak > 0 {
				if end, what := holdEnd(pod, cs, fails, s.StartedSeen[StartedKey(pod, cs)], s.Flaps[pod.Name], now); end.After(soakEnd) {
					soakEnd, why = end, what
				}
			}
			if hold, m := livenessHold(pod, cs, fails); hold.After(now) {
				// Held even when the soak would last longer anyway: a held soak is never cut short.
				j.Held = fmt.Sprintf("%s/%s: %s", pod.Name, cs.Name, m)
				if hold.After(soakEnd) {
					soakEnd, why = hold, ""
				}
			}
		}
	}
	if j.Held != "" {
		why = strings.TrimPrefix(why+"; probe failing: "+j.Held, "; ")
	}
	if (p.Soak == 0 && why == "") || (!s.CompletedAt.IsZero() && !now.Before(soakEnd)) {
		j.Verdict, j.Reason, j.Message = report.VerdictHealthy, "Complete", strings.TrimSpace(msg)
		return j
	}
	j.Soaking, j.SoakEnd, j.soakWhy = true, soakEnd, why
	recheck = append(recheck, soakEnd)
	j.Progress += soakNote(soakEnd, why)
	j.RecheckAt = earliest(recheck)
	return j
}

// soakNote ends the progress line of a soaking rollout: when the soak ends, and what it waits for.
func soakNote(end time.Time, why string) string {
	note := "; complete, soaking until " + end.UTC().Format("15:04:05")
	if why != "" {
		note += " (" + why + ")"
	}
	return note
}

// notReady names the new pods, not being deleted, that are not Ready.
func notReady(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range sortedPods(pods) {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && !podstate.Ready(p) {
			out = append(out, p.Name)
		}
	}
	return out
}

// judgePods applies the pod rules to pods (sorted by name): the first fatal pod gives j its
// verdict, every fatal pod is named in j.Failing. It returns the pods' progress notes and the
// moments their judgement may change.
func (j *Judgement) judgePods(pods []*corev1.Pod, s Snapshot, p Policy, now time.Time) (notes []string, recheck []time.Time) {
	for _, pod := range sortedPods(pods) {
		pj := judgePod(pod, s, p, now)
		if pj.note != "" {
			notes = append(notes, pod.Name+" "+pj.note)
		}
		if !pj.recheck.IsZero() {
			recheck = append(recheck, pj.recheck)
		}
		if pj.fatal && j.Verdict == "" {
			j.Verdict, j.Reason = report.VerdictFailed, pj.reason
			j.Message = fmt.Sprintf("pod %s: %s", pod.Name, pj.message)
		}
		if pj.fatal {
			j.Failing = append(j.Failing, pod.Name)
		}
	}
	return notes, recheck
}

// lastRestart is when a container of these pods last stopped (and was or will be restarted); init
// containers count only when they failed.
func lastRestart(pods []*corev1.Pod) time.Time {
	var last time.Time
	see := func(t *corev1.ContainerStateTerminated, failedOnly bool) {
		if t != nil && (!failedOnly || t.ExitCode != 0) && t.FinishedAt.After(last) {
			last = t.FinishedAt.Time
		}
	}
	for _, p := range pods {
		for _, cs := range p.Status.InitContainerStatuses {
			see(cs.State.Terminated, true)
			see(cs.LastTerminationState.Terminated, false)
		}
		for _, cs := range p.Status.ContainerStatuses {
			see(cs.State.Terminated, false)
			see(cs.LastTerminationState.Terminated, false)
		}
	}
	return last
}

// progressLine is the state of a workload in one line, e.g.
// "1/3 updated, 0/3 available; api-7d4b9c-xkp2z CrashLoopBackOff, restarts 2, last exit 1".
func progressLine(wl workload.Workload, podNotes []string) string {
	var line string
	if wl != nil {
		line = wl.Progress()
	}
	if len(podNotes) > 0 {
		line += "; " + strings.Join(podNotes, "; ")
	}
	return line
}

func sortedPods(pods []*corev1.Pod) []*corev1.Pod {
	out := append([]*corev1.Pod(nil), pods...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func earliest(ts []time.Time) time.Time {
	var min time.Time
	for _, t := range ts {
		if !t.IsZero() && (min.IsZero() || t.Before(min)) {
			min = t
		}
	}
	return min
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
