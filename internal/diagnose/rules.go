package diagnose

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/logparse"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Which cause wins is decided here and nowhere else: by the order of the four tables below.
// The walk is the same for each table: the first rule whose match holds writes the finding. A
// writer may still find nothing to say (a volume problem the events do not name, an init
// container that has not run long); then the walk goes on to the next rule. A rule without a
// writer (still-creating, not-ready-too-early) settles that nothing is wrong yet.
//
// For every pod of the revision:
//
//	pod: the kubelet or the scheduler speaks for the whole pod (podRules)
//	  1. evicted
//	  2. unschedulable
//	  3. failed-scheduling
//	containers: the init containers in order (the first failing one blocks the rest, so an init
//	failure wins over anything an app container shows), then every app container (containerRules)
//	  waiting reasons
//	    4. config-ref
//	    5. image-pull
//	    6. start-error-missing-ref
//	    7. probe-kill-events
//	    8. still-creating
//	    9. start-error
//	  termination: OOM before probe kill before what the log says before the exit code
//	   10. oom-killed
//	   11. oom-then-sigkill
//	   12. init-failure
//	   13. probe-kill
//	   14. probe-failing-then-exit
//	   15. config-error
//	   16. dependency
//	   17. crash-signature
//	   18. no-termination
//	   19. killed-from-outside
//	   20. exits-zero
//	   21. self-reported-error
//	   22. exit-code
//	   23. unexplained-exit
//	  running
//	   24. probe-cannot-work
//	   25. not-ready-too-early
//	   26. not-ready-startup-probe
//	   27. not-ready-dependency
//	   28. not-ready-readiness-probe
//	   29. not-ready-no-probe
//	   30. init-stuck
//	fallbacks: only when no container named a cause (or only unknown ones); each sees what the
//	one before it wrote and may replace it (podFallbacks)
//	   31. pod-volume
//	   32. node-pressure
//	   33. pod-failed
//
// Then once for the workload, with the findings of all its pods (workloadRules); its finding
// stands first, next to the pods' findings:
//
//	   34. job-deadline
//	   35. create-denied
//	   36. unknown-workload

// A rule names one cause from the gathered evidence of a pod (T = *podCtx), of a container
// (T = *containerCtx) or of the workload (T = *workloadCtx).
type rule[T any] struct {
	name string
	// causes are what the finding can name, the usual one first; a rule of the config or volume
	// family tells the missing object from the missing key only when it writes.
	causes []report.Cause
	match  func(T) bool
	// write makes the finding; false: nothing to say after all, the walk goes on. A nil write
	// means the rule settles that there is nothing wrong yet, and the walk stops.
	write func(T) (report.Finding, bool)
}

// fired is a finding with the name of the rule that wrote it.
type fired struct {
	rule    string
	finding report.Finding
}

// walk runs the table on x: the first rule that matches and writes decides. ok is false when no
// rule wrote; name is the rule that stopped the walk, if any.
func walk[T any](rules []rule[T], x T) (name string, f report.Finding, ok bool) {
	for _, r := range rules {
		if !r.match(x) {
			continue
		}
		if r.write == nil {
			return r.name, report.Finding{}, false
		}
		if f, ok := r.write(x); ok {
			return r.name, f, true
		}
	}
	return "", report.Finding{}, false
}

// podCtx is one pod, with what was gathered, and the findings of its containers once known.
type podCtx struct {
	ev    *evidence
	pod   *corev1.Pod
	found []fired
}

func (p *podCtx) noCause() bool { return len(p.found) == 0 }

// only wraps a writer that cannot decline.
func only[T any](w func(T) report.Finding) func(T) (report.Finding, bool) {
	return func(x T) (report.Finding, bool) { return w(x), true }
}

