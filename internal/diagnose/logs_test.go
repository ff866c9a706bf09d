package diagnose

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// The kubelet commits a 200 response before it reads the log file, so when the file of a dead
// instance is gone its error arrives as the body (seen on a real v1.34 kubelet with containerd).
func TestKubeletLogError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       bool
	}{
		{"container gone", "unable to retrieve container logs for containerd://146d6c693d50", true},
		{"container gone, newline", "unable to retrieve container logs for containerd://146d6c693d50\n", true},
		{"log file gone", `failed to try resolving symlinks in path "/var/log/pods/ns_api-1_uid/app/0.log": lstat /var/log/pods/ns_api-1_uid/app/0.log: no such file or directory`, true},
		{"file unreadable", `failed to open log file "/var/log/pods/x/app/1.log": permission denied`, true},
		{"error after some lines", "2026-04-04T08:12:01.1Z starting\nfailed to read log file \"/var/log/pods/x/app/0.log\": EOF", true},
		{"the app logs the same words", "2026-04-04T08:12:01.1Z unable to retrieve container logs for containerd://x", false},
		{"app log", "2026-04-04T08:12:01.1Z FATAL: invalid value for DATABASE_PORT: \"abc\"\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := kubeletLogError([]byte(tt.body)) != nil; got != tt.want {
				t.Errorf("kubeletLogError(%q) = %t, want %t", tt.body, got, tt.want)
			}
		})
	}
}

// bodyErrLogs answers the first reads of the previous log with the kubelet's error as a body.
type bodyErrLogs struct {
	*recordedLogs
	mu    sync.Mutex
	body  string
	fails int
}

func (b *bodyErrLogs) Logs(ctx context.Context, ns, pod, container string, previous bool, tail int64) ([]byte, error) {
	out, err := b.recordedLogs.Logs(ctx, ns, pod, container, previous, tail)
	b.mu.Lock()
	defer b.mu.Unlock()
	if previous && b.fails > 0 {
		b.fails--
		return []byte(b.body), nil
	}
	return out, err
}

func TestDiagnoseKubeletErrorBodyIsNotTheAppLog(t *testing.T) {
	t.Parallel()
	const gone = "unable to retrieve container logs for containerd://146d6c693d505c9aee4d5c5de40b0201"
	tests := []struct {
		name         string
		fails        int
		wantPrevious bool
	}{
		{"transient: retried", 2, true},
		{"gone: falls back to the current log", 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := loadFixture(t, "config-error")
			d, _, rl := fx.diagnoser(nil)
			d.Logs = &bodyErrLogs{recordedLogs: rl, body: gone, fails: tt.fails}
			res, err := d.Diagnose(context.Background(), fx.input("CrashLoopBackOff"))
			if err != nil {
				t.Fatal(err)
			}
			f := res.Findings[0]
			if f.Cause != report.CauseConfigError {
				t.Fatalf("cause %s (%s), want config-error from the app's log", f.Cause, f.Summary)
			}
			if f.Logs == nil || f.Logs.Previous != tt.wantPrevious {
				t.Fatalf("logs %+v, want previous=%t", f.Logs, tt.wantPrevious)
			}
			if slices.ContainsFunc(f.Logs.Lines, func(l string) bool { return strings.Contains(l, "unable to retrieve") }) {
				t.Errorf("the kubelet's error is shown as a log line: %q", f.Logs.Lines)
			}
			said := containsSub(f.Evidence, "could not read the previous container's log (unable to retrieve container logs")
			if said != !tt.wantPrevious {
				t.Errorf("evidence says the previous log was unreadable: %t, want %t: %v", said, !tt.wantPrevious, f.Evidence)
			}
		})
	}
}
