package app

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

func TestParseAndValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string // empty: valid
	}{
		{name: "workload", args: []string{"--workload", "deploy/api"}},
		{name: "manifests and selector", args: []string{"-f", "k8s/", "-l", "app=api", "-n", "prod"}},
		{name: "nothing to watch", args: nil, wantErr: "nothing to watch"},
		{name: "bad duration", args: []string{"--workload", "deploy/api", "--timeout", "soon"}, wantErr: `invalid argument "soon"`},
		{name: "zero timeout", args: []string{"--workload", "deploy/api", "--timeout", "0s"}, wantErr: "--timeout 0s: must be positive"},
		{name: "negative tolerance", args: []string{"--workload", "deploy/api", "--crash-tolerance", "-1"}, wantErr: "--crash-tolerance -1"},
		{name: "bad output", args: []string{"--workload", "deploy/api", "-o", "yaml"}, wantErr: `--output "yaml": use text or json`},
		{name: "bad workload kind", args: []string{"--workload", "cron_job/x"}, wantErr: `"cron_job" is not a kind`},
		{name: "dry run needs rollback", args: []string{"--workload", "deploy/api", "--dry-run"}, wantErr: "--dry-run only applies to --rollback"},
		{name: "bad comment mode", args: []string{"--workload", "deploy/api", "--comment", "sometimes"}, wantErr: `--comment "sometimes"`},
		{name: "stray argument", args: []string{"deploy/api"}, wantErr: `unexpected argument "deploy/api"`},
		{name: "unknown flag", args: []string{"--wat"}, wantErr: "unknown flag: --wat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := Parse(tt.args, io.Discard)
			if err == nil {
				err = o.Validate()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if fault.Code(err) != fault.ExitInvalid {
				t.Errorf("exit code %d, want %d (invalid input)", fault.Code(err), fault.ExitInvalid)
			}
		})
	}
}

func TestArgsFromInputs(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"INPUT_NAMESPACE":       " prod ",
		"INPUT_WORKLOAD":        "deployment/api\nstatefulset/db\n",
		"INPUT_FILENAME":        "k8s/app.yaml, k8s/db.yaml",
		"INPUT_CRASH-TOLERANCE": "2", // the runner keeps the hyphen
		"INPUT_ROLLBACK":        "True",
		"INPUT_TIMEOUT":         "",
		"INPUT_UNKNOWN":         "ignored",
	}
	args := ArgsFromInputs(func(k string) string { return env[k] })
	want := "--namespace=prod --filename=k8s/app.yaml --filename=k8s/db.yaml --workload=deployment/api --workload=statefulset/db --crash-tolerance=2 --rollback=true"
	if got := strings.Join(args, " "); got != want {
		t.Fatalf("args\n got %s\nwant %s", got, want)
	}
	o, err := Parse(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.CrashTolerance != 2 || !o.Rollback || len(o.Workloads) != 2 || o.Timeout != 5*time.Minute {
		t.Errorf("parsed %+v", o)
	}
}
