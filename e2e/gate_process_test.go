//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
)

// gateProcess is one start of the gate binary: every way the tests run it (a command, a watch
// the test acts on meanwhile, a container action) starts it here and waits for it here.
type gateProcess struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer // read only once the process has exited
	stderr syncBuffer   // read while it runs: the progress lines
	// started and ended frame the process; err is cmd.Wait's. ended and err are set before exited
	// is closed.
	started, ended time.Time
	err            error
	exited         chan struct{}
}

// startGate starts the gate binary with args in folder dir ("" for this one) with environment
// env, and waits for it in the background. The deadline guards against a hang, it is not a
// timing assertion: the longest run here takes a few minutes.
func startGate(t *testing.T, dir string, env []string, args ...string) *gateProcess {
	t.Helper()
	return startGateStdin(t, dir, env, nil, args...)
}

// startGateStdin is startGate with stdin as the gate's standard input (a stream for -f -).
func startGateStdin(t *testing.T, dir string, env []string, stdin io.Reader, args ...string) *gateProcess {
	t.Helper()
	return startBinary(t, framework.GateBinary(t), dir, env, stdin, args...)
}

// startBinary is startGateStdin with a gate binary of the test's choosing (one built with a build tag).
func startBinary(t *testing.T, bin, dir string, env []string, stdin io.Reader, args ...string) *gateProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	p := &gateProcess{cmd: exec.CommandContext(ctx, bin, args...), exited: make(chan struct{})}
	p.cmd.Dir, p.cmd.Env, p.cmd.Stdin = dir, env, stdin
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	t.Cleanup(cancel) // a gate the test did not wait for ends with it
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start the gate: %v", err)
	}
	go func() {
		defer cancel()
		p.err = p.cmd.Wait()
		p.ended = time.Now()
		close(p.exited)
	}()
	return p
}

// wait waits for the gate to exit and returns its exit code (-1 when a signal ended it). It fails
// the test when the gate could not be run at all.
func (p *gateProcess) wait(t *testing.T) int {
	t.Helper()
	<-p.exited
	var exitErr *exec.ExitError
	switch {
	case errors.As(p.err, &exitErr):
		return exitErr.ExitCode()
	case p.err != nil:
		t.Fatalf("run the gate: %v\nstderr:\n%s", p.err, p.stderr.String())
	}
	return 0
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	waits map[string]chan struct{} // by the text they wait for
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	for want, ch := range s.waits {
		if strings.Contains(s.b.String(), want) {
			close(ch)
			delete(s.waits, want)
		}
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// shows returns a channel that is closed once the buffer holds want.
func (s *syncBuffer) shows(want string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	switch {
	case strings.Contains(s.b.String(), want):
		close(ch)
	case s.waits[want] != nil:
		return s.waits[want]
	default:
		if s.waits == nil {
			s.waits = map[string]chan struct{}{}
		}
		s.waits[want] = ch
	}
	return ch
}