var podRules = []rule[*podCtx]{
	{name: "evicted", causes: causes(report.CauseNodePressure),
		match: func(p *podCtx) bool { return p.pod.Status.Reason == podstate.ReasonEvicted },
		write: only(func(p *podCtx) report.Finding { return evicted(p.ev, p.pod) })},
	{name: "unschedulable", causes: causes(report.CauseUnschedulable, report.CauseNodePressure, report.CauseMissingStorageClass),
		match: func(p *podCtx) bool { return unschedulableCondition(p.pod) != nil },
		write: only(func(p *podCtx) report.Finding { return unschedulable(p.ev, p.pod, unschedulableCondition(p.pod)) })},
	{name: "failed-scheduling", causes: causes(report.CauseUnschedulable, report.CauseNodePressure, report.CauseMissingStorageClass),
		match: func(p *podCtx) bool { return failedScheduling(p) != nil },
		write: only(func(p *podCtx) report.Finding {
			e := failedScheduling(p)
			return unschedulable(p.ev, p.pod, &corev1.PodCondition{Message: e.Message, Reason: corev1.PodReasonUnschedulable})
		})},
}

var containerRules = []rule[*containerCtx]{
	// Waiting reasons: the kubelet says why the container does not run.
	{name: "config-ref", causes: configCauses,
		match: waitingIn(podstate.ReasonCreateContainerConfigError),
		write: only(func(c *containerCtx) report.Finding { return configRefProblem(c, c.st.State.Waiting.Message) })},
	{name: "image-pull", causes: causes(report.CauseImagePull),
		match: func(c *containerCtx) bool {
			return c.st.State.Waiting != nil && podstate.Waiting(c.st.State.Waiting.Reason).Family == podstate.FamilyImage
		},
		write: only(func(c *containerCtx) report.Finding { return imagePull(c, c.st.State.Waiting) })},
	{name: "start-error-missing-ref", causes: configCauses,
		match: func(c *containerCtx) bool {
			return c.st.State.Waiting != nil && podstate.StartFailed(c.st.State.Waiting.Reason)
		},
		write: func(c *containerCtx) (report.Finding, bool) { return missingFromMessage(c, c.st.State.Waiting.Message) }},
	// The kubelet's own word that it killed the container for its liveness (or startup) probe,
	// with the failures that led to it, is enough even when the status on hand shows no crash
	// yet (a restart between two syncs: waiting to be created again, or running with no last
	// state) and the log could not be read: one failed read never erases the evidence.
	{name: "probe-kill-events", causes: causes(report.CauseLivenessProbe),
		match: func(c *containerCtx) bool {
			return !c.crashed() && len(c.probeKills()) > 0 &&
				(len(c.probeFailures(podstate.Liveness)) > 0 || len(c.probeFailures(podstate.Startup)) > 0)
		},
		write: only(func(c *containerCtx) report.Finding { return probeKill(c, c.probeKills()) })},
	{name: "still-creating",
		match: waitingIn(podstate.ReasonContainerCreating, podstate.ReasonPodInitializing, "")},
	{name: "start-error", causes: causes(report.CauseAppCrash),
		match: func(c *containerCtx) bool {
			if w := c.st.State.Waiting; w != nil && podstate.StartFailed(w.Reason) {
				return true
			}
			return c.term != nil && podstate.StartFailed(c.term.Reason) && (c.st.State.Terminated != nil || c.crashed())
		},
		write: only(func(c *containerCtx) report.Finding {
			if w := c.st.State.Waiting; w != nil && podstate.StartFailed(w.Reason) {
				return startFailure(c, w.Reason, w.Message)
			}
			return startFailure(c, c.term.Reason, c.term.Message)
		})},

	// Termination: the container ran and exited. OOM is certain from the kubelet; a probe kill
	// explains exits 0/137/143; then what the log says; then the exit code.
	{name: "oom-killed", causes: causes(report.CauseOOMKilled),
		match: crashedAnd(func(c *containerCtx) bool { return c.term != nil && c.term.Reason == podstate.ReasonOOMKilled }),
		write: only(oomKilled)},
	// A SIGKILL right after an OOM kill of the same container: the runtime does not always flag
	// the second one (podstate.SIGKILLAfterOOM).
	{name: "oom-then-sigkill", causes: causes(report.CauseOOMKilled),
		match: crashedAnd(func(c *containerCtx) bool { _, again := podstate.SIGKILLAfterOOM(c.st); return again }),
		write: only(oomKilled)},
	{name: "init-failure", causes: causes(report.CauseInitContainer),
		match: crashedAnd(func(c *containerCtx) bool { return c.init && !c.sidecar() }),
		write: only(initFailure)},
	{name: "probe-kill", causes: causes(report.CauseLivenessProbe),
		match: crashedAnd(func(c *containerCtx) bool {
			lf := c.logFacts()
			return len(c.probeKills()) > 0 && (c.term == nil || killExit(c.term) || !lf.cfgOK && !lf.sigOK && len(lf.dials) == 0)
		}),
		write: only(func(c *containerCtx) report.Finding { return probeKill(c, c.probeKills()) })},
	// The Killing event may have expired or not be written yet; failing liveness checks and an
	// exit that a kill explains are enough.
	{name: "probe-failing-then-exit", causes: causes(report.CauseLivenessProbe),
		match: crashedAnd(func(c *containerCtx) bool {
			return len(c.probeKills()) == 0 && c.term != nil && killExit(c.term) &&
				(len(c.probeFailures(podstate.Liveness)) > 0 || len(c.probeFailures(podstate.Startup)) > 0)
		}),
		write: only(func(c *containerCtx) report.Finding {
			f := probeKill(c, nil)
			f.Confidence = report.ConfidenceMedium
			return f
		})},
	{name: "config-error", causes: causes(report.CauseConfigError),
		match: crashedAnd(func(c *containerCtx) bool { return c.logFacts().cfgOK }),
		write: only(func(c *containerCtx) report.Finding { return configError(c, c.logFacts().cfgName, c.logFacts().cfgIdx) })},
	{name: "dependency", causes: causes(report.CauseDependency),
		match: crashedAnd(func(c *containerCtx) bool { return len(c.logFacts().dials) > 0 }),
		write: only(func(c *containerCtx) report.Finding { return dependency(c, c.logFacts().dials) })},
	{name: "crash-signature", causes: causes(report.CauseAppCrash),
		match: crashedAnd(func(c *containerCtx) bool { return c.logFacts().sigOK }),
		write: only(func(c *containerCtx) report.Finding {
			return appCrash(c, c.logFacts().sig.Kind, c.logFacts().sig.Line)
		})},
	{name: "no-termination", causes: causes(report.CauseUnknown),
		match: crashedAnd(func(c *containerCtx) bool { return c.term == nil }),
		write: only(noTermination)},
	{name: "killed-from-outside", causes: causes(report.CauseUnknown),
		match: crashedAnd(func(c *containerCtx) bool { return c.term.ExitCode == 137 || c.term.ExitCode == 143 }),
		write: only(killedFromOutside)},
	{name: "exits-zero", causes: causes(report.CauseAppCrash),
		match: crashedAnd(func(c *containerCtx) bool { return c.term.ExitCode == 0 }),
		write: only(exitsZero)},
	{name: "self-reported-error", causes: causes(report.CauseAppCrash),
		match: crashedAnd(func(c *containerCtx) bool { i, _ := logparse.SelfReportedError(c.logs.Lines); return i >= 0 }),
		write: only(func(c *containerCtx) report.Finding {
			i, level := logparse.SelfReportedError(c.logs.Lines)
			return selfReportedCrash(c, i, level)
		})},
	{name: "exit-code", causes: causes(report.CauseAppCrash),
		match: crashedAnd(func(c *containerCtx) bool { return appExitCodes[c.term.ExitCode] }),
		write: only(func(c *containerCtx) report.Finding { return appCrash(c, "", -1) })},
	{name: "unexplained-exit", causes: causes(report.CauseUnknown),
		match: crashedAnd(func(*containerCtx) bool { return true }),
		write: only(unexplainedExit)},

	// Running: not a crash loop, but not ready, or an init container that never finishes. A
	// startup probe that fails explains the rest; then a dependency the log cannot reach; then the
	// readiness probe; only then is there nothing to blame.
	// A liveness or startup probe the kubelet cannot run never kills: ready or not, the container
	// looks healthy while nothing checks it (causes_probe.go).
	{name: "probe-cannot-work", causes: causes(report.CauseLivenessProbe),
		match: func(c *containerCtx) bool { _, _, ok := c.brokenProbe(); return ok },
		write: probeCannotWork},
	{name: "not-ready-too-early",
		match: func(c *containerCtx) bool { return c.notReadyRunning() && c.tooEarlyToJudge() }},
	{name: "not-ready-startup-probe", causes: causes(report.CauseLivenessProbe),
		match: func(c *containerCtx) bool { return c.notReadyRunning() && len(c.probeFailures(podstate.Startup)) > 0 },
		write: only(startupProbeFailing)},
	{name: "not-ready-dependency", causes: causes(report.CauseDependency),
		match: func(c *containerCtx) bool { return c.notReadyRunning() && len(c.logFacts().dials) > 0 },
		write: only(notReadyDependency)},
	{name: "not-ready-readiness-probe", causes: causes(report.CauseReadinessProbe),
		match: func(c *containerCtx) bool {
			return c.notReadyRunning() && (c.probe(podstate.Readiness) != nil || len(c.probeFailures(podstate.Readiness)) > 0)
		},
		write: only(readinessFailing)},
	{name: "not-ready-no-probe", causes: causes(report.CauseUnknown),
		match: (*containerCtx).notReadyRunning,
		write: only(notReadyNoProbe)},
	{name: "init-stuck", causes: causes(report.CauseInitContainer, report.CauseDependency),
		match: func(c *containerCtx) bool { return c.init && !c.sidecar() },
		write: stuckInit},
}

