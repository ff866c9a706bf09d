package diagnose

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rollout-gate/rollout-gate/internal/logparse"
	"github.com/rollout-gate/rollout-gate/internal/podtemplate"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// noTermination: CrashLoopBackOff with no termination on record and nothing in the log.
func noTermination(c *containerCtx) report.Finding {
	f := c.base(report.CauseUnknown, report.ConfidenceLow)
	f.Summary = c.label() + " is in CrashLoopBackOff but no termination was recorded and its log does not say why"
	f.Evidence = appendNonEmpty(f.Evidence, c.restartLine())
	f.Fix = []string{c.cmdLogs(), c.ev.cmdDescribePod(c.pod.Name)}
	return f
}

// unexplainedExit: the container keeps exiting and no rule before this one explains it.
func unexplainedExit(c *containerCtx) report.Finding {
	f := c.base(report.CauseUnknown, report.ConfidenceLow)
	f.Summary = fmt.Sprintf("%s keeps exiting with code %d and its log does not say why", c.label(), c.term.ExitCode)
	f.Detail = "no configuration error, dependency failure, crash signature, OOM kill or probe kill was found; the log tail and exit code are below"
	if len(c.logs.Lines) == 0 {
		f.Detail = "its log is empty: the process exits before writing anything (check command, args and the image's entrypoint)"
	}
	f.Evidence = appendNonEmpty(f.Evidence, c.exitLine(), c.restartLine())
	f.Fix = []string{c.cmdLogs(), c.ev.cmdDescribePod(c.pod.Name)}
	f.Fix = append(f.Fix, c.ev.cmdUndo()...)
	return f
}

// probeKills are the kubelet's "Container api failed liveness probe, will be restarted" events
// (podstate.ProbeKill).
func (c *containerCtx) probeKills() []corev1.Event {
	var out []corev1.Event
	for _, e := range c.events {
		if _, ok := podstate.ProbeKill(&e); ok {
			out = append(out, e)
		}
	}
	return out
}

