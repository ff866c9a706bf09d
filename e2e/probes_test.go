//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 10: verdicts that hold on a loaded node. Every probe scenario runs on the idle node and
// again with every core busy, several times: a false pass or a false alarm that shows up one run
// in five is a bug. The test is not parallel, so it runs alone before the parallel tests and its
// CPU load touches nothing else.

// probeScenario is one rollout with the verdict the gate must reach, whatever the load.
type probeScenario struct {
	name    string
	build   func(ns string) *appsv1.Deployment
	verdict report.Verdict
	reason  string       // the watch's reason; empty: any
	cause   report.Cause // the first finding's cause; empty: no finding required
	// notBefore: a slow start must not be judged healthy before the app could be ready. (That a
	// failure comes before --timeout is held by the verdict itself: at the timeout it would be
	// `timeout`, not `failed`.)
	notBefore time.Duration
	// evidence must be in the first finding's evidence (the kubelet's own words); runsOver: the
	// finding counts more than this many runs of the probe, folded events included.
	evidence string
	runsOver int
}

// missingExecProbe is an exec probe of a binary the test image lacks: the kubelet reports every
// run as errored (Unknown) and never acts on it. Probed every second, it runs past the ten events
// after which the kubelet's correlator folds them into one, well within the rule's window.
func missingExecProbe() *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/healthcheck"}}},
		PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: 3,
	}
}

// slowProbe fails a container after three misses three seconds apart: slow enough that a plain
// 10 s soak ends before the kubelet's kill, which is how liveness kills used to pass as healthy.
func slowProbe(port int32, initialDelay int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(port)}},
		InitialDelaySeconds: initialDelay, PeriodSeconds: 3, TimeoutSeconds: 1, FailureThreshold: 3,
	}
}

// defaultProbe is an HTTP probe of path with every other field left to the API server's defaults
// (period 10 s, timeout 1 s, failure threshold 3).
func defaultProbe(path string) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(framework.AppPort)}}}
}

// withVolume mounts a Secret or ConfigMap volume that does not exist.
func withVolume(d *appsv1.Deployment, source corev1.VolumeSource) *appsv1.Deployment {
	spec := &d.Spec.Template.Spec
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "conf", VolumeSource: source})
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "conf", MountPath: "/etc/app"})
	return d
}

