//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// The freeze tests stop a daemon of the shared local cluster (SIGSTOP) while gates watch rollouts,
// as a control plane stalled by etcd or a kubelet under memory pressure is stopped: the connections
// stay open and nothing comes through them. Before the gate counted only time it heard the cluster
// in, a crash-looping rollout passed as healthy inside the freeze (issue 27).
//
// They are NOT parallel, on purpose: go test runs every top-level test that does not call
// t.Parallel before it releases any that does, and one at a time, so nothing else runs on the
// cluster while it is frozen (every other e2e test calls t.Parallel, or, like
// TestProbeVerdictsIdleAndUnderLoad and TestDiagnoseNodePressure, is itself sequential, and
// sequential tests never overlap). The daemon is always resumed: by the
// test, by its cleanup after a failure or panic, and by a watchdog outside the test binary
// (framework.Freezer). Several rollouts share one freeze window to keep the tests short.

// freezeCase is one rollout watched through a freeze, with its own gate.
type freezeCase struct {
	name string
	// build makes the workload in namespace ns.
	build func(ns string) *appsv1.Deployment
	// timeout is the gate's --timeout.
	timeout string
	// soakingAtFreeze makes the freeze wait until this gate soaks (its rollout complete): the
	// freeze then falls inside the soak, as in the issue. lastAtFreeze starts this gate last,
	// just before the freeze, so that its --timeout falls inside the freeze.
	soakingAtFreeze, lastAtFreeze bool
	// wantExit and wantVerdict are what the gate must end with; wantAfterResume says that the
	// verdict cannot come before the daemon is resumed (it needs what the frozen daemon withheld).
	wantExit        int
	wantVerdict     report.Verdict
	wantAfterResume bool
}

// freezeWindow is how long a daemon stays frozen: longer than the soak, as in the issue.
const freezeWindow = 20 * time.Second

var freezeCases = []freezeCase{
	{name: "crash-after-5s", timeout: "150s", soakingAtFreeze: true, wantExit: 1, wantVerdict: report.VerdictFailed, wantAfterResume: true,
		build: func(ns string) *appsv1.Deployment {
			return framework.Deployment(ns, "crash", "--print", "boom", "--delay", "5s", "--exit-code", "1")
		}},
	{name: "healthy", timeout: "150s", soakingAtFreeze: true, wantExit: 0, wantVerdict: report.VerdictHealthy, wantAfterResume: true,
		build: func(ns string) *appsv1.Deployment { return framework.Deployment(ns, "healthy") }},
	{name: "slow-starter", timeout: "150s", wantExit: 0, wantVerdict: report.VerdictHealthy, wantAfterResume: true,
		build: func(ns string) *appsv1.Deployment {
			return framework.Ready(framework.Deployment(ns, "slow", "--startup-delay", "8s"))
		}},
	// The freeze outlasts this gate's --timeout: it could not evaluate, and must say so (exit 3).
	// It starts just before the freeze, so that its deadline falls inside the freeze, more than a
	// renew interval and a half (15 s) after the freeze began: the silence is plain by then.
	{name: "crash-timeout-in-freeze", timeout: "19s", lastAtFreeze: true, wantExit: 3, wantVerdict: report.VerdictError,
		build: func(ns string) *appsv1.Deployment {
			return framework.Deployment(ns, "crash-short", "--print", "boom", "--delay", "5s", "--exit-code", "1")
		}},
}

func TestFreezeAPIServer(t *testing.T) {
	testFreeze(t, "kube-apiserver", freezeCases, freeze("kube-apiserver"))
}

func TestFreezeKubelet(t *testing.T) { testFreeze(t, "kubelet", freezeCases, freeze("kubelet")) }

// fault does something to the cluster and returns when it began and when it was over.
type fault func(t *testing.T) (from, to time.Time)

// freeze stops daemon for freezeWindow.
func freeze(daemon string) fault {
	return func(t *testing.T) (time.Time, time.Time) {
		fr := framework.NewFreezer(t, daemon)
		from := time.Now()
		fr.Freeze(freezeWindow)
		select {
		case <-time.After(freezeWindow):
		case <-t.Context().Done():
		}
		fr.Resume()
		return from, time.Now()
	}
}

