package diagnose

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

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
			res := fx.crashLoop(t, d)
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

// prevErrLogs fails every read of a previous instance's log with err.
type prevErrLogs struct {
	*recordedLogs
	err error
}

func (p *prevErrLogs) Logs(ctx context.Context, ns, pod, container string, previous bool, tail int64) ([]byte, error) {
	out, err := p.recordedLogs.Logs(ctx, ns, pod, container, previous, tail)
	if previous {
		return nil, p.err
	}
	return out, err
}

// A container whose crashed instance has not been restarted yet (state terminated, or never
// restarted) crashed in its current instance: its current log is the crash's log, and not
// finding a previous one is no news worth reporting (the kubelet keeps one dead instance, so
// after a second crash the first one's log is gone). Once it has been restarted, the previous
// log is the one that matters, and failing to read it is said.
func TestLogOfTheLatestCrash(t *testing.T) {
	t.Parallel()
	const (
		key      = "api-7d4b9c-xkp2z/api"
		crashLog = "2026-04-04T08:15:00Z starting\n2026-04-04T08:15:01Z worker pool exhausted, exiting\n"
	)
	noPrevious := errors.New(`previous terminated container "api" in pod "api-7d4b9c-xkp2z" not found`)
	gone := errors.New("unable to retrieve container logs for containerd://0123abcd")
	crashedOnce := func(in *Input) {
		st := &in.Pods[0].Status.ContainerStatuses[0]
		st.RestartCount = 0
		st.State = corev1.ContainerState{Terminated: st.LastTerminationState.Terminated.DeepCopy()}
	}
	tests := []struct {
		name         string
		edit         func(*Input)
		prevErr      error
		wantPrevious bool // a read of the previous instance was attempted
		wantNote     bool
	}{
		{"terminated, restartCount 0, no last state: only the current log is read", func(in *Input) {
			crashedOnce(in)
			in.Pods[0].Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{}
		}, noPrevious, false, false},
		{"terminated, restartCount 0, last state set: only the current log is read", crashedOnce, noPrevious, false, false},
		{"back-off before the first restart: the kubelet lost the log, quietly the current one", func(in *Input) {
			in.Pods[0].Status.ContainerStatuses[0].RestartCount = 0
		}, gone, true, false},
		{"crashed again after a restart and not restarted yet: the current log is the latest crash's", func(in *Input) {
			st := &in.Pods[0].Status.ContainerStatuses[0]
			st.RestartCount = 1
			st.State = corev1.ContainerState{Terminated: st.LastTerminationState.Terminated.DeepCopy()}
		}, gone, false, false},
		{"restarted 3 times: the previous log is missing, and that is said", nil, noPrevious, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := loadFixture(t, "unknown")
			d, _, rl := fx.diagnoser(map[string]string{key: crashLog})
			d.Logs = &prevErrLogs{recordedLogs: rl, err: tt.prevErr}
			in := fx.input("CrashLoopBackOff")
			if tt.edit != nil {
				tt.edit(&in)
			}
			res, err := d.Diagnose(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			f := res.Findings[0]
			if f.Cause != report.CauseAppCrash || !strings.Contains(f.Summary, "worker pool exhausted, exiting") {
				t.Errorf("finding %s %q, want app-crash quoting the crash's log", f.Cause, f.Summary)
			}
			if f.Logs == nil || f.Logs.Previous {
				t.Errorf("log excerpt %+v, want the current instance's", f.Logs)
			}
			if noted := containsSub(f.Evidence, "could not read the previous container's log"); noted != tt.wantNote {
				t.Errorf("evidence notes the previous log as unreadable: %t, want %t: %q", noted, tt.wantNote, f.Evidence)
			}
			rl.mu.Lock()
			defer rl.mu.Unlock()
			if tried := slices.ContainsFunc(rl.calls, func(c string) bool { return strings.Contains(c, "previous=true") }); tried != tt.wantPrevious {
				t.Errorf("read the previous instance: %t, want %t (%q)", tried, tt.wantPrevious, rl.calls)
			}
		})
	}
}

func TestParseLog(t *testing.T) {
	t.Parallel()
	raw := "2026-04-04T08:15:01.123456789Z first\nno timestamp here\n2026-04-04T08:15:02Z third\n"
	lt := parseLog([]byte(raw), true, 2)
	if !lt.Truncated || len(lt.Lines) != 2 || lt.Lines[0] != "no timestamp here" || lt.Lines[1] != "third" {
		t.Errorf("parseLog = %+v", lt)
	}
	if !lt.Times[0].IsZero() || lt.Times[1] != time.Date(2026, 4, 4, 8, 15, 2, 0, time.UTC) {
		t.Errorf("times = %v", lt.Times)
	}
	// Lines are kept whole until they are masked; the cut comes after (report.Redact).
	long := strings.Repeat("x", report.MaxLineLen+10)
	if got := parseLog([]byte(long), false, 50).Lines[0]; got != long {
		t.Errorf("line cut before masking: %d bytes", len(got))
	}
}

// flakyPrevious fails the first reads of the previous instance with err, then serves the log.
type flakyPrevious struct {
	*recordedLogs
	err   error
	fails int
}

func (p *flakyPrevious) Logs(ctx context.Context, ns, pod, container string, previous bool, tail int64) ([]byte, error) {
	out, err := p.recordedLogs.Logs(ctx, ns, pod, container, previous, tail)
	if previous {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.fails > 0 {
			p.fails--
			return nil, p.err
		}
	}
	return out, err
}

// A read of the previous log that fails once right after a restart, in either of the ways the
// kubelet words it on the local cluster, is tried again: the crash's own log is the evidence.
func TestPreviousLogReadIsRetried(t *testing.T) {
	t.Parallel()
	const key = "api-7d4b9c-xkp2z/api"
	for _, e := range []error{
		errors.New(`previous terminated container "api" in pod "api-7d4b9c-xkp2z" not found`),
		errors.New("the server rejected our request for an unknown reason (get pods api-7d4b9c-xkp2z)"),
	} {
		t.Run(e.Error(), func(t *testing.T) {
			t.Parallel()
			fx := loadFixture(t, "unknown")
			d, _, rl := fx.diagnoser(map[string]string{key: "2026-04-04T08:15:01Z worker pool exhausted, exiting\n"})
			d.Logs = &flakyPrevious{recordedLogs: rl, err: e, fails: 1}
			res, err := d.Diagnose(context.Background(), fx.input("CrashLoopBackOff"))
			if err != nil {
				t.Fatal(err)
			}
			f := res.Findings[0]
			if f.Logs == nil || !f.Logs.Previous {
				t.Errorf("log excerpt %+v, want the previous instance's", f.Logs)
			}
			if containsSub(f.Evidence, "could not read") {
				t.Errorf("a read that succeeded on retry is reported as a gap: %q", f.Evidence)
			}
		})
	}
}
