package diagnose

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// recordedExpect is expect.yaml of a recorded fixture: what the e2e scenario asserted when the
// fixture was recorded (e2e -record-fixtures writes both).
type recordedExpect struct {
	Scenario  string       `json:"scenario"`
	Workload  string       `json:"workload"`
	Reason    string       `json:"reason"`
	Cause     report.Cause `json:"cause"`
	Container string       `json:"container"`
	Since     time.Time    `json:"since"`
	Now       time.Time    `json:"now"`
}

// TestRecordedFixtures runs the diagnosis on what the real cluster held in each e2e scenario and
// asserts the cause the scenario expects.
func TestRecordedFixtures(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "recorded", "*", "expect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no recorded fixture under testdata/recorded: record them with the e2e flag -record-fixtures")
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var exp recordedExpect
			if err := yaml.UnmarshalStrict(b, &exp); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			fx := loadFixture(t, filepath.Join("recorded", filepath.Base(dir)))
			d, _, _ := fx.diagnoser(nil)
			d.Now = func() time.Time { return exp.Now }
			in := fx.input(exp.Reason)
			in.Since = exp.Since
			res, err := d.Diagnose(context.Background(), in)
			if err != nil {
				t.Fatalf("diagnose: %v", err)
			}
			if len(res.Findings) == 0 {
				t.Fatalf("no finding, want %s", exp.Cause)
			}
			f := res.Findings[0]
			if f.Cause != exp.Cause {
				t.Fatalf("scenario %s: cause %s, want %s\n%s", exp.Scenario, f.Cause, exp.Cause, dump(res.Findings))
			}
			if exp.Container != "" && f.Container != exp.Container {
				t.Errorf("scenario %s: the finding names container %q, want %q", exp.Scenario, f.Container, exp.Container)
			}
		})
	}
}
