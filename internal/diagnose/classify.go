package diagnose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// classify names one root cause per failing container (per pod for scheduling and eviction, per
// workload when no pod could be created or none names a cause). It is pure: everything it knows
// is in ev.
func classify(ev *evidence) []report.Finding {
	out := mergeFindings(ev, findingsOf(fire(ev)))
	for i := range out {
		f := &out[i]
		for _, g := range ev.Gaps {
			if !slices.Contains(f.Evidence, g) {
				f.Evidence = append(f.Evidence, g)
			}
		}
		if f.Evidence == nil {
			f.Evidence = []string{}
		}
		if f.Fix == nil {
			f.Fix = []string{}
		}
	}
	return out
}

// failedPod: the kubelet failed the whole pod (admission OutOfcpu, NodeLost, Shutdown, ...).
func failedPod(ev *evidence, pod *corev1.Pod) report.Finding {
	f := report.Finding{Cause: report.CauseUnknown, Pod: pod.Name, Confidence: report.ConfidenceMedium}
	reason := pod.Status.Reason
	if reason == "" {
		reason = string(corev1.PodFailed)
	}
	f.Summary = fmt.Sprintf("the kubelet failed the pod (%s)", reason)
	f.Detail = pod.Status.Message
	if strings.HasPrefix(reason, "OutOf") || reason == "NodeLost" || reason == "Shutdown" || reason == "NodeAffinity" {
		f.Detail = strings.TrimSpace(f.Detail + "; this comes from the node, not from the app: the controller replaces the pod")
	}
	f.Evidence = []string{fmt.Sprintf("pod phase Failed, reason %s: %s", reason, pod.Status.Message)}
	f.Fix = []string{ev.cmdDescribePod(pod.Name)}
	if pod.Spec.NodeName != "" {
		f.Fix = append(f.Fix, command("kubectl", "describe", "node", pod.Spec.NodeName))
	}
	return f
}

// containerCtx is one container of one pod, with what was gathered about it.
type containerCtx struct {
	ev      *evidence
	pod     *corev1.Pod
	st      corev1.ContainerStatus
	spec    *corev1.Container // nil if the spec does not name it
	init    bool
	term    *corev1.ContainerStateTerminated // the most recent termination
	logs    logTail
	hasLogs bool
	events  []corev1.Event
	facts   *logFacts // what the log says, read on first use
}

func newContainerCtx(ev *evidence, pod *corev1.Pod, st corev1.ContainerStatus, init bool) *containerCtx {
	c := &containerCtx{ev: ev, pod: pod, st: st, init: init}
	list := pod.Spec.Containers
	if init {
		list = pod.Spec.InitContainers
	}
	for i := range list {
		if list[i].Name == st.Name {
			c.spec = &list[i]
		}
	}
	c.term = podstate.LastTermination(st)
	c.logs, c.hasLogs = ev.Logs[logKey(pod.Name, st.Name)]
	c.events = ev.podEvents(pod.Name, st.Name)
	return c
}

func (c *containerCtx) sidecar() bool { return c.init && podstate.IsSidecar(c.spec) }

// label is how a finding names the container: "container api" or "init container migrate".
func (c *containerCtx) label() string {
	if c.init && !c.sidecar() {
		return "init container " + c.st.Name
	}
	return "container " + c.st.Name
}

// path is the container's path in Change entries: containers[api] or initContainers[migrate].
func (c *containerCtx) path() string {
	if c.init {
		return "initContainers[" + c.st.Name + "]"
	}
	return "containers[" + c.st.Name + "]"
}

// base starts a finding for this container, with its log excerpt and log read problems.
func (c *containerCtx) base(cause report.Cause, conf report.Confidence) report.Finding {
	f := report.Finding{Cause: cause, Pod: c.pod.Name, Container: c.st.Name, Confidence: conf}
	if c.hasLogs && len(c.logs.Lines) > 0 {
		f.Logs = &report.LogExcerpt{Container: c.st.Name, Previous: c.logs.Previous,
			Lines: slices.Clone(c.logs.Lines), Truncated: c.logs.Truncated}
	}
	if c.hasLogs && c.logs.Err != "" {
		f.Evidence = append(f.Evidence, c.logs.Err)
	}
	return f
}

// exitLine describes the most recent termination: "last exit: code 137 (OOMKilled) after 3.4s: SIGKILL by ...".
func (c *containerCtx) exitLine() string { return c.exitLineOf(c.term, "last exited") }

