// Package fault classifies errors into the gate's exit codes. Leaf errors are wrapped once, where
// their meaning is known (a bad flag is Invalid; a forbidden API call CannotEvaluate, see package
// kube), and only main turns them into an exit code. It knows nothing of Kubernetes.
package fault

import (
	"errors"
	"fmt"
	"net"
	"net/url"
)

// Exit codes of the gate.
const (
	ExitHealthy        = 0
	ExitFailed         = 1 // rollout failed or timed out
	ExitInvalid        = 2 // invalid input: bad flag, unreadable or invalid manifest
	ExitCannotEvaluate = 3 // cluster unreachable, forbidden, workload not found
)

type kind int

const (
	invalid kind = iota + 1
	cannotEvaluate
)

type classified struct {
	kind kind
	err  error
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// Invalid marks err as bad input from the user (exit 2).
func Invalid(err error) error { return &classified{invalid, err} }

// Invalidf is Invalid(fmt.Errorf(...)).
func Invalidf(format string, a ...any) error { return Invalid(fmt.Errorf(format, a...)) }

// CannotEvaluate marks err as a reason the gate could not judge the rollout (exit 3).
func CannotEvaluate(err error) error { return &classified{cannotEvaluate, err} }

// CannotEvaluatef is CannotEvaluate(fmt.Errorf(...)).
func CannotEvaluatef(format string, a ...any) error { return CannotEvaluate(fmt.Errorf(format, a...)) }

// Code returns the exit code for err: 0 for nil, 2 or 3 for classified errors, 3 for a network
// failure, and 1 otherwise. Kubernetes API errors are classified where they happen (package kube).
func Code(err error) int {
	if err == nil {
		return ExitHealthy
	}
	var c *classified
	if errors.As(err, &c) {
		switch c.kind {
		case invalid:
			return ExitInvalid
		case cannotEvaluate:
			return ExitCannotEvaluate
		}
	}
	if isUnreachable(err) {
		return ExitCannotEvaluate
	}
	return ExitFailed
}

// isUnreachable reports whether err is a network failure: the API server could not be reached.
func isUnreachable(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue)
}
