package diagnose

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// TestDiagnosisFromTheWatchsObservation: handed what the watch saw (the revisions, their diff and
// the pods), the diagnosis of every recorded fixture is the one it makes by reading the history
// itself, and it reads no history.
func TestDiagnosisFromTheWatchsObservation(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "objects.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range dirs {
		dir := filepath.Base(filepath.Dir(f))
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			fx := loadFixture(t, dir)
			if fx.workload == nil {
				t.Fatal("the fixture has no workload: every diagnose fixture is one workload and its pods")
			}
			d, cs, _ := fx.diagnoser(nil)
			want, err := d.Diagnose(context.Background(), fx.input("CrashLoopBackOff"))
			if err != nil {
				t.Fatal(err)
			}
			wl, err := workload.For(fx.workload)
			if err != nil {
				t.Fatal(err)
			}
			var h workload.History
			for _, obj := range fx.objs {
				switch o := obj.(type) {
				case *appsv1.ReplicaSet:
					h.ReplicaSets = append(h.ReplicaSets, o)
				case *appsv1.ControllerRevision:
					h.ControllerRevisions = append(h.ControllerRevisions, o)
				}
			}
			od, ocs, _ := fx.diagnoser(nil)
			in := fx.input("CrashLoopBackOff")
			in.Observed = workload.Observe(wl, h, fx.pods)
			got, err := od.Diagnose(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
				t.Errorf("from the observation:\n%s\nwant the same as from the history:\n%s", g, w)
			}
			if n := historyReads(ocs); n != 0 {
				t.Errorf("%d reads of the history with the observation, want none", n)
			}
			if n := historyReads(cs); n == 0 && len(h.ReplicaSets)+len(h.ControllerRevisions) > 0 {
				t.Errorf("no read of the history without the observation: the comparison proves nothing")
			}
		})
	}
}

func historyReads(cs *fake.Clientset) int {
	n := 0
	for _, a := range cs.Actions() {
		if r := a.GetResource().Resource; (r == "replicasets" || r == "controllerrevisions") && a.GetVerb() == "list" {
			n++
		}
	}
	return n
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNodesReadOncePerRun: the workloads one Diagnoser diagnoses share their nodes' reads; the
// second diagnosis finds the node it names, with its conditions, without reading it again.
func TestNodesReadOncePerRun(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "evicted")
	d, cs, _ := fx.diagnoser(nil)
	first := fx.crashLoop(t, d)
	second := fx.crashLoop(t, d)
	if g, w := jsonOf(t, second), jsonOf(t, first); g != w {
		t.Errorf("second diagnosis:\n%s\nwant the first's:\n%s", g, w)
	}
	gets := 0
	for _, a := range cs.Actions() {
		if a.GetResource().Resource == "nodes" && a.GetVerb() == "get" {
			gets++
		}
	}
	if gets != 1 {
		t.Errorf("%d reads of the pods' node over two diagnoses, want 1", gets)
	}
}
