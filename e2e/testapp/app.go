package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// app runs one config. Its seams are fields so tests can drive it without a process.
type app struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	now            func() time.Time
	// held keeps --alloc-mb memory reachable so the garbage collector cannot return it.
	held [][]byte
}

const mib = 1 << 20

// run does what cfg asks and returns the exit code. It returns 0 when ctx is cancelled (SIGTERM).
// A --panic really panics, so the Go runtime prints the stack and exits 2.
func (a *app) run(ctx context.Context, cfg config) int {
	start := a.now()
	for _, name := range cfg.requireEnv {
		if _, ok := a.lookupEnv(name); !ok {
			fmt.Fprintf(a.stderr, "FATAL: required environment variable %s is not set\n", name)
			return 1
		}
	}
	for _, name := range cfg.requireIntEnv {
		v, ok := a.lookupEnv(name)
		if !ok {
			fmt.Fprintf(a.stderr, "FATAL: required environment variable %s is not set\n", name)
			return 1
		}
		if _, err := strconv.Atoi(v); err != nil {
			fmt.Fprintf(a.stderr, "FATAL: invalid value for %s: %q (expected integer)\n", name, v)
			return 1
		}
	}
	for _, name := range cfg.printEnv {
		v, _ := a.lookupEnv(name)
		fmt.Fprintf(a.stdout, "%s=%s\n", name, v)
	}
	for _, p := range cfg.prints {
		w := a.stdout
		if p.stderr {
			w = a.stderr
		}
		fmt.Fprintln(w, p.text)
	}
	if cfg.dial != "" {
		d := net.Dialer{Timeout: cfg.dialTimeout}
		conn, err := d.DialContext(ctx, "tcp", cfg.dial)
		if err != nil {
			fmt.Fprintf(a.stderr, "FATAL: cannot connect to %s: %v\n", cfg.dial, err)
			return 1
		}
		conn.Close()
		fmt.Fprintf(a.stdout, "connected to %s\n", cfg.dial)
	}
	if cfg.allocMB > 0 {
		a.alloc(cfg.allocMB)
	}

	var end <-chan time.Time
	if cfg.exit || cfg.panic {
		t := time.NewTimer(cfg.delay)
		defer t.Stop()
		end = t.C
	}

	srvErr := make(chan error, 1)
	var srv *http.Server
	startup := time.NewTimer(cfg.startupDelay)
	defer startup.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(a.stdout, "received SIGTERM, shutting down")
			if srv != nil {
				shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdownCtx)
			}
			return 0
		case <-end:
			if cfg.panic {
				panic(cfg.panicMsg)
			}
			return cfg.exitCode
		case err := <-srvErr:
			fmt.Fprintf(a.stderr, "FATAL: serve on %s: %v\n", cfg.listen, err)
			return 1
		case <-startup.C:
			ln, err := net.Listen("tcp", cfg.listen)
			if err != nil {
				fmt.Fprintf(a.stderr, "FATAL: listen on %s: %v\n", cfg.listen, err)
				return 1
			}
			if cfg.startupDelay > 0 {
				fmt.Fprintf(a.stdout, "server listening on %s after %s startup\n", cfg.listen, cfg.startupDelay)
			} else {
				fmt.Fprintf(a.stdout, "server listening on %s\n", cfg.listen)
			}
			srv = &http.Server{Handler: a.handler(start.Add(cfg.readyAfter)), ReadHeaderTimeout: 5 * time.Second}
			go func() {
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					srvErr <- err
				}
			}()
		}
	}
}

// alloc allocates n MiB one MiB at a time and writes to every page, so the memory is resident
// and a memory limit is hit while allocating, the way a leaking service hits it.
func (a *app) alloc(n int) {
	fmt.Fprintf(a.stdout, "allocating %d MiB\n", n)
	for i := 1; i <= n; i++ {
		b := make([]byte, mib)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i)
		}
		a.held = append(a.held, b)
		if i%16 == 0 && i != n {
			fmt.Fprintf(a.stdout, "allocated %d MiB\n", i)
		}
	}
	fmt.Fprintf(a.stdout, "allocated %d MiB, holding it\n", n)
}

// handler serves /health (always 200 once listening) and /ready (503 until readyAt).
func (a *app) handler(readyAt time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if a.now().Before(readyAt) {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}
