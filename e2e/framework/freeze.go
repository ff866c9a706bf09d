package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The local cluster's daemons are plain processes whose PIDs hack/cluster-up.sh records under its
// run folder, one "PID BINARY" line per daemon. Freezing one (SIGSTOP) is what a control plane
// stalled by an etcd hiccup or a kubelet under memory pressure looks like from outside: the
// connections stay open and nothing comes through them.

// RunDir is the running cluster's folder (hack/cluster-lib.sh's RUN).
func RunDir() string {
	if d := os.Getenv("ROLLOUT_GATE_RUN"); d != "" {
		return d
	}
	return "/run/rollout-gate-cluster"
}

// DaemonPID returns the PID cluster-up.sh recorded for daemon (kube-apiserver, kubelet, ...),
// checking, as the cluster scripts' pid_of does, that the process is still that program.
func DaemonPID(daemon string) (int, error) {
	f := filepath.Join(RunDir(), "pids", daemon+".pid")
	b, err := os.ReadFile(f)
	if err != nil {
		return 0, fmt.Errorf("read the PID of %s: %w (is the local cluster up? make cluster-up)", daemon, err)
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, fmt.Errorf("%s: want \"PID BINARY\", got %q", f, b)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, fmt.Errorf("%s: PID %q: %w", f, fields[0], err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, fmt.Errorf("%s is not running (PID %d): %w", daemon, pid, err)
	}
	if exe, _, _ := strings.Cut(string(cmdline), "\x00"); exe != fields[1] {
		return 0, fmt.Errorf("PID %d is %s, not %s: the PID file %s is stale", pid, exe, fields[1], f)
	}
	return pid, nil
}

// Freezer stops one daemon of the local cluster and resumes it. Every freeze is undone: by
// Resume, by the test's cleanup (also after a failure or a panic of the test), and, should the test
// binary itself die (a go test -timeout), by a watchdog process outside it that resumes the
// daemon a little after the longest freeze asked for.
type Freezer struct {
	t      testing.TB
	Daemon string
	pid    int
}

// NewFreezer finds daemon's PID; it does not stop it yet.
func NewFreezer(t testing.TB, daemon string) *Freezer {
	t.Helper()
	pid, err := DaemonPID(daemon)
	if err != nil {
		t.Fatal(err)
	}
	f := &Freezer{t: t, Daemon: daemon, pid: pid}
	t.Cleanup(f.Resume)
	return f
}

// Freeze stops the daemon for at most d; a watchdog outside the test process resumes it after
// d plus a margin, whatever happens to the test.
func (f *Freezer) Freeze(d time.Duration) {
	f.t.Helper()
	// The watchdog is started first: once it runs, the daemon cannot stay stopped.
	secs := int((d + 10*time.Second).Seconds())
	dog := exec.Command("/bin/sh", "-c", fmt.Sprintf("sleep %d; kill -CONT %d 2>/dev/null", secs, f.pid))
	dog.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := dog.Start(); err != nil {
		f.t.Fatalf("start the watchdog that resumes %s: %v", f.Daemon, err)
	}
	go func() { _ = dog.Wait() }()
	if err := syscall.Kill(f.pid, syscall.SIGSTOP); err != nil {
		f.t.Fatalf("SIGSTOP %s (PID %d): %v", f.Daemon, f.pid, err)
	}
}

// Resume continues the daemon (harmless when it runs).
func (f *Freezer) Resume() {
	if err := syscall.Kill(f.pid, syscall.SIGCONT); err != nil {
		f.t.Errorf("SIGCONT %s (PID %d): %v; resume it by hand: kill -CONT %d", f.Daemon, f.pid, err, f.pid)
	}
}
