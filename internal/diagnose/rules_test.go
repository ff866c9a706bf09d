package diagnose

import (
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// lastTerm edits the first container's last termination.
func lastTerm(edit func(*corev1.ContainerStateTerminated)) func(*evidence) {
	return func(ev *evidence) { edit(ev.Pods[0].Status.ContainerStatuses[0].LastTerminationState.Terminated) }
}

// exitCode sets the first container's last exit code.
func exitCode(code int32) func(*evidence) {
	return lastTerm(func(t *corev1.ContainerStateTerminated) { t.ExitCode = code })
}

// pressured puts the pods' node under memory pressure.
func pressured(ev *evidence) {
	name := ev.Pods[0].Spec.NodeName
	ev.Nodes[name] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue, Message: "kubelet has insufficient memory available"},
	}}}
}

// kubeletEvent adds an event of the kubelet about the first container.
func kubeletEvent(ev *evidence, typ, reason, msg string) {
	e := podEvent(ev, typ, reason, msg, 3, fixtureNow.Add(-5*time.Minute), fixtureNow.Add(-time.Minute))
	e.InvolvedObject.FieldPath = "spec.containers{" + ev.Pods[0].Status.ContainerStatuses[0].Name + "}"
	ev.Events = append(ev.Events, e)
}

// probeKilled adds the kubelet's liveness kill of the first container.
func probeKilled(ev *evidence) {
	kubeletEvent(ev, corev1.EventTypeNormal, "Killing",
		"Container "+ev.Pods[0].Status.ContainerStatuses[0].Name+" failed liveness probe, will be restarted")
}

// startupFailing gives the first container a startup probe and the kubelet's failing checks of it.
func startupFailing(ev *evidence) {
	ev.Pods[0].Spec.Containers[0].StartupProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}},
		PeriodSeconds: 5, FailureThreshold: 30,
	}
	kubeletEvent(ev, corev1.EventTypeWarning, "Unhealthy", "Startup probe failed: HTTP probe failed with statuscode: 503")
}

// justStarted makes the first container's current run ten seconds old.
func justStarted(ev *evidence) {
	ev.Pods[0].Status.ContainerStatuses[0].State.Running.StartedAt = metav1.NewTime(fixtureNow.Add(-10 * time.Second))
}

// notReadyCase is the readiness-probe fixture as the watch judged it (readiness stalled), edited.
func notReadyCase(logs map[string]string, edit func(*evidence)) classifyCase {
	return classifyCase{fixture: "readiness-probe", reason: podstate.VerdictReadinessProbeFailing, logs: logs, editEvidence: edit}
}

// refusedDial is a log of the readiness-probe fixture's container that cannot reach its database.
var refusedDial = map[string]string{
	"api-7d4b9c-xkp2z/api": "2026-04-04T08:10:05Z dial tcp 10.96.0.45:5432: connect: connection refused\n",
}

// crashedBefore gives the first container a crash on record (exit 1, restarted).
func crashedBefore(ev *evidence) {
	cs := &ev.Pods[0].Status.ContainerStatuses[0]
	cs.RestartCount = 2
	cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}
}

