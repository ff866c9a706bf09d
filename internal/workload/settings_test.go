package workload

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

func TestParseSettings(t *testing.T) {
	t.Parallel()
	dur := func(d time.Duration) *time.Duration { return &d }
	num := func(n int) *int { return &n }
	tests := []struct {
		name    string
		ann     map[string]string
		want    Settings
		wantErr []string // parts of the error, which must be invalid input (exit 2)
	}{
		{name: "none", ann: nil, want: Settings{}},
		{name: "other annotations are not ours", ann: map[string]string{"deployment.kubernetes.io/revision": "3", "rollout-gate.io.example/x": "y"}, want: Settings{}},
		{name: "every setting", ann: map[string]string{AnnotationTimeout: "20s", AnnotationCrashTolerance: "0", AnnotationSoak: "1m30s",
			AnnotationIgnore: "false", AnnotationRollback: "false"},
			want: Settings{Timeout: dur(20 * time.Second), CrashTolerance: num(0), Soak: dur(90 * time.Second), NoRollback: true}},
		{name: "ignore", ann: map[string]string{AnnotationIgnore: "true"}, want: Settings{Ignore: true}},
		{name: "rollback true is the default", ann: map[string]string{AnnotationRollback: "true"}, want: Settings{}},
		{name: "soak 0 is allowed", ann: map[string]string{AnnotationSoak: "0s"}, want: Settings{Soak: dur(0)}},
		{name: "spaces around a value", ann: map[string]string{AnnotationCrashTolerance: " 3 "}, want: Settings{CrashTolerance: num(3)}},
		{name: "timeout not a duration", ann: map[string]string{AnnotationTimeout: "5 minutes"},
			wantErr: []string{"deployment/api in namespace prod", "annotation rollout-gate.io/timeout", `"5 minutes"`, "Go duration", "kubectl annotate deployment/api -n prod rollout-gate.io/timeout=5m --overwrite"}},
		{name: "timeout 0", ann: map[string]string{AnnotationTimeout: "0s"}, wantErr: []string{"rollout-gate.io/timeout", "positive"}},
		{name: "negative soak", ann: map[string]string{AnnotationSoak: "-1s"}, wantErr: []string{"rollout-gate.io/soak", "0s or more"}},
		{name: "crash-tolerance negative", ann: map[string]string{AnnotationCrashTolerance: "-1"}, wantErr: []string{"rollout-gate.io/crash-tolerance", "0 or more"}},
		{name: "crash-tolerance not a number", ann: map[string]string{AnnotationCrashTolerance: "two"}, wantErr: []string{"rollout-gate.io/crash-tolerance", `"two"`}},
		{name: "ignore yes", ann: map[string]string{AnnotationIgnore: "yes"}, wantErr: []string{"rollout-gate.io/ignore", `"true" or "false"`, "rollout-gate.io/ignore=true"}},
		{name: "rollback no", ann: map[string]string{AnnotationRollback: "no"}, wantErr: []string{"rollout-gate.io/rollback", "rollout-gate.io/rollback=false"}},
		{name: "unknown annotation, a typo", ann: map[string]string{"rollout-gate.io/timout": "5m"},
			wantErr: []string{`unknown annotation "rollout-gate.io/timout"`, "rollout-gate.io/timeout", "kubectl annotate deployment/api -n prod rollout-gate.io/timout-"}},
		{name: "a hostile value is quoted and cut", ann: map[string]string{AnnotationSoak: "1s\n::error::x" + strings.Repeat("y", 100)},
			wantErr: []string{`"1s\n::error::x`, "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSettings("deployment/api", "prod", tt.ann)
			if len(tt.wantErr) > 0 {
				if err == nil || fault.Code(err) != fault.ExitInvalid {
					t.Fatalf("err %v (exit %d), want invalid input", err, fault.Code(err))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q has a line break from the cluster's value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
