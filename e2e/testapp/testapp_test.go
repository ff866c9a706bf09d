package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the subprocess tests run the real main (signals, panics and exit codes only exist
// in a real process): with TESTAPP_RUN_MAIN=1 the test binary is the test app.
func TestMain(m *testing.M) {
	if os.Getenv("TESTAPP_RUN_MAIN") == "1" {
		os.Args = append([]string{"testapp"}, strings.Fields(os.Getenv("TESTAPP_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr string
	}{
		{name: "defaults", args: nil, want: config{listen: ":8080", dialTimeout: 5 * time.Second}},
		{
			name: "prints keep their order across streams",
			args: []string{"--print", "a", "--print-stderr", "b", "--print=c", "--exit-code", "1", "--delay", "2s"},
			want: config{listen: ":8080", dialTimeout: 5 * time.Second, delay: 2 * time.Second, exit: true, exitCode: 1,
				prints: []printLine{{text: "a"}, {stderr: true, text: "b"}, {text: "c"}}},
		},
		{
			name: "repeatable env flags",
			args: []string{"--require-env", "A", "--require-env", "B", "--require-int-env", "PORT", "--print-env", "TOKEN"},
			want: config{listen: ":8080", dialTimeout: 5 * time.Second, requireEnv: []string{"A", "B"},
				requireIntEnv: []string{"PORT"}, printEnv: []string{"TOKEN"}},
		},
		{
			name: "server options",
			args: []string{"--listen", ":9090", "--startup-delay", "22s", "--ready-after", "5s", "--alloc-mb", "200", "--ignore-sigterm"},
			want: config{listen: ":9090", dialTimeout: 5 * time.Second, startupDelay: 22 * time.Second,
				readyAfter: 5 * time.Second, allocMB: 200, ignoreSIGTERM: true},
		},
		{
			name: "panic and dial",
			args: []string{"--panic", "boom", "--dial", "db:5432", "--dial-timeout", "1s"},
			want: config{listen: ":8080", dialTimeout: time.Second, panic: true, panicMsg: "boom", dial: "db:5432"},
		},
		{name: "exit code out of range", args: []string{"--exit-code", "256"}, wantErr: "0 to 255"},
		{name: "exit code not a number", args: []string{"--exit-code", "x"}, wantErr: "0 to 255"},
		{name: "exit and panic", args: []string{"--exit-code", "1", "--panic", "x"}, wantErr: "exclude each other"},
		{name: "delay alone", args: []string{"--delay", "1s"}, wantErr: "--delay only applies"},
		{name: "negative alloc", args: []string{"--alloc-mb", "-1"}, wantErr: "want 0 or more"},
		{name: "positional argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) error = %v, want it to contain %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseFlags(%q) =\n%+v\nwant\n%+v", tt.args, got, tt.want)
			}
		})
	}
}

// tagged records both streams in one ordered transcript, each line prefixed with its stream.
type tagged struct {
	mu    sync.Mutex
	lines []string
}

type taggedWriter struct {
	t      *tagged
	prefix string
}

func (w taggedWriter) Write(p []byte) (int, error) {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	for _, l := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		w.t.lines = append(w.t.lines, w.prefix+l)
	}
	return len(p), nil
}

func newApp(env map[string]string) (*app, *tagged) {
	rec := &tagged{}
	return &app{
		stdout: taggedWriter{rec, "out: "},
		stderr: taggedWriter{rec, "err: "},
		lookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		now: time.Now,
	}, rec
}

func TestRunExitsWithOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		want     []string
	}{
		{
			name:     "prints in order then exits",
			args:     []string{"--print", "starting", "--print-stderr", "boom: config missing", "--print", "bye", "--exit-code", "1"},
			wantCode: 1,
			want:     []string{"out: starting", "err: boom: config missing", "out: bye"},
		},
		{
			name:     "exit code 0",
			args:     []string{"--exit-code", "0"},
			wantCode: 0,
			want:     nil,
		},
		{
			name:     "missing required env",
			args:     []string{"--require-env", "HOME_DIR", "--require-env", "DATABASE_URL", "--print", "never"},
			env:      map[string]string{"HOME_DIR": "/"},
			wantCode: 1,
			want:     []string{"err: FATAL: required environment variable DATABASE_URL is not set"},
		},
		{
			name:     "empty required env counts as set",
			args:     []string{"--require-env", "EMPTY", "--exit-code", "0"},
			env:      map[string]string{"EMPTY": ""},
			wantCode: 0,
		},
		{
			name:     "int env not an integer",
			args:     []string{"--require-int-env", "PORT"},
			env:      map[string]string{"PORT": "80 80"},
			wantCode: 1,
			want:     []string{`err: FATAL: invalid value for PORT: "80 80" (expected integer)`},
		},
		{
			name:     "int env missing",
			args:     []string{"--require-int-env", "PORT"},
			wantCode: 1,
			want:     []string{"err: FATAL: required environment variable PORT is not set"},
		},
		{
			name:     "int env valid",
			args:     []string{"--require-int-env", "PORT", "--exit-code", "3"},
			env:      map[string]string{"PORT": "-8080"},
			wantCode: 3,
		},
		{
			name:     "print env",
			args:     []string{"--print-env", "API_TOKEN", "--print-env", "UNSET", "--exit-code", "0"},
			env:      map[string]string{"API_TOKEN": "s3cr3t"},
			wantCode: 0,
			want:     []string{"out: API_TOKEN=s3cr3t", "out: UNSET="},
		},
		{
			name:     "alloc then exit",
			args:     []string{"--alloc-mb", "17", "--exit-code", "0"},
			wantCode: 0,
			want:     []string{"out: allocating 17 MiB", "out: allocated 16 MiB", "out: allocated 17 MiB, holding it"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseFlags(append(tt.args, "--listen", "127.0.0.1:0"), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			a, rec := newApp(tt.env)
			code := a.run(t.Context(), cfg)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			got := withoutServerLines(rec.lines)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("output =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// withoutServerLines drops the "server listening" line, which races with an immediate exit.
func withoutServerLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "out: server listening") {
			out = append(out, l)
		}
	}
	return out
}

func TestDial(t *testing.T) {
	t.Parallel()
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { open.Close() })
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name     string
		addr     string
		wantCode int
		want     string
	}{
		{name: "refused", addr: closedAddr, wantCode: 1,
			want: "err: FATAL: cannot connect to " + closedAddr + ": dial tcp " + closedAddr + ": connect: connection refused"},
		{name: "connected", addr: open.Addr().String(), wantCode: 0, want: "out: connected to " + open.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseFlags([]string{"--dial", tt.addr, "--exit-code", "0", "--listen", "127.0.0.1:0"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			a, rec := newApp(nil)
			if code := a.run(t.Context(), cfg); code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			got := withoutServerLines(rec.lines)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("output = %q, want [%q]", got, tt.want)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		path     string
		elapsed  time.Duration
		wantCode int
	}{
		{name: "health at once", path: "/health", elapsed: 0, wantCode: 200},
		{name: "not ready yet", path: "/ready", elapsed: 9 * time.Second, wantCode: 503},
		{name: "ready after", path: "/ready", elapsed: 10 * time.Second, wantCode: 200},
		{name: "unknown path", path: "/wrong-path", elapsed: time.Hour, wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := &app{now: func() time.Time { return start.Add(tt.elapsed) }}
			rr := httptest.NewRecorder()
			a.handler(start.Add(10*time.Second)).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rr.Code != tt.wantCode {
				t.Errorf("GET %s after %s = %d, want %d", tt.path, tt.elapsed, rr.Code, tt.wantCode)
			}
		})
	}
}

// startMain runs the real main in a subprocess and returns it with a reader over its stdout.
func startMain(t *testing.T, args string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TESTAPP_RUN_MAIN=1", "TESTAPP_ARGS="+args)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewScanner(out), stderr
}

// waitLine reads stdout until a line with prefix appears (or stdout ends).
func waitLine(t *testing.T, sc *bufio.Scanner, prefix string) {
	t.Helper()
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return
		}
	}
	t.Fatalf("stdout ended before a line starting with %q", prefix)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatalf("wait: %v", err)
	}
	return ee.ExitCode()
}

func TestProcessSIGTERMStopsServer(t *testing.T) {
	t.Parallel()
	cmd, sc, _ := startMain(t, "--listen 127.0.0.1:0")
	waitLine(t, sc, "server listening on 127.0.0.1:0")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine(t, sc, "received SIGTERM, shutting down")
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

func TestProcessIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	cmd, sc, _ := startMain(t, "--listen 127.0.0.1:0 --ignore-sigterm")
	waitLine(t, sc, "server listening on")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine(t, sc, "received SIGTERM, ignoring it")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd.Wait()); code != -1 {
		t.Errorf("exit code = %d, want -1 (killed by SIGKILL, still running after SIGTERM)", code)
	}
}

func TestProcessExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       string
		wantCode   int
		wantStderr string
	}{
		{name: "panic", args: "--print starting --panic boom", wantCode: 2, wantStderr: "panic: boom\n\ngoroutine "},
		{name: "exit code", args: "--exit-code 7", wantCode: 7},
		{name: "bad flag", args: "--exit-code nope", wantCode: 2, wantStderr: "want an integer from 0 to 255"},
		{name: "missing env", args: "--require-env SURELY_NOT_SET_XYZ", wantCode: 1,
			wantStderr: "FATAL: required environment variable SURELY_NOT_SET_XYZ is not set\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "TESTAPP_RUN_MAIN=1", "TESTAPP_ARGS="+tt.args+" --listen 127.0.0.1:0")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			code := exitCode(t, cmd.Run())
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// TestRunStopsOnCancel checks the in-process server path: it listens, then a cancelled context
// (what SIGTERM does in main) ends the run with 0.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--startup-delay", "1ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	a := &app{stdout: pw, stderr: io.Discard, lookupEnv: func(string) (string, bool) { return "", false }, now: time.Now}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, cfg); pw.Close() }()
	sc := bufio.NewScanner(pr)
	waitLine(t, sc, "server listening on 127.0.0.1:0 after 1ms startup")
	cancel()
	waitLine(t, sc, "received SIGTERM, shutting down")
	if code := <-done; code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
}