// exitLineOf describes termination t: "<label> <verb> with code 137 (OOMKilled) after ...".
func (c *containerCtx) exitLineOf(t *corev1.ContainerStateTerminated, verb string) string {
	if t == nil {
		return ""
	}
	s := fmt.Sprintf("%s %s with code %d", c.label(), verb, t.ExitCode)
	if t.Reason != "" {
		s += " (" + t.Reason + ")"
	}
	if !t.StartedAt.IsZero() && t.FinishedAt.After(t.StartedAt.Time) {
		s += " after running " + roundDur(t.FinishedAt.Sub(t.StartedAt.Time))
	}
	s += ": " + ExitCodeMeaning(t.ExitCode, t.Reason)
	if m := strings.TrimSpace(t.Message); m != "" {
		s += "; termination message: " + firstLine(m, 300)
	}
	return s
}

func (c *containerCtx) restartLine() string {
	if c.st.RestartCount == 0 {
		return ""
	}
	return fmt.Sprintf("restarted %d %s", c.st.RestartCount, report.Plural(int(c.st.RestartCount), "time", "times"))
}

// logLine quotes log line i as evidence.
func (c *containerCtx) logLine(i int) string {
	if i < 0 || i >= len(c.logs.Lines) {
		return ""
	}
	which := "log"
	if c.logs.Previous {
		which = "previous log"
	}
	return fmt.Sprintf("%s %s: %s", c.label(), which, strings.TrimSpace(c.logs.Lines[i]))
}

func (c *containerCtx) cmdLogs() string {
	return c.ev.cmdLogs(c.pod.Name, c.st.Name, c.st.RestartCount > 0 || c.st.LastTerminationState.Terminated != nil)
}

// envValues maps the container's variable names to their literal values ("" when they come from
// a reference). Keys of envFrom sources that could be read count as declared.
func (c *containerCtx) envValues() map[string]string {
	m := map[string]string{}
	if c.spec == nil {
		return m
	}
	for _, ef := range c.spec.EnvFrom {
		var info *objectInfo
		switch {
		case ef.SecretRef != nil:
			info = c.ev.Secrets[ef.SecretRef.Name]
		case ef.ConfigMapRef != nil:
			info = c.ev.ConfigMaps[ef.ConfigMapRef.Name]
		}
		if info != nil {
			for _, k := range info.Keys {
				m[ef.Prefix+k] = ""
			}
		}
	}
	for _, e := range c.spec.Env {
		if e.ValueFrom == nil {
			m[e.Name] = e.Value
		} else {
			m[e.Name] = ""
		}
	}
	return m
}

// envVar returns the container's env entry for name.
func (c *containerCtx) envVar(name string) (corev1.EnvVar, bool) {
	if c.spec == nil {
		return corev1.EnvVar{}, false
	}
	for i := len(c.spec.Env) - 1; i >= 0; i-- {
		if c.spec.Env[i].Name == name {
			return c.spec.Env[i], true
		}
	}
	return corev1.EnvVar{}, false
}

// eventsWith returns the container's events of reason whose message contains substr.
func (c *containerCtx) eventsWith(reason, substr string) []corev1.Event {
	var out []corev1.Event
	for _, e := range c.events {
		if e.Reason == reason && strings.Contains(e.Message, substr) {
			out = append(out, e)
		}
	}
	return out
}

// mergeFindings folds identical findings of several pods into one, noting which pods share it:
// the pattern of affected pods is itself a clue (all replicas: the spec; one: that pod or node).
func mergeFindings(ev *evidence, in []report.Finding) []report.Finding {
	type key struct {
		cause              report.Cause
		container, summary string
	}
	idx := map[key]int{}
	pods := map[int][]string{}
	var out []report.Finding
	for _, f := range in {
		k := key{f.Cause, f.Container, f.Summary}
		if i, ok := idx[k]; ok {
			if f.Pod != "" && !slices.Contains(pods[i], f.Pod) {
				pods[i] = append(pods[i], f.Pod)
			}
			continue
		}
		idx[k] = len(out)
		if f.Pod != "" {
			pods[len(out)] = []string{f.Pod}
		}
		out = append(out, f)
	}
	total := max(ev.TotalPods, len(ev.Pods))
	for i := range out {
		ps := pods[i]
		if len(ps) > 1 || (len(ps) == 1 && total > 1) {
			line := fmt.Sprintf("seen in %d of %d pods of this revision: %s", len(ps), total, strings.Join(ps[:min(len(ps), 5)], ", "))
			if len(ps) > 5 {
				line += ", …"
			}
			if len(ps) < total && len(ev.Pods) < total {
				line += fmt.Sprintf(" (%d pods examined)", len(ev.Pods))
			}
			out[i].Evidence = append(out[i].Evidence, line)
		}
	}
	return out
}

func roundDur(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// appendNonEmpty appends the non-empty strings.
func appendNonEmpty(dst []string, ss ...string) []string {
	for _, s := range ss {
		if s != "" {
			dst = append(dst, s)
		}
	}
	return dst
}