var podFallbacks = []rule[*podCtx]{
	{name: "pod-volume", causes: causes(report.CauseMissingSecret, report.CauseMissingSecretKey,
		report.CauseMissingConfigMap, report.CauseMissingConfigMapKey, report.CauseUnknown),
		match: (*podCtx).noCause,
		write: func(p *podCtx) (report.Finding, bool) { return podLevel(p.ev, p.pod) }},
	{name: "node-pressure", causes: causes(report.CauseNodePressure),
		match: func(p *podCtx) bool {
			return !slices.ContainsFunc(p.found, func(f fired) bool { return f.finding.Cause != report.CauseUnknown })
		},
		write: func(p *podCtx) (report.Finding, bool) { return nodePressure(p.ev, p.pod) }},
	{name: "pod-failed", causes: causes(report.CauseUnknown),
		match: func(p *podCtx) bool { return p.noCause() && p.pod.Status.Phase == corev1.PodFailed },
		write: only(func(p *podCtx) report.Finding { return failedPod(p.ev, p.pod) })},
}

// workloadCtx is the workload, with the findings of all its pods once known.
type workloadCtx struct {
	ev    *evidence
	found []report.Finding
}

var workloadRules = []rule[*workloadCtx]{
	// A Job past its deadline: the controller stopped its pods, whatever they show now.
	{name: "job-deadline", causes: causes(report.CauseJobDeadline),
		match: func(w *workloadCtx) bool { return jobDeadline(w.ev) != nil },
		write: only(func(w *workloadCtx) report.Finding { return jobDeadlineFinding(w.ev) })},
	{name: "create-denied", causes: causes(report.CauseCreateDenied),
		match: func(w *workloadCtx) bool { return len(denialsOf(w.ev).msgs) > 0 },
		write: only(func(w *workloadCtx) report.Finding { return createDenied(w.ev) })},
	{name: "unknown-workload", causes: causes(report.CauseUnknown),
		match: func(w *workloadCtx) bool { return len(w.found) == 0 },
		write: only(func(w *workloadCtx) report.Finding { return unknownWorkload(w.ev) })},
}

