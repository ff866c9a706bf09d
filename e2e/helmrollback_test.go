//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 25, Helm's own rollback: with Helm's library linked (go build -tags helmsdk), --helm-release
// with --rollback rolls the release back as `helm rollback` does, so `helm history` (the real
// binary) shows the rollback as a new revision, then verifies the workloads as after kubectl's undo.

// helmSDKGate builds the gate with Helm's library into the test's folder (the packages are cached
// after the first build, so this is mostly the link).
func helmSDKGate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gate-helmsdk")
	cmd := exec.Command("go", "build", "-tags", "helmsdk", "-o", bin, "./cmd/gate")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags helmsdk ./cmd/gate: %v\n%s", err, out)
	}
	return bin
}

// helmRevision is one line of `helm history -o json`.
type helmRevision struct {
	Revision    int    `json:"revision"`
	Status      string `json:"status"`
	Description string `json:"description"`
}

func TestHelmRollbackWithHelmsLibrary(t *testing.T) {
	t.Parallel()
	ns := framework.Namespace(t)
	gate := helmSDKGate(t)
	// A chart value that stands for a secret: it is stored in every revision, and Helm's rollback
	// reads those revisions; it must reach no output of the gate.
	const secret = "s3cr3t-chart-value-7f1c"
	helmUpgrade(t, ns, nil, "--set", "dbPassword="+secret)
	helmUpgrade(t, ns, nil, "--set", "dbPassword="+secret, "--set-json", `apiArgs=["--print","FATAL: cannot load config","--exit-code","1"]`)

	g := &gateRunning{args: []string{"--helm-release", "shop", "-n", ns, "--rollback"}, reportPath: filepath.Join(t.TempDir(), "report.json")}
	g.p = startBinary(t, gate, "", append(os.Environ(), "GITHUB_ACTIONS=", "NO_COLOR=1"), nil,
		"--kubeconfig", framework.Kubeconfig(t), "--report-json", g.reportPath,
		"--helm-release", "shop", "-n", ns, "--timeout", "3m", "--rollback")
	run := g.wait(t)
	run.mustEnd(t, 1, report.VerdictFailed, "the job fails even when the rollback is healthy")

	api := run.workload(t, "deployment/api")
	if api.Verdict != report.VerdictFailed {
		t.Fatalf("deployment/api: verdict %s (%s), want failed", api.Verdict, api.Message)
	}
	rb := api.Rollback
	if rb == nil || rb.Status != report.RollbackRolledBack || !rb.Undone || rb.FromRevision != "2" || rb.ToRevision != "1" ||
		!strings.Contains(rb.Message, `with Helm's rollback (revision 3, "Rollback to 1") and it is healthy again`) {
		t.Fatalf("deployment/api rollback %+v, want rolled back with Helm from 2 to 1 and verified healthy", rb)
	}
	if !run.Report.RolledBack {
		t.Errorf("the report does not say it rolled back")
	}
	if n := strings.Count(run.Stderr, "rolling back with Helm"); n != 1 {
		t.Errorf("Helm's rollback ran %d times, want once for the release:\n%s", n, run.Stderr)
	}

	var hist []helmRevision
	if err := json.Unmarshal([]byte(helm(t, nil, "history", "shop", "-n", ns, "-o", "json")), &hist); err != nil {
		t.Fatalf("helm history -o json: %v", err)
	}
	want := map[int]helmRevision{
		1: {1, "superseded", ""},
		3: {3, "deployed", "Rollback to 1"},
	}
	if len(hist) != 3 {
		t.Fatalf("helm history has %d revisions, want 3: %+v", len(hist), hist)
	}
	for _, h := range hist {
		switch w, ok := want[h.Revision]; {
		case h.Revision == 2:
			if h.Status != "superseded" && h.Status != "failed" {
				t.Errorf("revision 2 is %s, want superseded (or failed)", h.Status)
			}
		case !ok || h.Status != w.Status || w.Description != "" && h.Description != w.Description:
			t.Errorf("helm history revision %d: %s %q, want %+v", h.Revision, h.Status, h.Description, w)
		}
	}
	for what, text := range map[string]string{"stdout": run.Stdout, "stderr": run.Stderr, "JSON report": string(run.raw)} {
		if strings.Contains(text, secret) {
			t.Errorf("the gate's %s holds a chart value", what)
		}
	}
	t.Logf("figures: gate run %s; verdict %.1fs after the watch began; Helm's rollback and its verification %.1fs",
		run.Duration.Round(time.Millisecond), float64(api.Duration), float64(rb.Duration))
}
