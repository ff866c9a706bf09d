// Command testapp stages the failures a real service shows (crash, bad config, OOM, slow start,
// unreachable dependency, ignored SIGTERM) so e2e tests can run them on a real kubelet. Its
// behaviour is chosen by flags; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL: %v\n", err)
		os.Exit(2)
	}
	// The app is PID 1 in its container: the kernel drops SIGTERM unless a handler is installed,
	// so it is always handled here, either by stopping or by logging it.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sigs {
			if cfg.ignoreSIGTERM {
				fmt.Fprintf(os.Stdout, "received %s, ignoring it\n", signalName(s))
				continue
			}
			cancel()
		}
	}()
	a := &app{stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv, now: time.Now}
	os.Exit(a.run(ctx, cfg))
}

func signalName(s os.Signal) string {
	if s == syscall.SIGINT {
		return "SIGINT"
	}
	return "SIGTERM"
}
