package diagnose

import (
	"strings"
	"testing"
)

func TestExitCodeMeaning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   int32
		reason string
		want   []string
		not    []string
	}{
		{0, "Completed", []string{"exited normally", "liveness kill"}, nil},
		{1, "Error", []string{"general application error"}, nil},
		{2, "Error", []string{"usage error", "panic"}, nil},
		{126, "Error", []string{"not executable"}, nil},
		{127, "Error", []string{"command not found"}, nil},
		{128, "ContainerCannotRun", []string{"runtime could not start the process"}, nil},
		{128, "Error", []string{"could not start the container"}, nil},
		{137, "OOMKilled", []string{"OOM killer", "more memory than its limit"}, []string{"liveness"}},
		{137, "Error", []string{"SIGKILL", "not OOMKilled", "liveness"}, []string{"OOM killer:"}},
		{137, "", []string{"SIGKILL", "not OOMKilled"}, nil},
		{139, "Error", []string{"SIGSEGV", "segmentation fault"}, nil},
		{143, "Error", []string{"SIGTERM", "not handled", "liveness"}, nil},
		{134, "Error", []string{"SIGABRT"}, nil},
		{130, "", []string{"SIGINT"}, nil},
		{129, "", []string{"killed by signal SIGHUP (128+1)"}, nil},
		{255, "", []string{"255"}, nil},
		{3, "", []string{"exit 3: an application-defined error code"}, nil},
		{-1, "", []string{"negative"}, nil},
		{1, "OOMKilled", []string{"OOM killer"}, nil},
	}
	for _, tc := range tests {
		got := ExitCodeMeaning(tc.code, tc.reason)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("ExitCodeMeaning(%d, %q) = %q, want it to contain %q", tc.code, tc.reason, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("ExitCodeMeaning(%d, %q) = %q, must not contain %q", tc.code, tc.reason, got, n)
			}
		}
	}
}

func TestSignalOf(t *testing.T) {
	t.Parallel()
	for code, want := range map[int32]int32{0: 0, 1: 0, 128: 0, 137: 9, 143: 15, 139: 11, 159: 31, 160: 0, 255: 0} {
		if got := signalOf(code); got != want {
			t.Errorf("signalOf(%d) = %d, want %d", code, got, want)
		}
	}
}