// ruleCases names, for every rule, the fixture it fires on.
var ruleCases = map[string]classifyCase{
	"evicted":       rc("evicted", nil),
	"unschedulable": rc("unschedulable", nil),
	"failed-scheduling": rc("unschedulable", func(ev *evidence) {
		ev.Pods[0].Status.Conditions = nil // only the scheduler's event says so
	}),
	"config-ref": rc("missing-secret", nil),
	"image-pull": rc("image-pull", nil),
	"start-error-missing-ref": rc("missing-secret", func(ev *evidence) {
		ev.Pods[0].Status.ContainerStatuses[0].State.Waiting.Reason = "CreateContainerError"
	}),
	"probe-kill-events": rc("liveness-slow", restartedBetweenSyncs),
	"still-creating": rc("unknown", func(ev *evidence) {
		ev.Pods[0].Status.ContainerStatuses[0].State.Waiting.Reason = "ContainerCreating"
	}),
	"start-error": rc("unknown", lastTerm(func(t *corev1.ContainerStateTerminated) {
		t.ExitCode, t.Reason, t.Message = 128, "StartError", `exec: "/app/serve": stat /app/serve: no such file or directory`
	})),
	"oom-killed": rc("oom-killed", nil),
	"oom-then-sigkill": rc("oom-killed", func(ev *evidence) {
		ev.Pods[0].Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}
	}),
	"init-failure": rc("init-container", nil),
	"probe-kill":   rc("liveness-probe", nil),
	"probe-failing-then-exit": rc("liveness-slow", func(ev *evidence) {
		ev.Events = slices.DeleteFunc(ev.Events, func(e corev1.Event) bool { return e.Reason == "Killing" })
	}),
	"config-error":    rc("config-error", nil),
	"dependency":      rc("dependency", nil),
	"crash-signature": rc("app-crash", nil),
	"no-termination": rc("unknown", func(ev *evidence) {
		ev.Pods[0].Status.ContainerStatuses[0].LastTerminationState.Terminated = nil
	}),
	"killed-from-outside": rc("unknown", exitCode(143)),
	"exits-zero":          rc("unknown", exitCode(0)),
	"self-reported-error": classifyCase{fixture: "unknown", logs: map[string]string{
		"api-7d4b9c-xkp2z/api": "2026-04-04T08:15:00Z INFO starting worker pool size=4\n2026-04-04T08:15:00Z worker pool exhausted, exiting\n",
	}},
	"exit-code":                 rc("unknown", exitCode(127)),
	"unexplained-exit":          rc("unknown", nil),
	"probe-cannot-work":         classifyCase{fixture: "readiness-probe", reason: "LivenessProbeErrored", editEvidence: erroring("Liveness", true)},
	"not-ready-too-early":       classifyCase{fixture: "readiness-probe", reason: "ProgressDeadlineExceeded", editEvidence: justStarted},
	"not-ready-startup-probe":   notReadyCase(nil, startupFailing),
	"not-ready-dependency":      notReadyCase(refusedDial, nil),
	"not-ready-readiness-probe": notReadyCase(nil, nil),
	"not-ready-no-probe": notReadyCase(nil, func(ev *evidence) {
		ev.Pods[0].Spec.Containers[0].ReadinessProbe = nil
		ev.Events = nil
	}),
	"init-stuck": rc("init-container", func(ev *evidence) {
		st := &ev.Pods[0].Status.InitContainerStatuses[0]
		st.RestartCount, st.LastTerminationState = 0, corev1.ContainerState{}
		st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(fixtureNow.Add(-5 * time.Minute))}}
	}),
	"pod-volume":    rc("missing-volume", nil),
	"node-pressure": rc("unknown", pressured),
	"pod-failed": rc("unknown", func(ev *evidence) {
		p := &ev.Pods[0]
		p.Status.ContainerStatuses = nil
		p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "NodeLost", "node node-1 which was running the pod is unresponsive"
	}),
	"job-deadline":     rc("unknown", pastDeadline),
	"create-denied":    rc("create-denied", nil),
	"unknown-workload": rc("unknown", func(ev *evidence) { ev.Pods = nil }),
}

// rc is a rule case: a fixture, possibly edited.
func rc(fixture string, edit func(*evidence)) classifyCase {
	return classifyCase{fixture: fixture, editEvidence: edit}
}

// stopped lists the rules that decided: every pod's findings, for containers the rule that
// stopped each container's walk (which may write nothing), and the workload's finding.
func stopped(ev *evidence) map[string]fired {
	out := map[string]fired{}
	for _, fd := range fire(ev) {
		out[fd.rule] = fd
	}
	for i := range ev.Pods {
		pod := &ev.Pods[i]
		for j, sts := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
			for _, st := range sts {
				if name, f, _ := walk(containerRules, newContainerCtx(ev, pod, st, j == 0)); name != "" {
					if _, seen := out[name]; !seen {
						out[name] = fired{name, f}
					}
				}
			}
		}
	}
	return out
}

type ruleInfo struct {
	name   string
	causes []report.Cause
	writes bool
}

// allRules is every rule of the four tables, in the order they are walked.
func allRules() []ruleInfo {
	var out []ruleInfo
	for _, r := range podRules {
		out = append(out, ruleInfo{r.name, r.causes, r.write != nil})
	}
	for _, r := range containerRules {
		out = append(out, ruleInfo{r.name, r.causes, r.write != nil})
	}
	for _, r := range podFallbacks {
		out = append(out, ruleInfo{r.name, r.causes, r.write != nil})
	}
	for _, r := range workloadRules {
		out = append(out, ruleInfo{r.name, r.causes, r.write != nil})
	}
	return out
}

