// Package report holds the report model (plain Go types, schema v1) and its pure renderers:
// terminal text, Markdown (job summary and PR comment) and JSON. It never imports k8s.io packages:
// the watch, diagnose and rollback packages translate Kubernetes objects into these types.
package report

import (
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON contract documented in docs/report-schema.md.
const SchemaVersion = 1

// Verdict is the outcome of the gate for the whole run or for one workload.
type Verdict string

const (
	VerdictHealthy Verdict = "healthy"
	VerdictFailed  Verdict = "failed"
	VerdictTimeout Verdict = "timeout"
	// VerdictError means the gate could not evaluate (cluster unreachable, forbidden, not found).
	VerdictError Verdict = "error"
	// VerdictSkipped is used for workloads of kinds the gate cannot judge (only in Workload.Verdict).
	VerdictSkipped Verdict = "skipped"
	// VerdictInterrupted is a workload still without a verdict when another one failed and ended
	// the run (only in Workload.Verdict; the run's verdict is then failed). Its message holds its
	// state at that moment.
	VerdictInterrupted Verdict = "interrupted"
)

// Overall is the run's verdict from its workloads' verdicts, the rule a consumer of the report
// can rely on:
//
//   - failed if any workload failed: a broken rollout outweighs every other finding;
//   - else timeout if any timed out: a rollout that never finished is not a pass;
//   - else error if any could not be evaluated, or if none was judged at all (every one
//     skipped, or none given): the gate cannot pass what it did not check;
//   - else healthy. Skipped workloads (kinds with nothing to judge) do not count either way, and
//     interrupted ones only occur beside a failed one.
//
// The exit code follows from it alone (cmd/gate): 0 healthy, 1 failed or timeout, and for error
// 2 or 3 as the run says why (app.Result).
func Overall(ws []Workload) Verdict {
	v, judged := VerdictHealthy, false
	for _, w := range ws {
		switch w.Verdict {
		case VerdictFailed:
			return VerdictFailed
		case VerdictTimeout:
			v = VerdictTimeout
		case VerdictError:
			if v == VerdictHealthy {
				v = VerdictError
			}
		}
		judged = judged || w.Verdict != VerdictSkipped
	}
	if !judged {
		return VerdictError
	}
	return v
}

// Report is the whole result of one gate run.
type Report struct {
	SchemaVersion int        `json:"schemaVersion"`
	Verdict       Verdict    `json:"verdict"`
	StartedAt     time.Time  `json:"startedAt"`
	FinishedAt    time.Time  `json:"finishedAt"`
	RolledBack    bool       `json:"rolledBack"`
	Namespace     string     `json:"namespace,omitempty"`
	Context       string     `json:"context,omitempty"`
	Message       string     `json:"message,omitempty"` // set when Verdict is error
	Workloads     []Workload `json:"workloads"`
	// GateVersion is the gate that wrote the report (version.Info.Short: "1.2.0", or
	// "devel (REVISION)"), so a report can be traced to a build.
	GateVersion string `json:"gateVersion,omitempty"`
}

// Workload is the verdict and evidence for one Deployment, StatefulSet, DaemonSet or Job.
type Workload struct {
	Kind      string `json:"kind"` // Deployment, StatefulSet, DaemonSet, Job (or the skipped kind)
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Revision is the revision being rolled out (Deployment revision annotation, or the
	// ControllerRevision name/number for StatefulSets and DaemonSets).
	Revision string  `json:"revision,omitempty"`
	Verdict  Verdict `json:"verdict"`
	// Reason is a short machine-readable reason (CrashLoopBackOff, ProgressDeadlineExceeded,
	// Unschedulable, ...); Message is the human sentence.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Source is where the workload was declared, when it came from a manifest (for annotations).
	Source   *Source   `json:"source,omitempty"`
	Pods     []Pod     `json:"pods"`
	Findings []Finding `json:"findings"`
	Changes  []Change  `json:"changes"`
	Events   []Event   `json:"events,omitempty"`
	Timeline []Moment  `json:"timeline,omitempty"`
	Rollback *Rollback `json:"rollback,omitempty"`
	Duration Duration  `json:"durationSeconds"`
	// APIVersion is set for kinds judged by their status (custom resources, PVCs, bare Pods):
	// "cert-manager.io/v1".
	APIVersion string `json:"apiVersion,omitempty"`
	// Status is the object's status as the kstatus conventions read it, for kinds judged by
	// their status alone; its conditions are the evidence of the verdict.
	Status *ResourceStatus `json:"status,omitempty"`
	// Overrides are the workload's own rollout-gate.io/ annotations and what the gate did with
	// each under --workload-annotations: none acts unseen.
	Overrides []Override `json:"overrides,omitempty"`
	// View says when the gate's view of the cluster was stale while it judged (a silent API
	// server or kubelet, a watch behind the server) and how long it waited, and what it could not
	// check (kubelet liveness without read access to node Leases).
	View []string `json:"view,omitempty"`
}

// ResourceStatus is an object's status as kstatus reads it.
type ResourceStatus struct {
	// Status is kstatus's: Current, InProgress, Failed, Terminating or Unknown.
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	// Generation is metadata.generation; ObservedGeneration is status.observedGeneration when
	// the status has one.
	Generation         int64       `json:"generation,omitempty"`
	ObservedGeneration *int64      `json:"observedGeneration,omitempty"`
	Conditions         []Condition `json:"conditions"`
}

// Condition is one of an object's status.conditions, as its controller wrote it.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Ref returns "deployment/api" as kubectl spells it.
func (w Workload) Ref() string {
	return Ref{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name}.String()
}

// Source points at the manifest document that declared a workload. For a Helm release's
// resource, File is the chart template that rendered it, Line is 0 and Helm names the release.
type Source struct {
	File string      `json:"file"`
	Line int         `json:"line"`
	Helm *HelmSource `json:"helm,omitempty"`
	// Kustomization is the -k folder that built the object (File is then the file kustomize read
	// it from), and PatchedBy the kustomization files whose patches or transformers changed it.
	Kustomization string   `json:"kustomization,omitempty"`
	PatchedBy     []string `json:"patchedBy,omitempty"`
}

// HelmSource is the Helm release (and revision) that rendered a resource; Hook lists the hook
// events of a hook Job, empty for the release's manifest.
type HelmSource struct {
	Release  string `json:"release"`
	Revision int    `json:"revision"`
	Hook     string `json:"hook,omitempty"`
}

// String is "file:line", or the template alone when there is no line (a Helm chart template).
func (s Source) String() string {
	out := s.File
	if s.Line > 0 {
		out += ":" + strconv.Itoa(s.Line)
	}
	if s.Kustomization != "" {
		out += " (-k " + s.Kustomization
		if len(s.PatchedBy) > 0 {
			out += ", changed by " + strings.Join(s.PatchedBy, ", ")
		}
		out += ")"
	}
	return out
}

// Pod is the state of one pod of the new revision.
type Pod struct {
	Name       string      `json:"name"`
	Phase      string      `json:"phase"`
	Ready      bool        `json:"ready"`
	Node       string      `json:"node,omitempty"`
	Reason     string      `json:"reason,omitempty"` // the most telling state: CrashLoopBackOff, OOMKilled, Unschedulable...
	Containers []Container `json:"containers"`
}

// Container is the state of one container (or init container) of a pod.
type Container struct {
	Name         string       `json:"name"`
	Init         bool         `json:"init,omitempty"`
	Image        string       `json:"image,omitempty"`
	Ready        bool         `json:"ready"`
	RestartCount int32        `json:"restartCount"`
	State        string       `json:"state"` // waiting, running, terminated
	Reason       string       `json:"reason,omitempty"`
	Message      string       `json:"message,omitempty"`
	LastState    *Termination `json:"lastState,omitempty"`
}

// Termination is a terminated container state (lastState.terminated or state.terminated).
type Termination struct {
	ExitCode   int32     `json:"exitCode"`
	Signal     int32     `json:"signal,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Meaning explains the exit code in words ("SIGKILL: killed by the OOM killer or after a liveness failure").
	Meaning string `json:"meaning,omitempty"`
}

// Cause is a stable root-cause id, used by the JSON report, the outputs and the tests.
type Cause string

const (
	CauseConfigError         Cause = "config-error"
	CauseMissingSecret       Cause = "missing-secret"
	CauseMissingSecretKey    Cause = "missing-secret-key"
	CauseMissingConfigMap    Cause = "missing-configmap"
	CauseMissingConfigMapKey Cause = "missing-configmap-key"
	CauseMissingStorageClass Cause = "missing-storageclass"
	CauseOOMKilled           Cause = "oom-killed"
	CauseDependency          Cause = "dependency-unavailable"
	CauseLivenessProbe       Cause = "liveness-probe"
	CauseReadinessProbe      Cause = "readiness-probe"
	CauseAppCrash            Cause = "app-crash"
	CauseInitContainer       Cause = "init-container"
	CauseImagePull           Cause = "image-pull"
	CauseUnschedulable       Cause = "unschedulable"
	CauseNodePressure        Cause = "node-pressure"
	CauseCreateDenied        Cause = "create-denied"
	CauseJobDeadline         Cause = "job-deadline"
	CauseUnknown             Cause = "unknown"
)

// Confidence says how sure the diagnosis is.
type Confidence string

const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
)

// Finding is one named root cause for one failing container (or pod, for scheduling causes).
type Finding struct {
	Cause     Cause  `json:"cause"`
	Pod       string `json:"pod,omitempty"`
	Container string `json:"container,omitempty"`
	// Summary is one plain sentence: "key DB_PASSWORD missing from Secret production/api-db-credentials".
	Summary string `json:"summary"`
	// Detail points at the field or explains further, e.g. "env DB_PASSWORD of container api reads key
	// DB_PASSWORD of Secret production/api-db-credentials, which has keys DB_USER, DB_HOST".
	Detail     string     `json:"detail,omitempty"`
	Evidence   []string   `json:"evidence"`
	Confidence Confidence `json:"confidence"`
	// Fix is a list of shell commands with the real names filled in (comments start with #).
	Fix []string `json:"fix"`
	// Change is the change in this rollout that explains the finding, if any.
	Change string `json:"change,omitempty"`
	// Logs is the log excerpt (previous container when there is one); secret values are masked.
	Logs *LogExcerpt `json:"logs,omitempty"`
	// Edit is the change to the applied manifest that fixes the finding, when its cause is a
	// value the manifest sets: the first fix, before the commands.
	Edit *ManifestEdit `json:"edit,omitempty"`
}

// ManifestEdit is one line of an applied manifest as it is and as it should be.
type ManifestEdit struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// Path is the changed field (containers[api].env[DB_PORT]); What names it for people
	// (DB_PORT, "the image of container api").
	Path string `json:"path"`
	What string `json:"what"`
	Old  string `json:"old"` // the line as the manifest has it
	New  string `json:"new"` // the line as it should be
	// Before and After are the field's values in the last good revision and in this one.
	Before string `json:"before"`
	After  string `json:"after"`
}

// LogExcerpt is a tail of a container's log.
type LogExcerpt struct {
	Container string   `json:"container"`
	Previous  bool     `json:"previous"`
	Lines     []string `json:"lines"`
	Truncated bool     `json:"truncated,omitempty"`
}

// Change is one difference between the previous and the new pod template.
type Change struct {
	Path   string `json:"path"` // e.g. containers[api].env[DATABASE_PORT]
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Event is a group of identical Kubernetes events.
type Event struct {
	Type      string    `json:"type"` // Normal, Warning
	Reason    string    `json:"reason"`
	Object    string    `json:"object"` // pod/api-7d4b9c-xkp2z
	Message   string    `json:"message"`
	Count     int32     `json:"count"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
}

// Moment is one entry in the rollout's timeline (pod created, started, crashed, killed, verdict).
type Moment struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
	// Kind marks the milestones the Markdown report draws in its diagram; the other moments
	// (scheduling, starts, warning events) have none.
	Kind MomentKind `json:"kind,omitempty"`
}

// MomentKind names a milestone of a rollout. The diagram chooses what to draw by kind, never by
// reading What.
type MomentKind string

const (
	MomentRollout  MomentKind = "rollout"  // the rollout of the new revision began (the apply)
	MomentPod      MomentKind = "pod"      // a pod of the new revision was created
	MomentCrash    MomentKind = "crash"    // a container exited with an error or was killed
	MomentVerdict  MomentKind = "verdict"  // the gate's verdict on the workload
	MomentRollback MomentKind = "rollback" // the gate began to roll the workload back
	// MomentRollbackEnd is the end of the rollback: healthy again, still failing, or not in time
	// (Rollback.Status says which).
	MomentRollbackEnd MomentKind = "rollback-end"
)

// Rollback says what the gate rolled back and whether the rollback became healthy.
type Rollback struct {
	// Status: rolled-back (healthy again), failed, timeout, skipped, refused, dry-run (the Rollback* constants).
	Status       string   `json:"status"`
	FromRevision string   `json:"fromRevision,omitempty"`
	ToRevision   string   `json:"toRevision,omitempty"`
	Message      string   `json:"message"`
	Duration     Duration `json:"durationSeconds"`
	DeletedPods  []string `json:"deletedPods,omitempty"`
	// Undone is true when the undo was applied to the cluster, even if the workload then failed or
	// timed out: "failed" alone does not say whether production was changed.
	Undone bool `json:"undone"`
	// Changes is what the undo changes (or, in a dry run, would change) in the pod template:
	// Before is the failed revision, After the revision rolled back to.
	Changes []Change `json:"changes,omitempty"`
}

// Rollback.Status values. Renderers compare against these; internal/rollback sets them.
const (
	RollbackRolledBack = "rolled-back" // undone, and verified healthy (or not verified when verification is off)
	RollbackFailed     = "failed"      // the undo failed, or the workload is still failing afterwards
	RollbackTimeout    = "timeout"     // undone, but not healthy within --rollback-timeout
	RollbackSkipped    = "skipped"     // nothing to do: first deploy, template already equal to the previous one, or a Job (no rollback)
	RollbackRefused    = "refused"     // kubectl refuses: a paused Deployment
	RollbackDryRun     = "dry-run"     // --dry-run: says what would happen, changed nothing
)

// Duration marshals as seconds with millisecond precision.
type Duration float64

// Seconds converts a time.Duration.
func Seconds(d time.Duration) Duration { return Duration(float64(d.Milliseconds()) / 1000) }

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
