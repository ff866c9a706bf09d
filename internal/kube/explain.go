// Package kube explains Kubernetes API errors in the gate's terms: what failed, which RBAC rule is
// missing, what to check in the kubeconfig. The exit code each explanation means is package
// fault's business; the Kubernetes knowledge lives here.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

// Explain turns a Kubernetes API error from doing `what` into a fault.CannotEvaluate error that
// says plainly what happened and what to do: the RBAC rule to add for a 403, how to check the
// kubeconfig for an unreachable server. verb and gr name the call that was made ("list", apps
// deployments). A missing object or another API refusal also means the gate could not evaluate;
// other errors are wrapped with `what` and keep their meaning.
func Explain(err error, what, verb string, gr schema.GroupResource) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsForbidden(err):
		g := gr.Group
		if g == "" {
			g = `""`
		}
		return fault.CannotEvaluatef("%s: forbidden: the gate's identity may not %s %s; "+
			"add this rule to its Role or ClusterRole (see deploy/rbac.yaml):\n"+
			"  - apiGroups: [%s]\n    resources: [%s]\n    verbs: [%s]\n(server said: %v)",
			what, verb, gr.String(), g, gr.Resource, verb, err)
	case apierrors.IsUnauthorized(err):
		return fault.CannotEvaluatef("%s: unauthorized: the cluster rejected the credentials in the kubeconfig; "+
			"check that the token or client certificate is current (server said: %v)", what, err)
	case IsServerTrouble(err):
		return fault.CannotEvaluatef("%s: the Kubernetes API server throttled or failed the request (%v); "+
			"the rollout was not judged: run the gate again, and check the API server's load if it repeats", what, err)
	case strings.Contains(err.Error(), "getting credentials: "):
		// client-go wraps a failed exec credential plugin in a *url.Error: it is not the network.
		return fault.CannotEvaluatef("%s: credentials: the kubeconfig's credential plugin failed (%v); "+
			"nothing reached the API server. Check the cloud login before the gate, or give a kubeconfig with a token", what, err)
	case isUnreachable(err):
		return fault.CannotEvaluatef("%s: cannot reach the Kubernetes API server: %v; "+
			"check --kubeconfig/--context and that the server is up (kubectl cluster-info)", what, err)
	case apierrors.IsNotFound(err):
		return fault.CannotEvaluate(fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ExplainWrapped is Explain for errors of kubectl's helpers, which wrap API errors with %v and so
// drop the status: a 403 is recognised by the API server's wording ("... is forbidden: User ...
// cannot patch ...") and rebuilt. A context's end is said as such, not as an API failure.
func ExplainWrapped(err error, what, verb string, gr schema.GroupResource) error {
	if !apierrors.IsForbidden(err) && strings.Contains(err.Error(), " is forbidden: ") {
		err = &apierrors.StatusError{ErrStatus: metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    403,
			Reason:  metav1.StatusReasonForbidden,
			Message: err.Error(),
		}}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return Explain(err, what, verb, gr)
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

// Classify marks an unexplained API error that means the gate could not evaluate (forbidden,
// unauthorized, not found, unreachable, throttled or failed by the server) as
// fault.CannotEvaluate; other errors are returned as is.
func Classify(err error) error {
	if err != nil && fault.Code(err) == fault.ExitFailed && (IsAPIUnavailable(err) || IsServerTrouble(err)) {
		return fault.CannotEvaluate(err)
	}
	return err
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
