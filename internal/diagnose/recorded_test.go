package diagnose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
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

// readExpect reads the expect.yaml at path, strictly: a field the e2e recorder writes that this
// test does not know fails every test that reads the fixtures.
func readExpect(t *testing.T, path string) recordedExpect {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var exp recordedExpect
	if err := yaml.UnmarshalStrict(b, &exp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return exp
}

// recordedRules is the rule that decides each recorded scenario: the rule table on what a real
// kubelet wrote.
var recordedRules = map[string]string{
	"app-crash--go-panic":                               "crash-signature",
	"app-crash--python-traceback":                       "crash-signature",
	"app-crash--self-reported":                          "self-reported-error",
	"app-crash--self-reported-first-crash":              "self-reported-error",
	"config-error":                                      "config-error",
	"create-denied":                                     "create-denied",
	"dependency-unavailable--no-such-service":           "dependency",
	"dependency-unavailable--service-without-endpoints": "dependency",
	"exit-143":                                "killed-from-outside",
	"final--autoscaler-will-not-scale-up":     "unschedulable",
	"final--limitrange":                       "create-denied",
	"final--manifest-unknown":                 "image-pull",
	"final--missing-pvc":                      "unschedulable",
	"image-pull--never-pull":                  "image-pull",
	"image-pull--unreachable-registry":        "image-pull",
	"init-container":                          "init-failure",
	"liveness-probe--slow-start":              "probe-kill",
	"liveness-probe--wrong-path":              "probe-kill",
	"missing-configmap":                       "config-ref",
	"missing-configmap-key":                   "config-ref",
	"missing-configmap-volume":                "pod-volume",
	"missing-secret":                          "config-ref",
	"missing-secret-key":                      "config-ref",
	"missing-secret-key-volume":               "pod-volume",
	"missing-secret-volume":                   "pod-volume",
	"missing-secret-volume--projected-source": "pod-volume",
	"node-pressure":                           "unschedulable",
	"oom-killed":                              "oom-killed",
	"readiness-probe":                         "not-ready-readiness-probe",
	"unschedulable":                           "unschedulable",
}

// recordedFixtures lists the expect.yaml of every recorded fixture: the default version's set under
// testdata/recorded and the other versions' under testdata/recorded-<version> (e2e
// -record-fixtures -record-fixtures-set <version>). The default set must be there.
func recordedFixtures(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "recorded*", "*", "expect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(dirs, func(p string) bool {
		return strings.HasPrefix(p, filepath.Join("testdata", "recorded")+string(filepath.Separator))
	}) {
		t.Fatal("no recorded fixture under testdata/recorded: record them with the e2e flag -record-fixtures")
	}
	return dirs
}

// fixtureRel is a fixture folder from testdata ("recorded-v1.37/oom-killed"), as the loader
// takes it; fixtureName names its subtest: the scenario, prefixed by a set other than the default.
func fixtureRel(dir string) string {
	return filepath.Join(filepath.Base(filepath.Dir(dir)), filepath.Base(dir))
}

func fixtureName(dir string) string {
	if set := strings.TrimPrefix(filepath.Base(filepath.Dir(dir)), "recorded"); set != "" {
		return strings.TrimPrefix(set, "-") + "/" + filepath.Base(dir)
	}
	return filepath.Base(dir)
}

// TestRecordedFixtures runs the diagnosis on what the real cluster held in each e2e scenario and
// asserts the cause the scenario expects.
func TestRecordedFixtures(t *testing.T) {
	t.Parallel()
	dirs := recordedFixtures(t)
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(fixtureName(dir), func(t *testing.T) {
			t.Parallel()
			exp := readExpect(t, path)
			tc := classifyCase{fixture: fixtureRel(dir), reason: exp.Reason}
			d, in := tc.setup(t)
			d.Now = func() time.Time { return exp.Now }
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
			rule, ok := recordedRules[filepath.Base(dir)]
			if !ok {
				t.Fatalf("recorded scenario %s: name the rule that decides it in recordedRules", filepath.Base(dir))
			}
			ev, err := d.gather(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			for _, fd := range fire(ev) {
				if fd.finding.Cause == f.Cause && fd.finding.Container == f.Container {
					rules = append(rules, fd.rule)
				}
			}
			if !slices.Contains(rules, rule) {
				t.Errorf("scenario %s: decided by rules %v, want %q", exp.Scenario, rules, rule)
			}
		})
	}
}

// TestRecordedMessagesSayThingsOnce renders every finding of every recorded fixture (what a real
// kubelet, scheduler and API server wrote) and checks that no line ends by repeating itself, as
// the missing-PVC message did ("... not found. not found"); the last case is that message.
func TestRecordedMessagesSayThingsOnce(t *testing.T) {
	t.Parallel()
	dirs := recordedFixtures(t)
	type tcase struct {
		name string
		tc   classifyCase
		exp  recordedExpect
	}
	var cases []tcase
	for _, path := range dirs {
		exp := readExpect(t, path)
		rel := fixtureRel(filepath.Dir(path))
		cases = append(cases, tcase{fixtureName(filepath.Dir(path)), classifyCase{fixture: rel, reason: exp.Reason}, exp})
		if rel == filepath.Join("recorded", "unschedulable") {
			doubled := classifyCase{fixture: rel, reason: exp.Reason, editInput: func(in *Input) {
				for i := range in.Pods {
					for j := range in.Pods[i].Status.Conditions {
						if c := &in.Pods[i].Status.Conditions[j]; c.Type == corev1.PodScheduled {
							c.Message = `0/1 nodes are available: persistentvolumeclaim "claims-data" not found. not found`
						}
					}
				}
			}}
			cases = append(cases, tcase{"missing PVC, as the scheduler words it", doubled, exp})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, in := c.tc.setup(t)
			d.Now = func() time.Time { return c.exp.Now }
			in.Since = c.exp.Since
			res, err := d.Diagnose(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) == 0 {
				t.Fatal("no finding")
			}
			for _, f := range res.Findings {
				for _, line := range append([]string{f.Summary, f.Detail}, f.Evidence...) {
					if workload.HasRepeatedTail(line) {
						t.Errorf("cause %s says a thing twice: %q", f.Cause, line)
					}
				}
			}
		})
	}
}
