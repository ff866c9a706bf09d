//go:build e2e

package e2e

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// gateRun is one run of the gate binary.
type gateRun struct {
	Exit     int
	Report   report.Report
	Stdout   string
	Stderr   string
	Duration time.Duration
	raw      []byte // the JSON report as written
}

// gateRunning is a gate binary started against the local cluster, whose run wait returns.
type gateRunning struct {
	p          *gateProcess
	args       []string // as the test gave them
	reportPath string
}

// startGateRun starts the gate binary against the local cluster with args, plus --report-json,
// and returns at once, so that the test can act on the cluster while the gate watches.
func startGateRun(t *testing.T, args ...string) *gateRunning {
	t.Helper()
	return startGateRunStdin(t, nil, args...)
}

// startGateRunStdin is startGateRun with stdin as the gate's standard input (for -f -).
func startGateRunStdin(t *testing.T, stdin io.Reader, args ...string) *gateRunning {
	t.Helper()
	g := &gateRunning{args: args, reportPath: filepath.Join(t.TempDir(), "report.json")}
	args = append([]string{"--kubeconfig", framework.Kubeconfig(t), "--report-json", g.reportPath}, args...)
	g.p = startGateStdin(t, "", append(os.Environ(), "GITHUB_ACTIONS=", "NO_COLOR=1"), stdin, args...)
	return g
}

// runGate runs the gate binary against the local cluster with args, plus --report-json.
func runGate(t *testing.T, args ...string) gateRun {
	t.Helper()
	return startGateRun(t, args...).wait(t)
}

// wait waits for the gate to exit and reads its outputs and JSON report.
func (g *gateRunning) wait(t *testing.T) gateRun {
	t.Helper()
	run := gateRun{Exit: g.p.wait(t), Stdout: g.p.stdout.String(), Stderr: g.p.stderr.String(), Duration: g.p.ended.Sub(g.p.started)}
	t.Logf("gate %s: exit %d in %s\nstderr:\n%s", strings.Join(g.args, " "), run.Exit, run.Duration.Round(time.Millisecond), run.Stderr)
	if raw, err := os.ReadFile(g.reportPath); err == nil {
		run.raw = raw
		if err := json.Unmarshal(raw, &run.Report); err != nil {
			t.Fatalf("the JSON report does not parse: %v\n%s", err, raw)
		}
	}
	if strings.Contains(run.Stderr, "goroutine ") || strings.Contains(run.Stderr, "panic:") && !strings.Contains(run.Stdout, "panic:") {
		t.Errorf("the gate printed a stack trace:\n%s", run.Stderr)
	}
	return run
}

// mustExit stops the test unless the gate exited with code; why, when given, says what the
// code means here.
func (g gateRun) mustExit(t *testing.T, code int, why ...string) {
	t.Helper()
	if g.Exit != code {
		t.Fatalf("exit %d, want %d%s\n%s", g.Exit, code, because(why), g.Stdout)
	}
}

// mustEnd stops the test unless the gate exited with code and the report's verdict is verdict.
func (g gateRun) mustEnd(t *testing.T, code int, verdict report.Verdict, why ...string) {
	t.Helper()
	if g.Exit != code || g.Report.Verdict != verdict {
		t.Fatalf("exit %d verdict %s, want %d %s%s\n%s", g.Exit, g.Report.Verdict, code, verdict, because(why), g.Stdout)
	}
}

func because(why []string) string {
	if len(why) == 0 {
		return ""
	}
	return ": " + strings.Join(why, " ")
}

// workload finds a workload of the report by ref ("deployment/api").
func (g gateRun) workload(t *testing.T, ref string) report.Workload {
	t.Helper()
	for _, w := range g.Report.Workloads {
		if w.Ref() == ref {
			return w
		}
	}
	t.Fatalf("report has no %s; it has %+v", ref, g.Report.Workloads)
	return report.Workload{}
}

// writeManifest writes YAML to a file in the test's temp dir and returns its path.
func writeManifest(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