func TestRules(t *testing.T) {
	t.Parallel()
	for _, r := range allRules() {
		rc, ok := ruleCases[r.name]
		if !ok {
			continue // TestEveryRuleHasAFixture says so
		}
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			got := stopped(rc.gather(t))
			fd, ok := got[r.name]
			if !ok {
				t.Fatalf("rule %s does not fire on fixture %s; the rules that decided: %v", r.name, rc.fixture, slices.Sorted(maps.Keys(got)))
			}
			if !r.writes {
				if fd.finding.Cause != "" {
					t.Errorf("rule %s writes nothing, got a finding %+v", r.name, fd.finding)
				}
				return
			}
			if !slices.Contains(r.causes, fd.finding.Cause) {
				t.Errorf("rule %s wrote cause %q, not one it names %v", r.name, fd.finding.Cause, r.causes)
			}
			if fd.finding.Summary == "" {
				t.Errorf("rule %s wrote no summary", r.name)
			}
		})
	}
}

func TestEveryRuleHasAFixture(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, r := range allRules() {
		if names[r.name] {
			t.Errorf("rule %s is in the tables twice", r.name)
		}
		names[r.name] = true
		rc, ok := ruleCases[r.name]
		if !ok {
			t.Errorf("rule %s has no fixture in ruleCases", r.name)
			continue
		}
		if _, err := os.Stat(filepath.Join("testdata", rc.fixture, "objects.yaml")); err != nil {
			t.Errorf("rule %s: fixture %s: %v", r.name, rc.fixture, err)
		}
	}
	for name := range ruleCases {
		if !names[name] {
			t.Errorf("ruleCases names %s, which is no rule", name)
		}
	}
}

// The doc comment of rules.go lists the rules in the order the tables hold them.
func TestRuleOrderIsDocumented(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "rules.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	item := regexp.MustCompile(`^\s*(\d+)\. ([a-z-]+)$`)
	var doc []string
	for _, cg := range f.Comments {
		for _, l := range strings.Split(cg.Text(), "\n") {
			if m := item.FindStringSubmatch(l); m != nil {
				if n, _ := strconv.Atoi(m[1]); n != len(doc)+1 {
					t.Errorf("doc item %q is numbered %d, want %d", m[2], n, len(doc)+1)
				}
				doc = append(doc, m[2])
			}
		}
	}
	var tables []string
	for _, r := range allRules() {
		tables = append(tables, r.name)
	}
	if !slices.Equal(doc, tables) {
		t.Errorf("rules.go documents the order\n%v\nbut the tables hold\n%v", doc, tables)
	}
}

