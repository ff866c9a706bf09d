// Package fault classifies errors into the gate's exit codes. Leaf errors are wrapped once, where
// their meaning is known (a bad flag is Invalid; a forbidden API call CannotEvaluate), and only
// main turns them into an exit code.
package fault

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// Code returns the exit code for err: 0 for nil, 2 or 3 for classified errors, 3 for Kubernetes API
// errors that mean the gate could not evaluate, and 1 otherwise.
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
	if IsAPIUnavailable(err) || IsServerTrouble(err) {
		return ExitCannotEvaluate
	}
	return ExitFailed
}

// IsServerTrouble reports whether the API server throttled the gate (429) or failed (5xx, a
// server-side timeout): the rollout was not judged, so it is not a failed rollout.
func IsServerTrouble(err error) bool {
	if apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var se apierrors.APIStatus
	return errors.As(err, &se) && se.Status().Code >= 500
}

// IsAPIUnavailable reports whether err means the gate cannot talk to the API or is not allowed to.
func IsAPIUnavailable(err error) bool {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) {
		return true
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue)
}

// Explain turns a Kubernetes API error from doing `what` into a CannotEvaluate error that says
// plainly what happened and what to do: the RBAC rule to add for a 403, how to check the
// kubeconfig for an unreachable server. Other errors are wrapped with `what` and returned as is.
// verb, group and resource name the call that was made (resource "pods", group "" or "apps").
func Explain(err error, what, verb, group, resource string) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsForbidden(err):
		g := group
		if g == "" {
			g = `""`
		}
		return CannotEvaluatef("%s: forbidden: the gate's identity may not %s %s; "+
			"add this rule to its Role or ClusterRole (see deploy/rbac.yaml):\n"+
			"  - apiGroups: [%s]\n    resources: [%s]\n    verbs: [%s]\n(server said: %v)",
			what, verb, qualified(group, resource), g, resource, verb, err)
	case apierrors.IsUnauthorized(err):
		return CannotEvaluatef("%s: unauthorized: the cluster rejected the credentials in the kubeconfig; "+
			"check that the token or client certificate is current (server said: %v)", what, err)
	case IsServerTrouble(err):
		return CannotEvaluatef("%s: the Kubernetes API server throttled or failed the request (%v); "+
			"the rollout was not judged: run the gate again, and check the API server's load if it repeats", what, err)
	case isUnreachable(err):
		return CannotEvaluatef("%s: cannot reach the Kubernetes API server: %v; "+
			"check --kubeconfig/--context and that the server is up (kubectl cluster-info)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func qualified(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

func isUnreachable(err error) bool {
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") ||
		strings.Contains(msg, "i/o timeout")
}
