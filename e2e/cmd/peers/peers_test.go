package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/rollout-gate/rollout-gate/e2e/internal/benchstat"
)

func TestPeerVerdict(t *testing.T) {
	tests := []struct {
		name      string
		exit      int
		out       string
		atTimeout bool
		want      string
		stderr    string
	}{
		{"exit 0 is ready whatever it printed", 0, "CrashLoopBackOff", false, "ready", ""},
		{"killed by the bench", -1, "", true, "no exit", ""},
		{"non-zero at the timeout", 1, "error: timed out waiting for the condition", true, "timeout", ""},
		{"a probe message saying timeout is not a timeout", 1, "Readiness probe failed: Client.Timeout exceeded", false, "failed: Readiness-probe-failed", ""},
		{"first known reason in the output wins", 1, "po/api-1 ErrImagePull ... ImagePullBackOff", false, "failed: ErrImagePull", ""},
		{"init crash loop is not read as a plain crash loop", 1, "Init:CrashLoopBackOff", false, "failed: Init:CrashLoopBackOff", ""},
		{"unknown words stay out of the table", 1, "| [click](https://example.com) |", false, "failed", ""},
		{"the error on stderr wins over events on stdout", 1, "event: FailedMount: timed out", false, "failed: CrashLoopBackOff", "app failed: CrashLoopBackOff: back-off"},
		{"stdout when stderr names nothing known", 1, "ErrImageNeverPull", false, "failed: ErrImageNeverPull", "Error: exit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := peerVerdict(tt.exit, tt.atTimeout, []byte(tt.stderr), []byte(tt.out)); got != tt.want {
				t.Errorf("peerVerdict(%d, %q, %v) = %q, want %q", tt.exit, tt.out, tt.atTimeout, got, tt.want)
			}
		})
	}
}

func TestGateVerdict(t *testing.T) {
	tests := []struct {
		name   string
		exit   int
		stdout string
		want   string
	}{
		{"healthy", 0, `{"verdict":"healthy","workloads":[{"verdict":"healthy"}]}`, "ready"},
		{"cause of the first finding", 1, `{"verdict":"failed","workloads":[{"verdict":"failed","reason":"CrashLoopBackOff","findings":[{"cause":"oom-killed"}]}]}`, "failed: oom-killed"},
		{"reason without a finding", 1, `{"verdict":"timeout","workloads":[{"verdict":"timeout","reason":"ReadinessProbeFailing","findings":[]}]}`, "timeout: ReadinessProbeFailing"},
		{"a reason that is not a token is left out", 1, `{"verdict":"failed","workloads":[{"verdict":"failed","reason":"| **x** [y](z)"}]}`, "failed"},
		{"no JSON falls back to the exit", 3, `error: forbidden`, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gateVerdict(tt.exit, []byte(tt.stdout), nil, false); got != tt.want {
				t.Errorf("gateVerdict = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		exit    int
		healthy bool
		want    string
	}{
		{0, true, "right"},
		{1, true, "false alarm"},
		{0, false, "false pass"},
		{1, false, "right"},
		{-1, false, "no verdict"},
		{-1, true, "no verdict"},
	}
	for _, tt := range tests {
		if got := (outcome{exit: tt.exit}).result(tt.healthy); got != tt.want {
			t.Errorf("exit %d, healthy %v: %q, want %q", tt.exit, tt.healthy, got, tt.want)
		}
	}
}

func TestSplice(t *testing.T) {
	section := sectionBegin + "\nNEW\n" + sectionEnd
	tests := []struct {
		name, doc, want, err string
	}{
		{name: "new file", doc: "", want: "# Benchmarks\n\n## Peers side by side\n\n" + section + "\n"},
		{name: "file without the markers keeps its text", doc: "# Benchmarks\n\nscale figures\n", want: "# Benchmarks\n\nscale figures\n\n## Peers side by side\n\n" + section + "\n"},
		{name: "replaces only the section", doc: "intro\n" + sectionBegin + "\nOLD\n" + sectionEnd + "\nnotes\n", want: "intro\n" + section + "\nnotes\n"},
		{name: "one marker missing", doc: "intro\n" + sectionBegin + "\nOLD\n", err: "markers are broken"},
		{name: "markers out of order", doc: sectionEnd + "\n" + sectionBegin, err: "markers are broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splice(tt.doc, "NEW\n")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("splice = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSelectScenarios(t *testing.T) {
	tests := []struct {
		list string
		want []string
		err  string
	}{
		{list: "", want: strings.Split(scenarioNames(), ",")},
		{list: "slow-start, oom", want: []string{"oom", "slow-start"}}, // the bench's order
		{list: "oom,nope,zzz", err: "no scenario nope, zzz"},
		{list: " , ", err: "names no scenario"},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			got, err := selectScenarios(tt.list)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			var names []string
			for _, s := range got {
				names = append(names, s.name)
			}
			if err != nil || strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("selectScenarios(%q) = %v, %v; want %v", tt.list, names, err, tt.want)
			}
		})
	}
}

// Every scenario builds a valid one-replica Deployment named api that a chart can carry unchanged.
func TestScenarioManifests(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range scenarios {
		if seen[sc.name] || len(sc.name) > 30 {
			t.Errorf("scenario name %q: duplicate or too long for a namespace name", sc.name)
		}
		seen[sc.name] = true
		out, err := manifestYAML(sc.build(""))
		if err != nil {
			t.Fatalf("%s: %v", sc.name, err)
		}
		var d appsv1.Deployment
		if err := yaml.UnmarshalStrict(out, &d); err != nil {
			t.Fatalf("%s: the chart's manifest does not read back: %v", sc.name, err)
		}
		if d.Name != deploymentName || d.Namespace != "" || len(d.Spec.Template.Spec.Containers) != 1 {
			t.Errorf("%s: name %q namespace %q containers %d", sc.name, d.Name, d.Namespace, len(d.Spec.Template.Spec.Containers))
		}
	}
	if _, err := manifestYAML(withArgs("--print", "{{ .Values.x }}")); err == nil {
		t.Error("a manifest holding {{ was accepted as a chart template")
	}
}

func withArgs(args ...string) *appsv1.Deployment {
	d := scenarios[0].build("")
	d.Spec.Template.Spec.Containers[0].Args = args
	return d
}

func TestSummary(t *testing.T) {
	const timeout = 180 * time.Second
	rows := []row{
		{sc: scenario{name: "a"}, outcomes: []outcome{{exit: 1, elapsed: 10 * time.Second}}},
		{sc: scenario{name: "b"}, outcomes: []outcome{{exit: 1, elapsed: 30 * time.Second}}},
		{sc: scenario{name: "c"}, outcomes: []outcome{{exit: 1, elapsed: timeout}}}, // at the timeout: right, not caught
		{sc: scenario{name: "d"}, outcomes: []outcome{{exit: 0, elapsed: 5 * time.Second}}},
		{sc: scenario{name: "e", healthy: true}, outcomes: []outcome{{exit: 1, elapsed: 50 * time.Second}}},
		{sc: scenario{name: "f"}, err: errors.New("not run")},
	}
	s := summarize(rows, 0, timeout)
	if s.runs != 5 || s.right != 3 || s.falsePass != 1 || s.falseAlarm != 1 || s.broken != 4 || len(s.caught) != 2 {
		t.Errorf("summary %+v", s)
	}
	if m := benchstat.Median(s.caught); m != 20*time.Second {
		t.Errorf("median %s, want 20s", m)
	}
}
