// Package diagnose names the root cause of a failed rollout with evidence and fix commands, the
// way the CrashLoopBackOff runbook walks an engineer from symptom to cause to fix.
//
// It works in three steps: gather (API reads with bounded concurrency and capped sizes; failures
// become evidence, not errors), classify (pure: evidence in, findings out, tested from recorded
// objects and logs), and render (fix commands with the real names filled in). Every string that
// leaves the package is masked: no value the pod receives from a Secret is ever printed.
package diagnose

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Diagnoser gathers evidence about a failed rollout and names its root cause.
type Diagnoser struct {
	Client      kubernetes.Interface
	LogLines    int // lines of log tail per container; default DefaultLogLines
	Concurrency int // parallel API reads; default 4
	Now         func() time.Time
	// Logs reads container logs; nil means through Client (ClientLogs).
	Logs LogSource

	retryDelay time.Duration // first back-off between log read attempts; tests shorten it
}

// Input is what the watch knows when it gives up on a rollout.
type Input struct {
	// Workload is *appsv1.Deployment, *appsv1.StatefulSet or *appsv1.DaemonSet, as last seen.
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
}

// DefaultLogLines is how many lines of log tail are read per container (--log-lines).
const DefaultLogLines = 50

func (d *Diagnoser) logLines() int {
	if d.LogLines > 0 {
		return d.LogLines
	}
	return DefaultLogLines
}

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
	redact(&res, ev.mask)
	return res, nil
}

// workloadInfo extracts what the diagnosis needs from the typed workload.
func workloadInfo(ev *evidence, wl workload.Workload) {
	ev.Kind, ev.Namespace, ev.Name = wl.Kind().Name(), wl.Meta().GetNamespace(), wl.Meta().GetName()
	ev.Template = wl.Template().DeepCopy()
	if d, ok := wl.Object().(*appsv1.Deployment); ok {
		ev.Conditions = d.Status.Conditions
		ev.Revision = d.Annotations[workload.RevisionAnnotation]
	}
}

// redact masks every string of the result that could carry a Secret value.
func redact(r *Result, m *masker) {
	if m == nil {
		return
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Summary, f.Detail, f.Change = m.Mask(f.Summary), m.Mask(f.Detail), m.Mask(f.Change)
		m.MaskAll(f.Evidence)
		m.MaskAll(f.Fix)
		if f.Logs != nil {
			m.MaskAll(f.Logs.Lines)
		}
	}
	for i := range r.Changes {
		r.Changes[i].Before, r.Changes[i].After = m.Mask(r.Changes[i].Before), m.Mask(r.Changes[i].After)
	}
	for i := range r.Events {
		r.Events[i].Message = m.Mask(r.Events[i].Message)
	}
	for i := range r.Timeline {
		r.Timeline[i].What = m.Mask(r.Timeline[i].What)
	}
	for i := range r.Pods {
		for j := range r.Pods[i].Containers {
			c := &r.Pods[i].Containers[j]
			c.Message = m.Mask(c.Message)
			if c.LastState != nil {
				c.LastState.Message = m.Mask(c.LastState.Message)
			}
		}
	}
}
