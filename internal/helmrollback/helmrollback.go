// Package helmrollback runs Helm's own rollback of a release (what `helm rollback` does) through
// Helm's library, helm.sh/helm/v4 pkg/action, so that `helm history` shows the rollback as a new
// revision ("Rollback to N") and the next `helm upgrade` diffs against what is in the cluster.
//
// The library is linked only with the build tag helmsdk: pkg/action brings Helm's chart engine,
// registry client, SQL storage driver, kubectl's factory, cli-runtime and client-go's clientset,
// and takes the stripped gate (CGO_ENABLED=0 go build -trimpath -ldflags='-s -w') from 24.6 MB
// to 41.1 MB (measured 2026-12-07, v4.3.1), past the 30 MB the image keeps to.
// Without it, New returns nil and the gate refuses a Helm release's rollback with the exact
// `helm rollback RELEASE REVISION -n NAMESPACE` to run instead (internal/rollback); it never rolls
// a release's resources back behind Helm's back.
package helmrollback

import (
	"context"
	"time"
)

// Request is one rollback, decided before (helmrelease.PlanRollback): the release, its namespace
// and storage driver, and the revision to go back to, always named (never Helm's "previous").
type Request struct {
	Release, Namespace string
	To                 int
	// Driver is where the release is stored: "secrets" or "configmaps" (helmrelease's names).
	Driver string
	// Timeout bounds each Kubernetes operation Helm waits on (its rollback hooks), as helm
	// rollback's --timeout; Helm does not wait for the resources themselves (its default,
	// --wait=hookOnly): the gate verifies them afterwards.
	Timeout time.Duration
	// MaxHistory is helm's --history-max: the revisions kept (HELM_MAX_HISTORY, else 10); 0 keeps all.
	MaxHistory int
}

// Runner runs one rollback. It returns when Helm has stored the rollback's revision.
type Runner func(ctx context.Context, req Request) error

// Linked reports whether Helm's library is in this binary (go build -tags helmsdk).
const Linked = linked

// DefaultMaxHistory is helm's own default for --history-max.
const DefaultMaxHistory = 10
