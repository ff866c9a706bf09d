package workload

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestUnderRefusesLooseningByDefault is the attacker's side: whoever can annotate a workload must
// not switch the gate off for it, nor loosen what the CI owner set, unless the run allows it.
func TestUnderRefusesLooseningByDefault(t *testing.T) {
	t.Parallel()
	dur := func(d time.Duration) *time.Duration { return &d }
	num := func(n int) *int { return &n }
	run := RunSettings{Timeout: 5 * time.Minute, CrashTolerance: 0, Soak: 30 * time.Second}
	hostile := Settings{Ignore: true, CrashTolerance: num(2147483647), Soak: dur(0)}
	strict := Settings{Timeout: dur(time.Minute), CrashTolerance: num(0), Soak: dur(time.Minute), NoRollback: true}
	tests := []struct {
		name   string
		policy AnnotationPolicy
		s      Settings
		// want is the effective settings, then each override as annotation=value applied/refused
		// and loosens when it does.
		want, wantOverrides string
	}{
		{name: "tighten refuses ignore and loosening", policy: AnnotationsTighten, s: hostile,
			want:          "ignore=false timeout=<nil> crash=<nil> soak=<nil> norollback=false",
			wantOverrides: "rollout-gate.io/ignore=true refused loosens; rollout-gate.io/crash-tolerance=2147483647 refused loosens; rollout-gate.io/soak=0s refused loosens"},
		{name: "tighten applies what is stricter", policy: AnnotationsTighten, s: strict,
			want:          "ignore=false timeout=1m0s crash=<nil> soak=1m0s norollback=true",
			wantOverrides: "rollout-gate.io/timeout=1m0s applied; rollout-gate.io/crash-tolerance=0 refused; rollout-gate.io/soak=1m0s applied; rollout-gate.io/rollback=false applied"},
		{name: "tighten: a longer timeout changes nothing", policy: AnnotationsTighten, s: Settings{Timeout: dur(time.Hour)},
			want: "ignore=false timeout=<nil> crash=<nil> soak=<nil> norollback=false", wantOverrides: "rollout-gate.io/timeout=1h0m0s refused"},
		{name: "all applies and marks the loosening", policy: AnnotationsAll, s: hostile,
			want:          "ignore=true timeout=<nil> crash=2147483647 soak=0s norollback=false",
			wantOverrides: "rollout-gate.io/ignore=true applied loosens; rollout-gate.io/crash-tolerance=2147483647 applied loosens; rollout-gate.io/soak=0s applied loosens"},
		{name: "none applies nothing, and says so", policy: AnnotationsNone, s: strict,
			want:          "ignore=false timeout=<nil> crash=<nil> soak=<nil> norollback=false",
			wantOverrides: "rollout-gate.io/timeout=1m0s refused; rollout-gate.io/crash-tolerance=0 refused; rollout-gate.io/soak=1m0s refused; rollout-gate.io/rollback=false refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eff, ovs := tt.s.Under(tt.policy, run)
			if got := show(eff); got != tt.want {
				t.Errorf("settings %s\nwant     %s", got, tt.want)
			}
			var parts []string
			for _, o := range ovs {
				p := o.String() + map[bool]string{true: " applied", false: " refused"}[o.Applied]
				if o.Loosens {
					p += " loosens"
				}
				parts = append(parts, p)
				if o.Why == "" || (!o.Applied && tt.policy == AnnotationsTighten && o.Loosens && !strings.Contains(o.Why, "--workload-annotations all")) {
					t.Errorf("override %s: why %q does not say what was done and how to allow it", o, o.Why)
				}
			}
			if got := strings.Join(parts, "; "); got != tt.wantOverrides {
				t.Errorf("overrides %s\nwant      %s", got, tt.wantOverrides)
			}
		})
	}
}

func show(s Settings) string {
	str := func(p any) string {
		switch v := p.(type) {
		case *time.Duration:
			if v != nil {
				return v.String()
			}
		case *int:
			if v != nil {
				return fmt.Sprint(*v)
			}
		}
		return "<nil>"
	}
	return fmt.Sprintf("ignore=%v timeout=%s crash=%s soak=%s norollback=%v", s.Ignore, str(s.Timeout), str(s.CrashTolerance), str(s.Soak), s.NoRollback)
}

func TestParseAnnotationPolicy(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"tighten": true, "all": true, "none": true, "": false, "ALL": false, "loosen": false} {
		if _, got := ParseAnnotationPolicy(in); got != ok {
			t.Errorf("ParseAnnotationPolicy(%q) ok=%v, want %v", in, got, ok)
		}
	}
}