var probeScenarios = []probeScenario{
	{
		name: "liveness kills a slow starter without a readiness probe",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api", "--startup-delay", "45s")
			d.Spec.Template.Spec.Containers[0].LivenessProbe = slowProbe(framework.AppPort, 5)
			return d
		},
		verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseLivenessProbe,
	},
	{
		name: "liveness kills a slow starter with a readiness probe",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Ready(framework.Deployment(ns, "api", "--startup-delay", "45s"))
			d.Spec.Template.Spec.Containers[0].LivenessProbe = slowProbe(framework.AppPort, 5)
			return d
		},
		verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseLivenessProbe,
	},
	{
		name: "liveness on a wrong port kills after ready",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Ready(framework.Deployment(ns, "api"))
			d.Spec.Template.Spec.Containers[0].LivenessProbe = slowProbe(9999, 3)
			return d
		},
		verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseLivenessProbe,
	},
	{
		name: "an exec liveness probe whose binary is missing",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api")
			// Thirty misses before a kill, had they been failures: the window (31 s) holds more
			// than ten errored runs even on a node so loaded that the kubelet probes every 2 s
			// (seen with ten: 7 runs in its 11 s window), so the folded events are what count.
			d.Spec.Template.Spec.Containers[0].LivenessProbe = missingExecProbe()
			d.Spec.Template.Spec.Containers[0].LivenessProbe.FailureThreshold = 30
			return d
		},
		verdict: report.VerdictFailed, reason: "LivenessProbeErrored", cause: report.CauseLivenessProbe,
		evidence: "Liveness probe errored and resulted in unknown state", runsOver: 10,
	},
	{
		name: "an exec readiness probe whose binary is missing",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api")
			d.Spec.Template.Spec.Containers[0].ReadinessProbe = missingExecProbe()
			return d
		},
		verdict: report.VerdictFailed, reason: "ReadinessProbeFailing", cause: report.CauseReadinessProbe,
		evidence: "Readiness probe errored and resulted in unknown state",
	},
	{
		name: "a crash a few seconds after ready",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Ready(framework.Deployment(ns, "api", "--print-stderr", "FATAL: lost the queue connection", "--exit-code", "1", "--delay", "6s"))
			return d
		},
		verdict: report.VerdictFailed, reason: "CrashLoopBackOff",
	},
	{
		name: "healthy with all three probes",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api")
			c := &d.Spec.Template.Spec.Containers[0]
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = framework.HTTPProbe("/health"), framework.HTTPProbe("/health"), framework.HTTPProbe("/ready")
			c.StartupProbe.FailureThreshold = 30
			return d
		},
		verdict: report.VerdictHealthy, reason: "Complete",
	},
	{
		name:    "healthy with no probes",
		build:   func(ns string) *appsv1.Deployment { return framework.Deployment(ns, "api") },
		verdict: report.VerdictHealthy, reason: "Complete",
	},
	{
		name: "a slow start behind a startup probe",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api", "--startup-delay", "20s")
			c := &d.Spec.Template.Spec.Containers[0]
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = framework.HTTPProbe("/health"), framework.HTTPProbe("/health"), framework.HTTPProbe("/ready")
			c.StartupProbe.FailureThreshold = 60
			return d
		},
		verdict: report.VerdictHealthy, reason: "Complete", notBefore: 20 * time.Second,
	},
	{
		name: "a slow start behind an honest initial delay",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api", "--startup-delay", "15s")
			c := &d.Spec.Template.Spec.Containers[0]
			c.ReadinessProbe = framework.HTTPProbe("/ready")
			c.ReadinessProbe.InitialDelaySeconds = 20
			c.LivenessProbe = slowProbe(framework.AppPort, 25)
			return d
		},
		verdict: report.VerdictHealthy, reason: "Complete", notBefore: 15 * time.Second,
	},
	{
		// Issue 24: with the API's default probes (every 10 s, threshold 3) the liveness hold waits
		// for the first liveness run, not the 41 s kill window.
		name: "healthy with the API's default probes",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api")
			c := &d.Spec.Template.Spec.Containers[0]
			c.LivenessProbe, c.ReadinessProbe = defaultProbe("/health"), defaultProbe("/ready")
			return d
		},
		verdict: report.VerdictHealthy, reason: "Complete", notBefore: 11 * time.Second,
	},
	{
		// The first liveness run comes 20 s after the start: the verdict must wait for it.
		name: "healthy with a liveness initial delay of 20 s",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Deployment(ns, "api")
			c := &d.Spec.Template.Spec.Containers[0]
			c.LivenessProbe, c.ReadinessProbe = defaultProbe("/health"), defaultProbe("/ready")
			c.LivenessProbe.InitialDelaySeconds = 20
			return d
		},
		verdict: report.VerdictHealthy, reason: "Complete", notBefore: 31 * time.Second,
	},
	{
		// The same delay on a wrong port: ready long before the first liveness run, which fails.
		name: "liveness on a wrong port after an initial delay of 20 s",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Ready(framework.Deployment(ns, "api"))
			d.Spec.Template.Spec.Containers[0].LivenessProbe = slowProbe(9999, 20)
			return d
		},
		verdict: report.VerdictFailed, reason: "CrashLoopBackOff", cause: report.CauseLivenessProbe,
	},
	{
		name: "a readiness stall",
		build: func(ns string) *appsv1.Deployment {
			d := framework.Ready(framework.Deployment(ns, "api", "--ready-after", "1h"))
			return d
		},
		verdict: report.VerdictFailed, reason: "ReadinessProbeFailing", cause: report.CauseReadinessProbe,
	},
	{
		name: "a Secret volume that does not exist",
		build: func(ns string) *appsv1.Deployment {
			return withVolume(framework.Deployment(ns, "api"), corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "api-tls"}})
		},
		verdict: report.VerdictFailed, reason: "FailedMount", cause: report.CauseMissingSecret,
	},
	{
		name: "a ConfigMap volume that does not exist",
		build: func(ns string) *appsv1.Deployment {
			return withVolume(framework.Deployment(ns, "api"), corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "api-config"}}})
		},
		verdict: report.VerdictFailed, reason: "FailedMount", cause: report.CauseMissingConfigMap,
	},
}

func repeatFromEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