// Where several rules match, the earlier one in the table wins.
func TestRuleOrderDecidesOverlaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		rc      classifyCase
		matches []string     // rules whose match holds, table order; the first must win
		cause   report.Cause // "": the container's walk settles that nothing is wrong yet
	}{
		{"OOM with a liveness-probe kill", rc("oom-killed", probeKilled),
			[]string{"oom-killed", "probe-kill"}, report.CauseOOMKilled},
		{"a missing Secret with a crash on record", rc("missing-secret", crashedBefore),
			[]string{"config-ref", "unexplained-exit"}, report.CauseMissingSecret},
		{"image pull on an unschedulable pod", rc("image-pull", func(ev *evidence) {
			ev.Pods[0].Status.Conditions = append(ev.Pods[0].Status.Conditions, corev1.PodCondition{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
				Message: "0/1 nodes are available: 1 Insufficient memory."})
		}), []string{"unschedulable", "image-pull"}, report.CauseUnschedulable},
		{"a probe kill (exit 137) with a config error in the log", rc("config-error", func(ev *evidence) {
			probeKilled(ev)
			exitCode(137)(ev)
		}), []string{"probe-kill", "config-error"}, report.CauseLivenessProbe},
		{"a dependency failure with a crash signature", classifyCase{fixture: "dependency", logs: map[string]string{
			"api-7d4b9c-xkp2z/api": "dial tcp 10.96.0.45:5432: connect: connection refused\npanic: no database\n\ngoroutine 1 [running]:\nmain.main()\n",
		}}, []string{"dependency", "crash-signature"}, report.CauseDependency},
		{"an evicted pod whose container was OOM killed", rc("oom-killed", func(ev *evidence) {
			ev.Pods[0].Status.Reason, ev.Pods[0].Status.Message = "Evicted", "The node was low on resource: memory."
		}), []string{"evicted", "oom-killed"}, report.CauseNodePressure},
		{"node pressure over an exit nothing explains", rc("unknown", pressured),
			[]string{"unexplained-exit", "node-pressure"}, report.CauseNodePressure},
		{"a failing startup probe with a refused dial and a failing readiness probe", notReadyCase(refusedDial, startupFailing),
			[]string{"not-ready-startup-probe", "not-ready-dependency", "not-ready-readiness-probe", "not-ready-no-probe"}, report.CauseLivenessProbe},
		{"a refused dial with a failing readiness probe", notReadyCase(refusedDial, nil),
			[]string{"not-ready-dependency", "not-ready-readiness-probe", "not-ready-no-probe"}, report.CauseDependency},
		{"a failing readiness probe", notReadyCase(nil, nil),
			[]string{"not-ready-readiness-probe", "not-ready-no-probe"}, report.CauseReadinessProbe},
		{"a failing readiness probe ten seconds after start", classifyCase{fixture: "readiness-probe", reason: "ProgressDeadlineExceeded", editEvidence: justStarted},
			[]string{"not-ready-too-early", "not-ready-readiness-probe"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := tc.rc.gather(t)
			pod := &ev.Pods[0]
			p := &podCtx{ev: ev, pod: pod, found: []fired{{finding: report.Finding{Cause: report.CauseUnknown}}}}
			c := newContainerCtx(ev, pod, pod.Status.ContainerStatuses[0], false)
			var matched []string
			for _, r := range podRules {
				if r.match(p) {
					matched = append(matched, r.name)
				}
			}
			for _, r := range containerRules {
				if r.match(c) {
					matched = append(matched, r.name)
				}
			}
			for _, r := range podFallbacks {
				if r.match(p) {
					matched = append(matched, r.name)
				}
			}
			for _, m := range tc.matches {
				if !slices.Contains(matched, m) {
					t.Errorf("rule %s does not match, so the case shows no overlap; matched: %v", m, matched)
				}
			}
			fs := classifyPod(ev, pod)
			if tc.cause == "" && len(fs) > 0 {
				t.Fatalf("got %s, want no finding", dump(fs))
			}
			if tc.cause != "" && (len(fs) != 1 || fs[0].Cause != tc.cause) {
				t.Fatalf("got %s, want one finding of cause %s", dump(fs), tc.cause)
			}
		})
	}
}

// A workload whose controller cannot create pods has no pod finding either: the denial is the
// finding, not an unknown.
func TestWorkloadRuleOrder(t *testing.T) {
	t.Parallel()
	ev := rc("create-denied", nil).gather(t)
	w := &workloadCtx{ev: ev}
	var matched []string
	for _, r := range workloadRules {
		if r.match(w) {
			matched = append(matched, r.name)
		}
	}
	if !slices.Equal(matched, []string{"create-denied", "unknown-workload"}) {
		t.Errorf("matched %v, want both workload rules: the case shows no overlap", matched)
	}
	fs := classify(ev)
	if len(fs) != 1 || fs[0].Cause != report.CauseCreateDenied {
		t.Fatalf("got %s, want one finding of cause %s", dump(fs), report.CauseCreateDenied)
	}
}

// An init container that fails blocks the pod: its failure is the finding, whatever the app
// containers show.
func TestInitFailureWinsOverAppCrash(t *testing.T) {
	t.Parallel()
	ev := rc("init-container", func(ev *evidence) {
		crashedBefore(ev)
		ev.Pods[0].Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	}).gather(t)
	pod := &ev.Pods[0]
	if name, _, ok := walk(containerRules, newContainerCtx(ev, pod, pod.Status.ContainerStatuses[0], false)); !ok {
		t.Fatalf("the app container alone names no cause (rule %q): the case shows no overlap", name)
	}
	got := firePod(ev, pod)
	if len(got) != 1 || got[0].rule != "init-failure" || got[0].finding.Container != "init-migrate" {
		t.Errorf("got %+v, want only init-failure on init-migrate", got)
	}
}
