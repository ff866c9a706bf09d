package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

// printLine is one --print or --print-stderr argument; both flags share one list so that their
// lines come out in the order they were given.
type printLine struct {
	stderr bool
	text   string
}

// config is what the flags ask the app to do. The zero value (plus the default listen address) is
// a healthy HTTP service.
type config struct {
	listen        string
	startupDelay  time.Duration
	readyAfter    time.Duration
	delay         time.Duration
	prints        []printLine
	exit          bool
	exitCode      int
	requireEnv    []string
	requireIntEnv []string
	printEnv      []string
	panic         bool
	panicMsg      string
	allocMB       int
	dial          string
	dialTimeout   time.Duration
	ignoreSIGTERM bool
}

// parseFlags reads the command line. Flag errors and the usage text go to errOut.
func parseFlags(args []string, errOut io.Writer) (config, error) {
	c := config{listen: ":8080", dialTimeout: 5 * time.Second}
	fs := flag.NewFlagSet("testapp", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&c.listen, "listen", c.listen, "`ADDR` to serve /health and /ready on")
	fs.DurationVar(&c.startupDelay, "startup-delay", 0, "wait `D` before listening")
	fs.DurationVar(&c.readyAfter, "ready-after", 0, "/ready answers 503 until `D` after start")
	fs.DurationVar(&c.delay, "delay", 0, "wait `D` before --exit-code or --panic")
	fs.Func("print", "print `LINE` to stdout (repeatable, in order with --print-stderr)", func(s string) error {
		c.prints = append(c.prints, printLine{text: s})
		return nil
	})
	fs.Func("print-stderr", "print `LINE` to stderr (repeatable)", func(s string) error {
		c.prints = append(c.prints, printLine{stderr: true, text: s})
		return nil
	})
	fs.Func("exit-code", "exit with code `N` (after --delay); without it the app keeps running", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 255 {
			return errors.New("want an integer from 0 to 255")
		}
		c.exit, c.exitCode = true, n
		return nil
	})
	fs.Func("require-env", "exit 1 with a FATAL line when environment variable `NAME` is not set (repeatable)", func(s string) error {
		c.requireEnv = append(c.requireEnv, s)
		return nil
	})
	fs.Func("require-int-env", "exit 1 with a FATAL line when `NAME` is not set or not an integer (repeatable)", func(s string) error {
		c.requireIntEnv = append(c.requireIntEnv, s)
		return nil
	})
	fs.Func("print-env", "print NAME=value for environment variable `NAME` (repeatable)", func(s string) error {
		c.printEnv = append(c.printEnv, s)
		return nil
	})
	fs.Func("panic", "panic with `MSG` (after --delay); the Go runtime exits 2", func(s string) error {
		c.panic, c.panicMsg = true, s
		return nil
	})
	fs.IntVar(&c.allocMB, "alloc-mb", 0, "allocate and touch `N` MiB, then keep running")
	fs.StringVar(&c.dial, "dial", "", "dial `HOST:PORT` over TCP at start; exit 1 with the dial error on failure")
	fs.DurationVar(&c.dialTimeout, "dial-timeout", c.dialTimeout, "give up dialing after `D`")
	fs.BoolVar(&c.ignoreSIGTERM, "ignore-sigterm", false, "log SIGTERM and keep running")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: every option is a flag, see -h", fs.Arg(0))
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.exit && c.panic:
		return errors.New("--exit-code and --panic exclude each other: pick one")
	case c.delay != 0 && !c.exit && !c.panic:
		return errors.New("--delay only applies to --exit-code or --panic: add one of them")
	case c.allocMB < 0:
		return fmt.Errorf("--alloc-mb %d: want 0 or more", c.allocMB)
	case c.startupDelay < 0 || c.readyAfter < 0 || c.delay < 0 || c.dialTimeout <= 0:
		return errors.New("durations must not be negative (and --dial-timeout must be positive)")
	}
	return nil
}