func TestProbeVerdictsIdleAndUnderLoad(t *testing.T) {
	modes := []struct {
		name string
		reps int
		load bool
	}{
		{"idle", repeatFromEnv("E2E_PROBE_REPEAT_IDLE", 2), false},
		{"load", repeatFromEnv("E2E_PROBE_REPEAT_LOAD", 5), true},
	}
	framework.GateBinary(t) // build it once, before the clocks of the scenarios start
	results := &rowLog{}
	t.Cleanup(func() {
		t.Logf("mode | scenario | run | exit | verdict | reason | cause | apply to verdict\n%s", results)
	})
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			if mode.load {
				framework.LoadCPU(t, 2)
			}
			for rep := 1; rep <= mode.reps; rep++ {
				t.Run(fmt.Sprintf("run%d", rep), func(t *testing.T) {
					for _, sc := range probeScenarios {
						t.Run(sc.name, func(t *testing.T) {
							t.Parallel()
							runProbeScenario(t, sc, mode.name, rep, results)
						})
					}
				})
			}
		})
	}
}

func runProbeScenario(t *testing.T, sc probeScenario, mode string, rep int, results *rowLog) {
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.Apply(t, c, sc.build(ns))
	applied := time.Now()
	run := runGate(t, "-n", ns, "--workload", "deployment/api", "--timeout", "150s", "--pending-grace", "15s", "-o", "json")
	w := run.workload(t, "deployment/api")
	cause := report.Cause("")
	if len(w.Findings) > 0 {
		cause = w.Findings[0].Cause
	}
	took := time.Since(applied) // apply to verdict
	results.add(fmt.Sprintf("%s | %s | %d | %d | %s | %s | %s | %.1f s", mode, sc.name, rep, run.Exit, w.Verdict, w.Reason, cause, took.Seconds()))

	wantExit := 1
	if sc.verdict == report.VerdictHealthy {
		wantExit = 0
	}
	if run.Exit != wantExit || w.Verdict != sc.verdict {
		kind := "a wrong verdict" // e.g. a failure that waited for the timeout
		switch {
		case sc.verdict == report.VerdictHealthy:
			kind = "a false alarm"
		case w.Verdict == report.VerdictHealthy:
			kind = "a false pass"
		}
		t.Fatalf("%s: exit %d verdict %s (%s: %s), want exit %d verdict %s", kind, run.Exit, w.Verdict, w.Reason, w.Message, wantExit, sc.verdict)
	}
	if sc.reason != "" && w.Reason != sc.reason {
		t.Errorf("reason %q (%s), want %q", w.Reason, w.Message, sc.reason)
	}
	if sc.cause != "" && cause != sc.cause {
		t.Errorf("cause %q, want %q; findings: %+v", cause, sc.cause, w.Findings)
	}
	if sc.evidence != "" || sc.runsOver > 0 {
		checkProbeEvidence(t, w.Findings, sc.evidence, sc.runsOver)
	}
	if sc.notBefore > 0 && took < sc.notBefore {
		t.Errorf("healthy %s after the apply, before the app could be ready (%s): judged too early", took.Round(time.Millisecond), sc.notBefore)
	}
}

// reRuns reads the count of the probe finding's summary line of runs.
var reRuns = regexp.MustCompile(`the kubelet reported (\d+) (?:errored|failed) runs?`)

// checkProbeEvidence: the first finding quotes the kubelet (want) and, with runsOver, counts more
// runs than that, which only folded events can give.
func checkProbeEvidence(t *testing.T, findings []report.Finding, want string, runsOver int) {
	t.Helper()
	if len(findings) == 0 {
		t.Fatalf("no finding, want evidence %q", want)
	}
	ev := strings.Join(findings[0].Evidence, "\n")
	if !strings.Contains(ev, want) {
		t.Errorf("evidence does not quote the kubelet (%q):\n%s", want, ev)
	}
	if runsOver > 0 {
		m := reRuns.FindStringSubmatch(ev)
		if m == nil {
			t.Fatalf("evidence does not count the probe's runs:\n%s", ev)
		}
		if n, _ := strconv.Atoi(m[1]); n <= runsOver {
			t.Errorf("the finding counts %d runs, want more than %d (folded events must count):\n%s", n, runsOver, ev)
		}
	}
}