func causes(cs ...report.Cause) []report.Cause { return cs }

// configCauses: a reference to a Secret or ConfigMap, or its key, that the kubelet cannot
// resolve; or a security setting the image does not meet.
var configCauses = causes(report.CauseMissingSecret, report.CauseMissingSecretKey, report.CauseMissingConfigMap,
	report.CauseMissingConfigMapKey, report.CauseConfigError, report.CauseUnknown)

// appExitCodes are exits only the app or its image explains (usage error, not executable, not
// found, illegal instruction, abort, bus error, floating point, segfault).
var appExitCodes = map[int32]bool{2: true, 126: true, 127: true, 132: true, 134: true, 135: true, 136: true, 139: true}

// fire walks the tables for the workload: every pod's findings, then, once they are known,
// workloadRules, whose finding stands first.
func fire(ev *evidence) []fired {
	var out []fired
	var found []report.Finding
	for i := range ev.Pods {
		for _, fd := range firePod(ev, &ev.Pods[i]) {
			out = append(out, fd)
			found = append(found, fd.finding)
		}
	}
	if name, f, ok := walk(workloadRules, &workloadCtx{ev: ev, found: found}); ok {
		out = append([]fired{{name, f}}, out...)
	}
	return out
}

// classifyPod walks the tables for one pod.
func classifyPod(ev *evidence, pod *corev1.Pod) []report.Finding {
	return findingsOf(firePod(ev, pod))
}

