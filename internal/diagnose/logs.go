package diagnose

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// LogSource reads the tail of a container's log. The real one streams from the API server
// (ClientLogs); tests supply recorded logs, since the fake clientset always answers "fake logs".
type LogSource interface {
	// Logs returns up to tail lines of the container's log, of the previous (crashed) instance when
	// previous is set. Lines may start with an RFC 3339 timestamp and a space.
	Logs(ctx context.Context, namespace, pod, container string, previous bool, tail int64) ([]byte, error)
}

// maxLogBytes caps one log read (report.MaxLineLen caps one line kept in the report).
const maxLogBytes = 256 << 10

// ClientLogs reads logs through the Kubernetes API (what `kubectl logs` does).
type ClientLogs struct {
	Client client.Interface
}

// Logs implements LogSource.
func (c ClientLogs) Logs(ctx context.Context, namespace, pod, container string, previous bool, tail int64) ([]byte, error) {
	limit := int64(maxLogBytes)
	req := c.Client.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container:  container,
		Previous:   previous,
		TailLines:  &tail,
		LimitBytes: &limit,
		Timestamps: true,
	})
	rc, err := req.Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxLogBytes))
}

// retryable reports whether a log read may succeed if tried again shortly: right after a crash
// the kubelet can briefly fail to find the dead container's log.
func retryable(err error) bool {
	s := err.Error()
	if kubeletErrorLine.MatchString(s) {
		return true
	}
	for _, t := range []string{"unable to retrieve container logs", "failed to try resolving symlinks", "no such file or directory", "context deadline exceeded", "connection reset", "EOF", "i/o timeout",
		// The API server's words for a kubelet's 5xx while it proxies the log request.
		"the server rejected our request for an unknown reason"} {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// kubeletErrorLine is the kubelet's own error when it cannot read a container's log file: the
// instance was garbage-collected (one dead container is kept per name) or its file is gone.
var kubeletErrorLine = regexp.MustCompile(`^(unable to retrieve container logs for \S+|failed to try resolving symlinks in path |failed to open log file |failed to tail \d+ lines of log file |failed to seek \d+ in log file |failed to read log file )`)

// kubeletLogError recognises that error in a successful response. The kubelet commits the 200
// status before it asks the runtime for the log, so the error arrives as the body, where it would
// pass for the app's last line. Real lines carry the timestamp ClientLogs asks for; this does not.
func kubeletLogError(b []byte) error {
	s := strings.TrimRight(string(b), "\r\n")
	last := s[strings.LastIndexByte(s, '\n')+1:]
	if kubeletErrorLine.MatchString(last) {
		return errors.New(last)
	}
	return nil
}

// previousMissing reports whether the error says there is no previous instance to read.
func previousMissing(err error) bool {
	s := err.Error()
	return strings.Contains(s, "previous terminated container") && strings.Contains(s, "not found")
}

// fetchLog reads a container's log tail with retries; when the previous instance's log cannot be
// read it falls back to the current one, and says so unless the container never restarted (then
// the current instance is the one that crashed, and its log is the one wanted).
func (d *Diagnoser) fetchLog(ctx context.Context, src LogSource, ns, pod string, lc logCandidate) logTail {
	container, previous := lc.name, lc.previous
	tail := int64(d.logLines())
	try := func(prev bool) ([]byte, error) {
		var err error
		delay := d.retryDelay
		if delay <= 0 {
			delay = 250 * time.Millisecond
		}
		for attempt := 0; attempt < 3; attempt++ {
			var b []byte
			b, err = src.Logs(ctx, ns, pod, container, prev, tail)
			if err == nil {
				err = kubeletLogError(b)
			}
			if err == nil {
				return b, nil
			}
			// Right after a restart the kubelet may not have the dead instance on record yet
			// ("previous terminated container ... not found") though the status shows it: worth
			// another try when the container did restart; never when this is its first run.
			missing := prev && previousMissing(err)
			if ctx.Err() != nil || (!retryable(err) && !missing) || (missing && lc.firstRun) {
				return nil, err
			}
			if attempt < 2 {
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, ctx.Err()
				case <-t.C:
				}
				delay *= 2
			}
		}
		return nil, err
	}
	b, err := try(previous)
	if err == nil {
		return parseLog(b, previous, int(tail))
	}
	// Fall back to the current instance only when the previous one is what could not be read.
	if previous && ctx.Err() == nil && (retryable(err) || previousMissing(err)) {
		b2, err2 := try(false)
		if err2 == nil {
			lt := parseLog(b2, false, int(tail))
			if !lc.firstRun {
				lt.Err = fmt.Sprintf("could not read the previous container's log (%v); showing the current one", oneLineErr(err))
			}
			return lt
		}
	}
	return logTail{Previous: previous, Err: fmt.Sprintf("could not read logs: %v", oneLineErr(err))}
}

func oneLineErr(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// parseLog splits a log into lines, peeling off the timestamps the API adds.
func parseLog(b []byte, previous bool, tail int) logTail {
	// The API ends every line with a newline: a read without one stopped inside its last line.
	lt := logTail{Previous: previous, Cut: len(b) > 0 && b[len(b)-1] != '\n'}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxLogBytes)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		var at time.Time
		if i := strings.IndexByte(line, ' '); i > 0 && i < 40 {
			if t, err := time.Parse(time.RFC3339Nano, line[:i]); err == nil {
				at, line = t, line[i+1:]
			}
		}
		// Lines are kept whole here (maxLogBytes bounds them all): they are masked first, and the
		// report boundary cuts them at report.MaxLineLen after (report.Redact).
		lt.Lines = append(lt.Lines, line)
		lt.Times = append(lt.Times, at)
	}
	if tail > 0 && len(lt.Lines) >= tail {
		lt.Truncated = true
		lt.Lines = lt.Lines[len(lt.Lines)-tail:]
		lt.Times = lt.Times[len(lt.Times)-tail:]
	}
	return lt
}
