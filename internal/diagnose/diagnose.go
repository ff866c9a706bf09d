// Package diagnose names the root cause of a failed rollout with evidence and fix commands, the
// way the CrashLoopBackOff runbook walks an engineer from symptom to cause to fix.
//
// It works in three steps: gather (API reads with bounded concurrency and capped sizes; failures
// become evidence, not errors), classify (pure: evidence in, findings out, tested from recorded
// objects and logs), and render (fix commands with the real names filled in). No value the pod
// receives from a Secret is ever printed: log lines are masked as they are read, and the result
// carries its masker (Result.Mask), which the report boundary applies once to the finished row,
// every string of it (report.Redact).
package diagnose

import (
	"context"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Diagnoser gathers evidence about a failed rollout and names its root cause.
type Diagnoser struct {
	Client client.Interface
	// LogLines is the log tail read and shown per container. 0 reads no log at all, so no log
	// text can reach any report (the documented way to keep logs out of PR comments); the
	// causes that need a log then fall back to what the API says.
	LogLines    int
	Concurrency int // parallel API reads; default 4
	Now         func() time.Time
	// Logs reads container logs; nil means through Client (ClientLogs).
	Logs LogSource

	retryDelay time.Duration // first back-off between log read attempts; tests shorten it
	// nodes are the nodes read so far, by name (node): shared by the workloads it diagnoses.
	nodes sync.Map
}

// Input is what the watch knows when it gives up on a rollout.
type Input struct {
	// Observed is what the watch saw (Result.Observation): the workload, its revisions and what
	// changed between them, its pods with their full specs. When set, Workload and Pods are not
	// read, and the history is not read again. Without it (a caller other than the watch) the
	// diagnosis works the revisions out from Workload and Pods itself.
	Observed *workload.Observation
	// Workload is *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet or *batchv1.Job, as
	// last seen.
	Workload runtime.Object
	// Pods are the pods of the new revision.
	Pods []corev1.Pod
	// Since is when the rollout began: only events after it count.
	Since time.Time
	// Verdict, Reason and Message are the watch's verdict (failed or timeout) and why
	// (CrashLoopBackOff, ProgressDeadlineExceeded, ...).
	Verdict report.Verdict
	Reason  string
	Message string
}

// Result is the diagnosis of one workload, in report types.
type Result struct {
	Findings []report.Finding
	Changes  []report.Change // pod template: previous revision -> new revision
	Events   []report.Event  // grouped, of the pods and their owners, since the rollout began
	Timeline []report.Moment
	Pods     []report.Pod
	Revision string // the new revision
	// Mask is the report boundary's redaction for this workload: the caller applies it once to
	// the finished row (report.Redact), this result and whatever it adds (the watch's message,
	// the rollback). The result's strings are not masked before that, but log lines, masked as
	// they are read. Nil when nothing was gathered.
	Mask func(string) string `json:"-"`
}

// DefaultLogLines is the log tail read per container unless --log-lines says otherwise.
const DefaultLogLines = 50

// logLines is the tail to read: 0 means none at all.
func (d *Diagnoser) logLines() int { return max(d.LogLines, 0) }

func (d *Diagnoser) concurrency() int {
	if d.Concurrency > 0 {
		return d.Concurrency
	}
	return 4
}

func (d *Diagnoser) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Diagnose gathers evidence for a failed rollout and names the root cause of each failing
// container. It returns an error only when ctx ends; anything it cannot read (forbidden, not
// found, timeouts) is reported as evidence in the findings instead.
func (d *Diagnoser) Diagnose(ctx context.Context, in Input) (Result, error) {
	ev, err := d.gather(ctx, in)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		Findings: classify(ev),
		Changes:  ev.Changes,
		Events:   groupEvents(ev.Events),
		Timeline: timeline(ev),
		Pods:     translatePods(in.Pods),
		Revision: ev.Revision,
	}
	if res.Changes == nil {
		res.Changes = []report.Change{}
	}
	cleanFindings(res.Findings)
	if ev.mask != nil {
		res.Mask = ev.mask.Mask
	}
	return res, nil
}

// cleanFindings drops the repeat at the end of a quoted cluster message (the scheduler's
// "... not found. not found") from every line a finding says.
func cleanFindings(fs []report.Finding) {
	for i := range fs {
		f := &fs[i]
		f.Summary, f.Detail = workload.DropRepeatedTail(f.Summary), workload.DropRepeatedTail(f.Detail)
		for j := range f.Evidence {
			f.Evidence[j] = workload.DropRepeatedTail(f.Evidence[j])
		}
	}
}

// workloadInfo extracts what the diagnosis needs from the workload; what differs between kinds
// is asked of the kind's own interface.
func workloadInfo(ev *evidence, wl workload.PodWorkload) {
	ev.Kind, ev.Namespace, ev.Name = wl.Kind().Name(), wl.Meta().GetNamespace(), wl.Meta().GetName()
	ev.Template = wl.Template().DeepCopy()
	// The revision number the controller wrote on the workload (a Deployment's), until its
	// history says which revision is new.
	ev.Revision = wl.Meta().GetAnnotations()[workload.RevisionAnnotation]
	ev.tool, _ = wl.Kind().(workload.ManualRollbackKind)
	switch wl := wl.(type) {
	case workload.Rollout:
		ev.Conditions = wl.Conditions()
	case workload.Completion:
		ev.completes = true
		ev.Job, _ = wl.Object().(*batchv1.Job)
	}
}