func findingsOf(fds []fired) []report.Finding {
	var out []report.Finding
	for _, fd := range fds {
		out = append(out, fd.finding)
	}
	return out
}

// firePod is classifyPod with the names of the rules that wrote.
func firePod(ev *evidence, pod *corev1.Pod) []fired {
	p := &podCtx{ev: ev, pod: pod}
	if name, f, ok := walk(podRules, p); ok {
		return []fired{{name, f}}
	}
	p.found = fireContainers(ev, pod)
	for _, r := range podFallbacks {
		if !r.match(p) {
			continue
		}
		if f, ok := r.write(p); ok {
			p.found = []fired{{r.name, f}}
		}
	}
	return p.found
}

// fireContainers runs containerRules on the init containers in order, stopping at the first
// that has not completed, then, once all have, on every app container.
func fireContainers(ev *evidence, pod *corev1.Pod) []fired {
	for _, st := range pod.Status.InitContainerStatuses {
		c := newContainerCtx(ev, pod, st, true)
		if name, f, ok := walk(containerRules, c); ok {
			return []fired{{name, f}}
		}
		if c.sidecar() {
			continue
		}
		if t := st.State.Terminated; t != nil && t.ExitCode == 0 {
			continue
		}
		return nil
	}
	var out []fired
	for _, st := range pod.Status.ContainerStatuses {
		if name, f, ok := walk(containerRules, newContainerCtx(ev, pod, st, false)); ok {
			out = append(out, fired{name, f})
		}
	}
	return out
}

func unschedulableCondition(pod *corev1.Pod) *corev1.PodCondition {
	if c := podstate.Condition(pod, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse &&
		(c.Reason == corev1.PodReasonUnschedulable || c.Reason == corev1.PodReasonSchedulingGated) {
		return c
	}
	return nil
}

// failedScheduling is the scheduler's event for a pod that has no node and no container yet.
func failedScheduling(p *podCtx) *corev1.Event {
	if p.pod.Spec.NodeName != "" || len(p.pod.Status.ContainerStatuses) > 0 {
		return nil
	}
	for _, e := range p.ev.podEvents(p.pod.Name, "") {
		if e.Reason == podstate.EventFailedScheduling {
			return &e
		}
	}
	return nil
}

func waitingIn(reasons ...string) func(*containerCtx) bool {
	return func(c *containerCtx) bool {
		return c.st.State.Waiting != nil && slices.Contains(reasons, c.st.State.Waiting.Reason)
	}
}

func crashedAnd(m func(*containerCtx) bool) func(*containerCtx) bool {
	return func(c *containerCtx) bool { return c.crashed() && m(c) }
}

// crashed: the container ran and exited, so a termination is there to explain
// (podstate.Exited); an init container that exited 0 has done its job.
func (c *containerCtx) crashed() bool { return podstate.Exited(c.st, c.init) }

// killExit: exits a kill explains (0 after a clean SIGTERM shutdown, 137 SIGKILL, 143 SIGTERM).
func killExit(t *corev1.ContainerStateTerminated) bool {
	return t.ExitCode == 0 || t.ExitCode == 137 || t.ExitCode == 143
}

// logFacts is what the log says, read once per container and shared by the rules that ask.
type logFacts struct {
	cfgName string
	cfgIdx  int
	cfgOK   bool
	sig     logparse.Signature
	sigOK   bool
	dials   []logparse.DialError
}

func (c *containerCtx) logFacts() *logFacts {
	if c.facts == nil {
		lf := &logFacts{}
		lf.cfgName, lf.cfgIdx, lf.cfgOK = logparse.ConfigProblem(c.logs.Lines, c.envValues())
		lf.sig, lf.sigOK = logparse.SignatureOf(c.logs.Lines)
		lf.dials = logparse.DialErrors(c.logs.Lines)
		c.facts = lf
	}
	return c.facts
}