// testFreeze runs cases through fault of daemon, idle and under CPU load, E2E_FREEZE_REPEAT
// times each (once by default, to keep the suite short).
func testFreeze(t *testing.T, daemon string, cases []freezeCase, f fault) {
	framework.GateBinary(t) // built before any clock starts
	reps := repeatFromEnv("E2E_FREEZE_REPEAT", 1)
	results := &rowLog{}
	t.Cleanup(func() {
		t.Logf("mode | run | case | exit | verdict | reason | gate took | verdict after resume\n%s", results)
	})
	for _, mode := range []struct {
		name string
		load bool
	}{{"idle", false}, {"load", true}} {
		t.Run(mode.name, func(t *testing.T) {
			if mode.load {
				framework.LoadCPU(t, 2)
			}
			for rep := 1; rep <= reps; rep++ {
				t.Run(fmt.Sprintf("run%d", rep), func(t *testing.T) {
					freezeRun(t, daemon, cases, f, fmt.Sprintf("%s | %d", mode.name, rep), results)
				})
			}
		})
	}
}

// freezeRun applies every case, starts a gate on each, and applies the fault once the gates that
// must soak do, right after the last gate watches; then it checks each verdict.
func freezeRun(t *testing.T, daemon string, freezeCases []freezeCase, f fault, row string, results *rowLog) {
	c, ns := framework.Client(t), framework.Namespace(t)
	if _, err := framework.DaemonPID(daemon); err != nil {
		t.Fatal(err)
	}
	for _, fc := range freezeCases {
		framework.Apply(t, c, fc.build(ns))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	gates := make([]*gateRunning, len(freezeCases))
	await := func(i int, text string) {
		select {
		case <-gates[i].p.stderr.shows(text):
		case <-ctx.Done():
			t.Fatalf("the gate of %s never printed %q:\n%s", freezeCases[i].name, text, gates[i].p.stderr.String())
		}
	}
	start := func(i int) string {
		ref := "deployment/" + freezeCases[i].build(ns).Name
		gates[i] = startGateRun(t, "-n", ns, "--workload", ref, "--timeout", freezeCases[i].timeout, "-o", "json")
		return ref
	}
	for i, fc := range freezeCases {
		if !fc.lastAtFreeze {
			start(i)
		}
	}
	for i, fc := range freezeCases {
		if fc.soakingAtFreeze {
			await(i, "complete, soaking")
		}
	}
	for i, fc := range freezeCases {
		if fc.lastAtFreeze {
			await(i, start(i)+":")
		}
	}
	frozenAt, resumedAt := f(t)
	t.Logf("%s frozen from %s to %s", daemon, frozenAt.Format("15:04:05.000"), resumedAt.Format("15:04:05.000"))

	for i, fc := range freezeCases {
		run := gates[i].wait(t)
		ref := "deployment/" + fc.build(ns).Name
		var w report.Workload
		for _, x := range run.Report.Workloads {
			if x.Ref() == ref {
				w = x
			}
		}
		finished := run.Report.FinishedAt
		results.add(fmt.Sprintf("%s | %s | %d | %s | %s | %s | %t", row, fc.name, run.Exit, run.Report.Verdict, w.Reason,
			run.Duration.Round(100*time.Millisecond), finished.After(resumedAt)))
		t.Run(fc.name, func(t *testing.T) {
			if run.Exit != fc.wantExit || run.Report.Verdict != fc.wantVerdict {
				t.Errorf("exit %d verdict %s (%s: %s), want %d %s\n%s", run.Exit, run.Report.Verdict, w.Reason, w.Message,
					fc.wantExit, fc.wantVerdict, run.Stdout)
			}
			if fc.wantAfterResume && finished.Before(resumedAt) {
				t.Errorf("verdict %s at %s, inside the freeze (%s to %s): the gate judged on what it did not hear",
					run.Report.Verdict, finished.Format("15:04:05.000"), frozenAt.Format("15:04:05.000"), resumedAt.Format("15:04:05.000"))
			}
			if fc.wantAfterResume && fc.wantVerdict == report.VerdictHealthy && len(w.View) == 0 {
				t.Errorf("a healthy verdict through a freeze of %s must say in the report's view how long the view was stale; view is empty", daemon)
			}
		})
	}
}