// probeFailures are the Unhealthy events of one probe kind (podstate.ParseProbeEvent).
func (c *containerCtx) probeFailures(kind podstate.ProbeKind) []corev1.Event {
	var out []corev1.Event
	for _, e := range c.events {
		if pe, ok := podstate.ParseProbeEvent(&e); ok && pe.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// probe is the container's probe of kind, or nil.
func (c *containerCtx) probe(kind podstate.ProbeKind) *corev1.Probe {
	return podstate.ProbeOf(c.spec, kind)
}

// oomKilled: runbook root cause 3.
func oomKilled(c *containerCtx) report.Finding {
	ev := c.ev
	f := c.base(report.CauseOOMKilled, report.ConfidenceHigh)
	var limit, request string
	if c.spec != nil {
		if q, ok := c.spec.Resources.Limits[corev1.ResourceMemory]; ok {
			limit = q.String()
		}
		if q, ok := c.spec.Resources.Requests[corev1.ResourceMemory]; ok {
			request = q.String()
		}
	}
	req := request
	if req == "" {
		req = "none"
	}
	if limit != "" {
		f.Summary = fmt.Sprintf("%s is killed by the OOM killer: it needs more than its %s memory limit", c.label(), limit)
		f.Detail = fmt.Sprintf("resources of %s: limits.memory %s, requests.memory %s", c.label(), limit, req)
	} else {
		f.Summary = c.label() + " is killed by the OOM killer although it has no memory limit: the node ran out of memory"
		f.Detail = fmt.Sprintf("%s sets no limits.memory (requests.memory %s), so the kernel killed it for the node's sake", c.label(), req)
	}
	f.Evidence = append(f.Evidence, c.oomExitLines()...)
	f.Evidence = appendNonEmpty(f.Evidence, c.restartLine())
	if node := ev.Nodes[c.pod.Spec.NodeName]; node != nil {
		if p := nodePressures(node); len(p) > 0 {
			f.Evidence = append(f.Evidence, fmt.Sprintf("node %s reports %s", node.Name, strings.Join(p, ", ")))
		}
	}
	newLimit := "<2x current>"
	if c.spec != nil {
		if q, ok := c.spec.Resources.Limits[corev1.ResourceMemory]; ok {
			newLimit = doubleQuantity(q)
		}
	}
	if ch, ok := changeFor(ev.Changes, c.path()+".resources.limits.memory"); ok {
		f.Change = describeChange("memory limit of "+c.label(), ch)
		if prev := ch.Before; prev != "" && c.spec != nil {
			if pq, err := parseQuantity(prev); err == nil {
				cur := c.spec.Resources.Limits[corev1.ResourceMemory]
				if pq.Cmp(cur) > 0 {
					newLimit = prev
				}
			}
		}
	}
	if limit == "" {
		newLimit = "<limit>"
	}
	f.Fix = []string{
		command("kubectl", "top", "pod", c.pod.Name, "--containers", ev.ns()),
		ev.cmdSetResources(c.st.Name, "--limits=memory="+newLimit),
	}
	if limit == "" {
		f.Fix[1] = ev.cmdSetResources(c.st.Name, "--requests=memory=<expected use>", "--limits=memory=<limit>")
	}
	f.Fix = append(f.Fix, note("if memory grows without bound, it is a leak: profile the app (pprof, jmap, memory_profiler)"))
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	if f.Change != "" {
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

// oomExitLines describes the OOM kill once. When the latest exit is a plain SIGKILL (137,
// "Error") right after an OOM kill of the same container, as the runtime sometimes reports a
// second OOM kill, it quotes the OOM kill and says once what the 137 after it is, instead of the
// meaning of a lone 137 ("killed from outside, not OOMKilled"), which would contradict it.
func (c *containerCtx) oomExitLines() []string {
	prev, again := podstate.SIGKILLAfterOOM(c.st)
	if !again {
		return appendNonEmpty(nil, c.exitLine())
	}
	latest := fmt.Sprintf("its latest exit, code %d (%s)", c.term.ExitCode, orStr(c.term.Reason, "no reason"))
	if !c.term.StartedAt.IsZero() && c.term.FinishedAt.After(c.term.StartedAt.Time) {
		latest += " after running " + roundDur(c.term.FinishedAt.Sub(c.term.StartedAt.Time))
	}
	return []string{
		c.exitLineOf(prev, "exited"),
		latest + ", is the same OOM kill again: a SIGKILL right after an OOM kill of the same container, which the runtime did not flag as OOMKilled this time",
	}
}

var (
	reStatusCode   = regexp.MustCompile(`statuscode: (\d{3})`)
	reProbeTimeout = regexp.MustCompile(`(?i)context deadline exceeded|Client\.Timeout|timeout|timed out`)
	reProbeRefused = regexp.MustCompile(`(?i)connection refused|connect: connection reset|no route to host|EOF`)
)

// probeKill: the kubelet kills the container because its liveness (or startup) probe fails
// (runbook root cause 5). It works out which of the usual mistakes it is: a wrong path (4xx),
// a wrong port (the app logs a different one), a start-up slower than the probe allows, or a
// timeout; and proposes the matching change, a startupProbe for slow starts.
func probeKill(c *containerCtx, kills []corev1.Event) report.Finding {
	ev := c.ev
	probeKind := podstate.Liveness
	if slices.ContainsFunc(kills, func(e corev1.Event) bool { k, _ := podstate.ProbeKill(&e); return k == podstate.Startup }) ||
		len(kills) == 0 && len(c.probeFailures(podstate.Liveness)) == 0 {
		probeKind = podstate.Startup
	}
	kind := probeKind.Lower()
	f := c.base(report.CauseLivenessProbe, report.ConfidenceHigh)
	probe := c.probe(probeKind)
	fails := c.probeFailures(probeKind)
	var answers []string
	for _, e := range fails {
		a := strings.TrimSpace(strings.TrimPrefix(e.Message, string(probeKind)+" probe failed:"))
		if !slices.Contains(answers, a) {
			answers = append(answers, a)
		}
	}
	allAnswers := strings.Join(answers, " | ")
	handler := "the probe"
	probePort := ""
	if probe != nil {
		handler = podtemplate.ProbeHandler(probe)
		probePort = c.resolvePort(probePortOf(probe))
	}
	for _, e := range fails {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	for _, e := range kills {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	f.Evidence = appendNonEmpty(f.Evidence, c.exitLine(), c.restartLine())
	if t := c.term; t != nil {
		switch {
		case t.ExitCode == 0:
			f.Evidence = append(f.Evidence, "exit 0 (Completed) after a liveness kill: the app shut down cleanly on SIGTERM; this is a probe kill, not a crash or an OOM")
		case t.ExitCode == 137:
			f.Evidence = append(f.Evidence, "exit 137 without OOMKilled: the app ignored SIGTERM and was SIGKILLed after the grace period; not an OOM")
		case t.ExitCode == 143:
			f.Evidence = append(f.Evidence, "exit 143: the app died of the kubelet's SIGTERM instead of handling it")
		}
	}

	// What start-up took, against what the probe allows before it kills.
	observed, obsText := c.observedStartup()
	if obsText != "" {
		f.Evidence = append(f.Evidence, obsText)
	}
	soonest, killAfter, budgetText := c.probeBudget(probeKind)
	listenIdx, listenPort := logparse.ListenLine(c.logs.Lines)

	status := ""
	if m := reStatusCode.FindStringSubmatch(allAnswers); m != nil {
		status = m[1]
	}
	// The probe's change in this rollout, if any.
	ch, changed := changeFor(ev.Changes, c.path()+"."+probeField(probeKind))
	prevProbe := c.previousProbe(probeKind)
	cpath := ev.containerPath(c.st.Name, c.init) + "/" + probeField(probeKind)
	var fix []string
	switch {
	case status != "" && status[0] == '4':
		f.Summary = fmt.Sprintf("the %s probe kills %s: %s answers HTTP %s", kind, c.label(), handler, status)
		path := "<the health path>"
		if prevProbe != nil && prevProbe.HTTPGet != nil && probe != nil && probe.HTTPGet != nil && prevProbe.HTTPGet.Path != probe.HTTPGet.Path {
			path = prevProbe.HTTPGet.Path
		}
		f.Detail = fmt.Sprintf("%sProbe of %s: %s; HTTP %s means the path does not exist (or needs auth), so every check fails and the kubelet restarts a possibly healthy app", kind, c.label(), podtemplate.Probe(probe), status)
		if probe != nil && probe.HTTPGet != nil {
			fix = append(fix, command("kubectl", "exec", c.pod.Name, "-c", c.st.Name, ev.ns(), "--", "wget", "-qO-", "http://localhost:"+probePort+path))
			fix = append(fix, ev.cmdJSONPatch(map[string]any{"op": "replace", "path": cpath + "/httpGet/path", "value": path}))
		}
	case listenPort != "" && probePort != "" && listenPort != probePort && reProbeRefused.MatchString(allAnswers):
		f.Summary = fmt.Sprintf("the %s probe kills %s: it checks port %s but the app listens on %s", kind, c.label(), probePort, listenPort)
		f.Detail = fmt.Sprintf("%sProbe of %s: %s; the app logs: %s", kind, c.label(), podtemplate.Probe(probe), strings.TrimSpace(c.logs.Lines[listenIdx]))
		port, _ := strconv.Atoi(listenPort)
		if probe != nil && probe.HTTPGet != nil {
			fix = append(fix, ev.cmdJSONPatch(map[string]any{"op": "replace", "path": cpath + "/httpGet/port", "value": port}))
		} else if probe != nil && probe.TCPSocket != nil {
			fix = append(fix, ev.cmdJSONPatch(map[string]any{"op": "replace", "path": cpath + "/tcpSocket/port", "value": port}))
		}
	case (reProbeRefused.MatchString(allAnswers) || reProbeTimeout.MatchString(allAnswers) || allAnswers == "") &&
		(observed > 0 && killAfter > 0 && observed >= soonest || observed == 0 && listenIdx < 0 && c.hasLogs && c.logs.Previous):
		need := observed
		if need == 0 && c.term != nil && !c.term.StartedAt.IsZero() && !c.term.FinishedAt.IsZero() {
			need = c.term.FinishedAt.Sub(c.term.StartedAt.Time)
		}
		if observed > 0 {
			f.Summary = fmt.Sprintf("the %s probe kills %s before it finishes starting: start-up takes about %s, the probe allows about %s", kind, c.label(), roundDur(observed), roundDur(killAfter))
		} else {
			f.Summary = fmt.Sprintf("the %s probe kills %s before it finishes starting: it never reported listening before the kill", kind, c.label())
		}
		f.Detail = fmt.Sprintf("%sProbe of %s: %s; %s", kind, c.label(), podtemplate.Probe(probe), budgetText)
		if probe != nil {
			sp := startupProbeFor(probe, need)
			if kind == "startup" {
				fix = append(fix, ev.cmdJSONPatch(map[string]any{"op": "replace", "path": cpath + "/failureThreshold", "value": sp["failureThreshold"]}))
			} else {
				fix = append(fix, note("give start-up its own budget with a startupProbe; liveness takes over once it succeeds:"))
				fix = append(fix, ev.cmdJSONPatch(map[string]any{"op": "add", "path": ev.containerPath(c.st.Name, c.init) + "/startupProbe", "value": sp}))
			}
		}
	case reProbeTimeout.MatchString(allAnswers):
		timeout := int32(podstate.WithDefaults(probe).Timeout / time.Second)
		f.Summary = fmt.Sprintf("the %s probe kills %s: %s does not answer within timeoutSeconds %d", kind, c.label(), handler, timeout)
		f.Detail = fmt.Sprintf("%sProbe of %s: %s; the answers time out: %s", kind, c.label(), podtemplate.Probe(probe), firstLine(allAnswers, 300))
		f.Confidence = report.ConfidenceMedium
		fix = append(fix, ev.cmdJSONPatch(map[string]any{"op": "add", "path": cpath + "/timeoutSeconds", "value": max(5, 2*timeout)}))
	default:
		f.Summary = fmt.Sprintf("the %s probe kills %s: %s fails", kind, c.label(), handler)
		if allAnswers != "" {
			f.Summary += " (" + firstLine(answers[0], 120) + ")"
		}
		f.Detail = fmt.Sprintf("%sProbe of %s: %s", kind, c.label(), podtemplate.Probe(probe))
		if status != "" && status[0] == '5' {
			f.Detail += fmt.Sprintf("; HTTP %s means the app itself reports unhealthy: its log says why", status)
		}
		if ds := c.logFacts().dials; len(ds) > 0 {
			f.Detail += fmt.Sprintf("; its log shows it cannot reach %s (%s)", hostPortOf(ds[0]), ds[0].Kind)
		}
		f.Confidence = report.ConfidenceMedium
		fix = append(fix, c.cmdLogs())
	}
	if delay := podstate.WithDefaults(probe).InitialDelay; probe != nil && probeKind == podstate.Liveness && delay > 0 && observed > delay && c.spec != nil && c.spec.StartupProbe == nil {
		f.Evidence = append(f.Evidence, fmt.Sprintf("observed start-up %s is longer than initialDelaySeconds %d: the probe fails until the app is up", roundDur(observed), int(delay.Seconds())))
	}
	if changed {
		f.Change = describeChange(kind+"Probe of "+c.label(), ch)
	}
	f.Fix = append([]string{c.ev.cmdDescribePod(c.pod.Name)}, fix...)
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	if changed {
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	return f
}

func probePortOf(p *corev1.Probe) intstr.IntOrString {
	switch {
	case p.HTTPGet != nil:
		return p.HTTPGet.Port
	case p.TCPSocket != nil:
		return p.TCPSocket.Port
	case p.GRPC != nil:
		return intstr.FromInt32(p.GRPC.Port)
	}
	return intstr.IntOrString{}
}

// resolvePort turns a named port into its number using the container's ports.
func (c *containerCtx) resolvePort(p intstr.IntOrString) string {
	if p.Type == intstr.Int {
		if p.IntVal == 0 {
			return ""
		}
		return strconv.Itoa(int(p.IntVal))
	}
	if c.spec != nil {
		for _, cp := range c.spec.Ports {
			if cp.Name == p.StrVal {
				return strconv.Itoa(int(cp.ContainerPort))
			}
		}
	}
	return p.StrVal
}

func (c *containerCtx) previousProbe(kind podstate.ProbeKind) *corev1.Probe {
	if c.ev.Previous == nil {
		return nil
	}
	list := c.ev.Previous.Spec.Containers
	if c.init {
		list = c.ev.Previous.Spec.InitContainers
	}
	for i := range list {
		if list[i].Name == c.st.Name {
			return podstate.ProbeOf(&list[i], kind)
		}
	}
	return nil
}

// observedStartup is how long the app took to start: stated in its log ("after 22s"), or from
// the container's start to its "listening" line (when the log has timestamps).
func (c *containerCtx) observedStartup() (time.Duration, string) {
	lines := c.logs.Lines
	if d, i, ok := logparse.StartupTime(lines); ok {
		return d, fmt.Sprintf("observed start-up: %s (%s)", roundDur(d), strings.TrimSpace(lines[i]))
	}
	idx, _ := logparse.ListenLine(lines)
	if idx >= 0 && idx < len(c.logs.Times) && !c.logs.Times[idx].IsZero() {
		var started time.Time
		if c.logs.Previous && c.st.LastTerminationState.Terminated != nil {
			started = c.st.LastTerminationState.Terminated.StartedAt.Time
		} else if c.st.State.Running != nil {
			started = c.st.State.Running.StartedAt.Time
		}
		if !started.IsZero() && c.logs.Times[idx].After(started) {
			d := c.logs.Times[idx].Sub(started)
			return d, fmt.Sprintf("observed start-up: %s from container start to %q", roundDur(d), strings.TrimSpace(lines[idx]))
		}
	}
	if c.st.Ready && c.st.State.Running != nil {
		if ready := podstate.ReadySince(c.pod); ready.After(c.st.State.Running.StartedAt.Time) {
			d := ready.Sub(c.st.State.Running.StartedAt.Time)
			return d, fmt.Sprintf("observed start-up: %s from container start to ready", roundDur(d))
		}
	}
	if idx < 0 && c.hasLogs && c.logs.Previous && c.term != nil && !c.term.StartedAt.IsZero() && !c.term.FinishedAt.IsZero() {
		return 0, fmt.Sprintf("the previous instance ran %s and never logged that it was listening", roundDur(c.term.FinishedAt.Sub(c.term.StartedAt.Time)))
	}
	return 0, ""
}

// probeBudget is how long after its start the probe kind kills a container that is not up yet:
// soonest, the soonest the kubelet can act, and latest, its kill window from the start
// (podstate.Probe.FromStart, the window the watch states too), with the text that says how the
// window adds up. A liveness probe behind a startup probe counts from the end of the startup
// probe's own window.
func (c *containerCtx) probeBudget(kind podstate.ProbeKind) (soonest, latest time.Duration, text string) {
	p := c.probe(kind)
	if p == nil {
		return 0, 0, ""
	}
	timing := podstate.WithDefaults(p)
	soonest, latest = timing.SoonestKill(), timing.FromStart()
	text = fmt.Sprintf("the %s probe kills a container that is not answering within %s", kind.Lower(), timing.Explain())
	if kind == podstate.Liveness && c.spec != nil && c.spec.StartupProbe == nil {
		text += ", and there is no startupProbe"
	}
	if kind == podstate.Liveness && c.spec != nil && c.spec.StartupProbe != nil {
		sd := podstate.WithDefaults(c.spec.StartupProbe).FromStart()
		text += fmt.Sprintf(" after the startupProbe's window of %s", roundDur(sd))
		soonest, latest = soonest+sd, latest+sd
	}
	return soonest, latest, text
}

// startupProbeFor copies the liveness check into a startupProbe that allows need with room to
// spare (at least the runbook's 30 × 5s = 150s).
func startupProbeFor(p *corev1.Probe, need time.Duration) map[string]any {
	threshold := max(30, int(math.Ceil(need.Seconds()*2/5)))
	sp := map[string]any{"periodSeconds": 5, "failureThreshold": threshold}
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		g := map[string]any{"path": h.HTTPGet.Path, "port": h.HTTPGet.Port}
		if h.HTTPGet.Scheme != "" {
			g["scheme"] = h.HTTPGet.Scheme
		}
		sp["httpGet"] = g
	case h.TCPSocket != nil:
		sp["tcpSocket"] = map[string]any{"port": h.TCPSocket.Port}
	case h.GRPC != nil:
		sp["grpc"] = map[string]any{"port": h.GRPC.Port}
	case h.Exec != nil:
		sp["exec"] = map[string]any{"command": h.Exec.Command}
	}
	return sp
}

// minNotReadyAge is how long a container must have run before "not ready" counts.
const minNotReadyAge = 30 * time.Second

// notReadyRunning: an app container runs but is not ready, or keeps turning NotReady. This is
// not a crash loop: the kubelet does not restart a container for failing readiness.
func (c *containerCtx) notReadyRunning() bool {
	st := c.st
	return st.State.Running != nil && !c.init &&
		(!st.Ready || c.ev.Reason == podstate.VerdictReadinessFlapping && len(c.probeFailures(podstate.Readiness)) > 0)
}

// tooEarlyToJudge: readiness failures during a normal start are not a finding. Unless the watch
// has already waited out the probe's window (its verdict is podstate.VerdictReadinessProbeFailing
// or VerdictReadinessFlapping), judge only containers that have had time to start, and without
// failure events only after a while.
func (c *containerCtx) tooEarlyToJudge() bool {
	ev := c.ev
	r := c.st.State.Running
	if r == nil || r.StartedAt.IsZero() || ev.Reason == podstate.VerdictReadinessProbeFailing || ev.Reason == podstate.VerdictReadinessFlapping {
		return false
	}
	age := ev.Now.Sub(r.StartedAt.Time)
	failing := len(c.probeFailures(podstate.Readiness)) > 0 || len(c.probeFailures(podstate.Startup)) > 0 || len(c.logFacts().dials) > 0
	return age < minNotReadyAge || !failing && age < 4*minNotReadyAge
}

// startupProbeFailing: the startup probe of a running container keeps failing; the kubelet
// restarts it once the probe's budget runs out.
func startupProbeFailing(c *containerCtx) report.Finding {
	f := c.base(report.CauseLivenessProbe, report.ConfidenceMedium)
	p := c.probe(podstate.Startup)
	_, _, budget := c.probeBudget(podstate.Startup)
	f.Summary = fmt.Sprintf("the startup probe of %s keeps failing; the kubelet will restart it when the budget runs out", c.label())
	f.Detail = fmt.Sprintf("startupProbe of %s: %s; %s", c.label(), podtemplate.Probe(p), budget)
	for _, e := range c.probeFailures(podstate.Startup) {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	f.Fix = []string{c.ev.cmdDescribePod(c.pod.Name), c.cmdLogs()}
	return f
}

// notReadyDependency: a running container that is not ready and whose log shows it cannot reach
// a dependency.
func notReadyDependency(c *containerCtx) report.Finding {
	f := dependency(c, c.logFacts().dials)
	f.Evidence = append(f.Evidence, c.label()+" keeps running (it is not restarted) but is not ready")
	for _, e := range c.probeFailures(podstate.Readiness) {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	return f
}

// notReadyBase starts the finding of a running container that is not ready: the readiness
// failures on record and how long it has run.
func (c *containerCtx) notReadyBase(cause report.Cause, conf report.Confidence) report.Finding {
	f := c.base(cause, conf)
	for _, e := range c.probeFailures(podstate.Readiness) {
		f.Evidence = append(f.Evidence, eventLine(&e))
	}
	if r := c.st.State.Running; r != nil && !r.StartedAt.IsZero() {
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s has been running since %s (%s) with %d %s and is not ready",
			c.label(), r.StartedAt.UTC().Format(time.RFC3339), roundDur(c.ev.Now.Sub(r.StartedAt.Time)), c.st.RestartCount,
			report.Plural(int(c.st.RestartCount), "restart", "restarts")))
	}
	return f
}

// notReadyNoProbe: not ready, and no readiness probe or failure to blame.
func notReadyNoProbe(c *containerCtx) report.Finding {
	f := c.notReadyBase(report.CauseUnknown, report.ConfidenceLow)
	f.Summary = c.label() + " is running but not ready, and it has no readiness probe to blame"
	f.Fix = []string{c.ev.cmdDescribePod(c.pod.Name), c.cmdLogs()}
	return f
}

// readinessFailing: the readiness probe fails, or has never succeeded.
func readinessFailing(c *containerCtx) report.Finding {
	ev := c.ev
	fails := c.probeFailures(podstate.Readiness)
	p := c.probe(podstate.Readiness)
	f := c.notReadyBase(report.CauseReadinessProbe, report.ConfidenceHigh)
	var answers []string
	for _, e := range fails {
		a := strings.TrimSpace(strings.TrimPrefix(e.Message, "Readiness probe failed:"))
		if !slices.Contains(answers, a) {
			answers = append(answers, a)
		}
	}
	handler := "its readiness probe"
	if p != nil {
		handler = podtemplate.ProbeHandler(p)
	}
	erroredOnly := len(fails) > 0 && !slices.ContainsFunc(fails, func(e corev1.Event) bool { return !probeErrored(&e) })
	switch {
	case len(fails) == 0:
		f.Confidence = report.ConfidenceMedium
		f.Summary = fmt.Sprintf("%s runs but never becomes ready: %s has not succeeded (no failure events were recorded)", c.label(), handler)
	case erroredOnly:
		_, detail, _ := strings.Cut(fails[len(fails)-1].Message, ": ")
		f.Summary = fmt.Sprintf("the readiness probe of %s cannot run: %s errors (%s), so it never becomes ready", c.label(), handler, firstLine(detail, 160))
	default:
		ans := firstLine(answers[0], 160)
		if m := reStatusCode.FindStringSubmatch(answers[0]); m != nil {
			ans = "HTTP " + m[1]
		}
		f.Summary = fmt.Sprintf("%s runs but never becomes ready: readiness probe %s fails (%s)", c.label(), handler, ans)
		if ev.Reason == podstate.VerdictReadinessFlapping {
			f.Summary = fmt.Sprintf("%s keeps turning NotReady while it runs: readiness probe %s fails (%s)", c.label(), handler, ans)
		}
	}
	f.Detail = fmt.Sprintf("readinessProbe of %s: %s. A failing readiness probe does not restart the container; it only keeps the pod out of Service endpoints, so the rollout cannot progress", c.label(), podtemplate.Probe(p))
	if erroredOnly {
		f.Detail = fmt.Sprintf("readinessProbe of %s: %s. The kubelet reports each run as errored (result Unknown): it could not run the probe at all, so the container is never marked ready and the rollout cannot progress", c.label(), podtemplate.Probe(p))
	}
	if ev.Reason == podstate.VerdictReadinessProbeFailing && p != nil {
		// The watch failed it once this window (and its margin) had passed; say the same number.
		f.Detail += fmt.Sprintf("; it kept failing past its window of %s", podstate.WithDefaults(p).Explain())
	}
	cpath := ev.containerPath(c.st.Name, c.init) + "/readinessProbe"
	f.Fix = []string{ev.cmdDescribePod(c.pod.Name)}
	if p != nil && p.HTTPGet != nil {
		path := p.HTTPGet.Path
		if pp := c.previousProbe(podstate.Readiness); pp != nil && pp.HTTPGet != nil && pp.HTTPGet.Path != path {
			path = pp.HTTPGet.Path
		} else if strings.Contains(strings.Join(answers, " "), "statuscode: 404") {
			path = "<the readiness path>"
		}
		port := c.resolvePort(p.HTTPGet.Port)
		f.Fix = append(f.Fix, command("kubectl", "exec", c.pod.Name, "-c", c.st.Name, ev.ns(), "--", "wget", "-qO-", "http://localhost:"+port+p.HTTPGet.Path))
		if path != p.HTTPGet.Path {
			f.Fix = append(f.Fix, ev.cmdJSONPatch(map[string]any{"op": "replace", "path": cpath + "/httpGet/path", "value": path}))
		}
	}
	if erroredOnly && p != nil && p.Exec != nil && len(p.Exec.Command) > 0 {
		f.Fix = append(f.Fix, note("run the probe's command as the kubelet does, and see it fail:"),
			command("kubectl", "exec", c.pod.Name, "-c", c.st.Name, ev.ns(), "--", p.Exec.Command),
			note("add the program to the image, or point the probe at one the image has"))
	} else {
		f.Fix = append(f.Fix, c.cmdLogs())
	}
	if ch, ok := changeFor(ev.Changes, c.path()+".readinessProbe"); ok {
		f.Change = describeChange("readinessProbe of "+c.label(), ch)
		f.Fix = append(f.Fix, ev.cmdUndo()...)
	}
	if erroredOnly {
		f.Fix = append(f.Fix, ev.cmdShipAnyway()...)
	}
	return f
}

func hostPortOf(d logparse.DialError) string {
	if d.Port == "" {
		return d.Host
	}
	if strings.Contains(d.Host, ":") {
		return "[" + d.Host + "]:" + d.Port
	}
	return d.Host + ":" + d.Port
}

// appCrash: the application itself fails (runbook root cause 6): a crash signature in the log,
// or an exit code that only the app or its image explains.
func appCrash(c *containerCtx, kind string, line int) report.Finding {
	ev := c.ev
	conf := report.ConfidenceHigh
	if kind == "" {
		conf = report.ConfidenceMedium
	}
	f := c.base(report.CauseAppCrash, conf)
	code := int32(0)
	reason := ""
	if c.term != nil {
		code, reason = c.term.ExitCode, c.term.Reason
	}
	switch {
	case kind != "" && line >= 0:
		f.Summary = fmt.Sprintf("%s crashes at start-up (%s): %s", c.label(), kind, firstLine(c.logs.Lines[line], 200))
	case line >= 0:
		f.Summary = fmt.Sprintf("%s exits with code %d: %s", c.label(), code, firstLine(c.logs.Lines[line], 200))
	default:
		f.Summary = fmt.Sprintf("%s exits with code %d: %s", c.label(), code, ExitCodeMeaning(code, reason))
	}
	f.Detail = fmt.Sprintf("exit code %d: %s", code, ExitCodeMeaning(code, reason))
	if c.spec != nil && (code == 126 || code == 127 || strings.Contains(kind, "entrypoint")) {
		f.Detail += fmt.Sprintf("; command %s, args %s, image %s", orNone(podtemplate.Argv(c.spec.Command)), orNone(podtemplate.Argv(c.spec.Args)), c.spec.Image)
	}
	f.Evidence = appendNonEmpty(f.Evidence, c.logLine(line), c.exitLine(), c.restartLine())
	f.Change = c.codeChange()
	f.Fix = []string{c.cmdLogs()}
	if prev := c.previousImage(); prev != "" {
		f.Fix = append(f.Fix, note("fix the code or the image and deploy it, or go back to the image that worked:"), ev.cmdSetImage(c.st.Name, prev))
	} else {
		f.Fix = append(f.Fix, note("fix the code or Dockerfile, push a new image, then:"), ev.cmdSetImage(c.st.Name, "<fixed image>"))
	}
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	f.Fix = append(f.Fix, ev.cmdUndo()...)
	return f
}

// selfReportedCrash: the app exits non-zero and its last lines say why in its own words
// ("worker pool exhausted, exiting"); that line is the summary, quoted as logged.
func selfReportedCrash(c *containerCtx, line, level int) report.Finding {
	f := appCrash(c, "", line)
	if level >= logparse.ExitsItself {
		f.Confidence = report.ConfidenceHigh
	}
	f.Detail += "; the app says why in its last log lines before it exited"
	return f
}

func orNone(s string) string {
	if s == "" {
		return "(image default)"
	}
	return s
}

// codeChange describes an image, command or args change of this container in this rollout.
func (c *containerCtx) codeChange() string {
	for _, field := range []string{"image", "command", "args"} {
		if ch, ok := changeFor(c.ev.Changes, c.path()+"."+field); ok {
			return describeChange(field+" of "+c.label(), ch)
		}
	}
	return ""
}

// previousImage is the container's image in the previous revision, when this rollout changed it.
func (c *containerCtx) previousImage() string {
	if ch, ok := changeFor(c.ev.Changes, c.path()+".image"); ok {
		return ch.Before
	}
	return ""
}

// startFailure: the runtime cannot start the process (bad entrypoint, missing binary, hook failure).
func startFailure(c *containerCtx, reason, msg string) report.Finding {
	f := c.base(report.CauseAppCrash, report.ConfidenceHigh)
	if strings.Contains(reason, "Hook") {
		f.Summary = fmt.Sprintf("%s cannot start: its lifecycle hook fails (%s)", c.label(), reason)
	} else {
		f.Summary = fmt.Sprintf("%s cannot start: the runtime fails to run its entrypoint (%s)", c.label(), reason)
	}
	f.Detail = firstLine(msg, 500)
	if c.spec != nil {
		f.Detail += fmt.Sprintf("; command %s, args %s, image %s", orNone(podtemplate.Argv(c.spec.Command)), orNone(podtemplate.Argv(c.spec.Args)), c.spec.Image)
	}
	f.Evidence = appendNonEmpty(f.Evidence, reason+": "+firstLine(msg, 300), c.restartLine())
	for _, e := range c.events {
		// Failed and its kin: FailedMount, FailedCreatePodSandBox, ...
		if e.Type == corev1.EventTypeWarning && strings.HasPrefix(e.Reason, podstate.EventFailed) {
			f.Evidence = append(f.Evidence, eventLine(&e))
		}
	}
	f.Change = c.codeChange()
	f.Fix = []string{c.ev.cmdDescribePod(c.pod.Name)}
	if prev := c.previousImage(); prev != "" {
		f.Fix = append(f.Fix, c.ev.cmdSetImage(c.st.Name, prev))
	}
	f.Fix = append(f.Fix, c.ev.cmdUndo()...)
	return f
}

// killedFromOutside: exit 137 without OOMKilled, or 143, and no probe kill on record.
func killedFromOutside(c *containerCtx) report.Finding {
	t := c.term
	f := c.base(report.CauseUnknown, report.ConfidenceLow)
	sig := "SIGKILL"
	if t.ExitCode == 143 {
		sig = "SIGTERM"
	}
	f.Summary = fmt.Sprintf("%s was killed by %s (exit %d) and no OOM kill or probe failure on record explains who sent it", c.label(), sig, t.ExitCode)
	f.Detail = ExitCodeMeaning(t.ExitCode, t.Reason)
	if c.probe(podstate.Liveness) != nil {
		f.Detail += "; the container has a liveness probe: its events may have expired, check them with kubectl describe"
	}
	f.Evidence = appendNonEmpty(f.Evidence, c.exitLine(), c.restartLine())
	f.Fix = []string{c.ev.cmdDescribePod(c.pod.Name), c.cmdLogs()}
	if t.ExitCode == 143 {
		f.Fix = append(f.Fix, note("handle SIGTERM in the app (shut down and exit 0), and find what sends it"))
	}
	return f
}

// exitsZero: the main process finishes (exit 0) although the workload expects it to keep running.
func exitsZero(c *containerCtx) report.Finding {
	f := c.base(report.CauseAppCrash, report.ConfidenceMedium)
	f.Summary = c.label() + " exits with code 0: its process finishes instead of running as a server, so it is restarted again and again"
	f.Detail = ExitCodeMeaning(0, c.term.Reason)
	if c.spec != nil {
		f.Detail += fmt.Sprintf("; command %s, args %s, image %s", orNone(podtemplate.Argv(c.spec.Command)), orNone(podtemplate.Argv(c.spec.Args)), c.spec.Image)
	}
	f.Evidence = appendNonEmpty(f.Evidence, c.exitLine(), c.restartLine())
	f.Change = c.codeChange()
	f.Fix = []string{c.cmdLogs(), note("run the server in the foreground (no daemonising), or use a Job for work that finishes")}
	f.Fix = append(f.Fix, c.ev.cmdUndo()...)
	return f
}

// initFailure: an init container exits non-zero, so the app containers never start (runbook root
// cause 7). The finding quotes the line that says why and names a dependency if that is it.
func initFailure(c *containerCtx) report.Finding {
	ev := c.ev
	f := c.base(report.CauseInitContainer, report.ConfidenceHigh)
	code := int32(0)
	if c.term != nil {
		code = c.term.ExitCode
	}
	lines := c.logs.Lines
	lf := c.logFacts()
	line := -1
	why := ""
	if lf.cfgOK {
		line, why = lf.cfgIdx, "it rejects env "+lf.cfgName
	} else if ds := lf.dials; len(ds) > 0 {
		line, why = ds[0].Line, fmt.Sprintf("it cannot reach %s (%s)", hostPortOf(ds[0]), ds[0].Kind)
		f.Evidence = append(f.Evidence, c.serviceEvidence(ds[0])...)
	} else if lf.sigOK {
		line, why = lf.sig.Line, lf.sig.Kind
	} else if i := logparse.KeyErrorLine(lines); i >= 0 {
		line = i
	}
	f.Summary = fmt.Sprintf("%s fails (exit %d), so the pod never starts its app containers", c.label(), code)
	if line >= 0 {
		f.Summary += ": " + firstLine(lines[line], 200)
	}
	f.Detail = fmt.Sprintf("init containers must exit 0 before the app starts; %s exits %d: %s", c.st.Name, code, ExitCodeMeaning(code, reasonOf(c.term)))
	if why != "" {
		f.Detail += "; " + why
	}
	f.Evidence = appendNonEmpty(f.Evidence, c.logLine(line), c.exitLine(), c.restartLine())
	f.Change = c.codeChange()
	if f.Change == "" {
		if ch, ok := changeFor(ev.Changes, c.path()); ok {
			f.Change = describeChange(c.label(), ch)
		}
	}
	f.Fix = []string{ev.cmdLogs(c.pod.Name, c.st.Name, true), note("fix what it reports, then:")}
	f.Fix = append(f.Fix, ev.cmdRestart()...)
	f.Fix = append(f.Fix, ev.cmdStatus()...)
	f.Fix = append(f.Fix, ev.cmdUndo()...)
	return f
}

func reasonOf(t *corev1.ContainerStateTerminated) string {
	if t == nil {
		return ""
	}
	return t.Reason
}

// stuckInit: an init container has been running a long time (typically waiting for a dependency).
func stuckInit(c *containerCtx) (report.Finding, bool) {
	r := c.st.State.Running
	if r == nil || r.StartedAt.IsZero() || c.ev.Now.Sub(r.StartedAt.Time) < time.Minute {
		return report.Finding{}, false
	}
	ran := roundDur(c.ev.Now.Sub(r.StartedAt.Time))
	if ds := c.logFacts().dials; len(ds) > 0 {
		f := dependency(c, ds)
		f.Summary = fmt.Sprintf("%s has waited %s for %s (%s), so the pod never starts", c.label(), ran, hostPortOf(ds[0]), ds[0].Kind) + dependencyClause(c, ds[0])
		return f, true
	}
	f := c.base(report.CauseInitContainer, report.ConfidenceMedium)
	f.Summary = fmt.Sprintf("%s has been running for %s and has not finished, so the pod never starts", c.label(), ran)
	if n := len(c.logs.Lines); n > 0 {
		f.Detail = "its last log line: " + strings.TrimSpace(c.logs.Lines[n-1])
		if host := waitingFor(c.logs.Lines); host != "" {
			f.Cause = report.CauseDependency
			f.Summary = fmt.Sprintf("%s has waited %s for %s, so the pod never starts", c.label(), ran, host)
		}
	}
	f.Fix = []string{c.ev.cmdLogs(c.pod.Name, c.st.Name, false)}
	return f, true
}

var reWaitingFor = regexp.MustCompile(`(?i)waiting for ([A-Za-z0-9][A-Za-z0-9.\-]*(?::\d{2,5})?)`)

func waitingFor(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if m := reWaitingFor.FindStringSubmatch(lines[i]); m != nil {
			return m[1]
		}
	}
	return ""
}
