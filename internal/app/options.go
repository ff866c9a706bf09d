// Package app is the gate's command: its options (kubectl's flag names), their validation, and
// the run that ties target, watch, diagnose and rollback into one report. It knows Kubernetes and
// nothing of GitHub; cmd/gate publishes the report where it runs.
package app

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rollout-gate/rollout-gate/internal/diagnose"
	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/rollback"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/watch"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Options are the gate's flags. Every action.yml input has the same name as one of them.
type Options struct {
	Kubeconfig string
	// KubeconfigData is a kubeconfig's content (plain or base64), from a secret; never written.
	KubeconfigData string
	Context        string
	Namespace      string
	Filenames      []string
	// Recursive reads the subfolders of a folder given to -f too, as kubectl's -R does.
	Recursive bool
	// Kustomizations are the folders given to -k, built as `kubectl apply -k` builds them.
	Kustomizations []string
	Workloads      []string
	Selector       string
	// HelmRelease names a Helm release whose current revision's resources are gated.
	HelmRelease string
	// HelmCrossNamespace gates a release's resources outside its namespace too: a release record
	// can name any namespace, and whoever can write Secrets in the release's namespace can plant one.
	HelmCrossNamespace bool

	Timeout time.Duration
	// ProgressTimeout fails a rollout only when nothing progressed for this long (0: off).
	ProgressTimeout time.Duration
	CrashTolerance  int
	PendingGrace    time.Duration
	Soak            time.Duration
	ReadinessGrace  time.Duration
	WaitAll         bool
	// WorkloadAnnotations is which of a workload's own rollout-gate.io/ annotations apply:
	// tighten (default), all or none.
	WorkloadAnnotations string

	Output         string // text | json
	ReportJSON     string
	ReportMarkdown string
	LogLines       int

	Rollback bool
	// RollbackOnTimeout also rolls back a workload that --timeout stopped while still progressing.
	RollbackOnTimeout bool
	RollbackTimeout   time.Duration
	DryRun            bool

	// GitHub-only options: used when the gate runs as an Action (cmd/gate reads them).
	GitHubToken string
	Comment     string // on-failure | always | never
	CommentKey  string
	// CommentAuthor is the login whose comments are the gate's (a GitHub App's "name[bot]");
	// empty means the token's user, else github-actions[bot].
	CommentAuthor string
	PRNumber      int
	// PRFromCommit finds the pull request that shipped the commit on push, workflow_dispatch,
	// workflow_run and deployment events.
	PRFromCommit bool
	// Environment is the deployment environment the comment names.
	Environment string
}

// FlagSet returns the gate's flags bound to o, with the defaults set.
func (o *Options) FlagSet(errOut io.Writer) *pflag.FlagSet {
	p := watch.DefaultPolicy()
	fs := pflag.NewFlagSet("gate", pflag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.SortFlags = false
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&o.KubeconfigData, "kubeconfig-data", "", "a kubeconfig's content, plain or base64 (the action's kubeconfig-data input, from a secret); read in memory, never written. On the command line prefer --kubeconfig: arguments are visible to other processes")
	fs.StringVar(&o.Context, "context", "", "the kubeconfig context to use")
	fs.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of workloads that do not name one (default: the context's namespace, else default)")
	fs.StringArrayVarP(&o.Filenames, "filename", "f", nil, "applied manifests: file, folder, glob, or - for stdin (repeatable); their Deployments, StatefulSets, DaemonSets and Jobs are watched, and any other kind with a status is judged by its conditions")
	fs.BoolVarP(&o.Recursive, "recursive", "R", false, "read the subfolders of a folder given to -f too, as kubectl apply -R does (without it, only the folder's own files)")
	fs.StringArrayVarP(&o.Kustomizations, "kustomize", "k", nil, "a kustomization folder, built as kubectl apply -k builds it; its objects are gated as -f's are (repeatable)")
	fs.StringArrayVar(&o.Workloads, "workload", nil, "a workload to watch as KIND/NAME: deployment|deploy, statefulset|sts, daemonset|ds, job, rollout (Argo Rollouts), or any kind with a status as kubectl spells it, e.g. pvc/data or certificates.cert-manager.io/web (repeatable)")
	fs.StringVarP(&o.Selector, "selector", "l", "", "watch the deployments, statefulsets and daemonsets matching this label selector (not jobs: name them with -f or --workload)")
	fs.StringVar(&o.HelmRelease, "helm-release", "", "gate every resource of this Helm release's current revision (in the namespace of -n), as Helm stored it in the cluster; sources are the chart templates")
	fs.BoolVar(&o.HelmCrossNamespace, "helm-cross-namespace", false, "with --helm-release: also gate the release's resources that name another namespace (by default they are skipped and named: the release record is only as trusted as whoever can write Secrets in its namespace)")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up on a rollout that is still incomplete after this long (verdict timeout)")
	fs.DurationVar(&o.ProgressTimeout, "progress-timeout", p.ProgressTimeout, "fail a rollout when nothing progressed for this long: no new pod Ready, no updated or ready count rising, no Job pod finished (a Deployment's own progressDeadlineSeconds when shorter; 0: off, only --timeout)")
	fs.IntVar(&o.CrashTolerance, "crash-tolerance", p.CrashTolerance, "crashes of one container of the new revision tolerated before the gate fails (0: fail on the first)")
	fs.DurationVar(&o.PendingGrace, "pending-grace", p.PendingGrace, "how long a pod may stay unschedulable or retry a transient start-up error before the gate fails")
	fs.DurationVar(&o.Soak, "soak", p.Soak, "keep watching a complete rollout this long to catch a crash right after ready, and until each new container's liveness probe has run once (0: neither)")
	fs.DurationVar(&o.ReadinessGrace, "readiness-grace", p.ReadinessGrace, "extra time, beyond the readiness probe's own window, before a readiness probe that keeps failing fails the rollout")
	fs.BoolVar(&o.WaitAll, "wait-all", false, "judge every workload to the end (default: the first failed workload ends the run; the others are reported interrupted)")
	fs.StringVar(&o.WorkloadAnnotations, "workload-annotations", string(workload.AnnotationsTighten), "which of a workload's own rollout-gate.io/ annotations apply: tighten (only those that make the gate stricter), all (ignore and looser values too, each named in the report) or none")
	fs.StringVarP(&o.Output, "output", "o", "text", "output format on stdout: text or json")
	fs.StringVar(&o.ReportJSON, "report-json", "", "also write the JSON report (schema v1) to this file")
	fs.StringVar(&o.ReportMarkdown, "report-markdown", "", "also write the Markdown report to this file")
	fs.IntVar(&o.LogLines, "log-lines", diagnose.DefaultLogLines, "log lines to show from each failing container (0: read and show no logs)")
	fs.BoolVar(&o.Rollback, "rollback", false, "roll failed workloads back to their previous revision (kubectl rollout undo) and verify the rollback; an Argo Rollout is not rolled back: the report gives the abort and undo commands")
	fs.BoolVar(&o.RollbackOnTimeout, "rollback-on-timeout", false, "with --rollback: also roll back a workload that --timeout stopped while it was still progressing (by default it is left to finish)")
	fs.DurationVar(&o.RollbackTimeout, "rollback-timeout", rollback.DefaultTimeout, "how long to wait for a rollback to become healthy")
	fs.BoolVar(&o.DryRun, "dry-run", false, "with --rollback: say what would be rolled back and change nothing")
	fs.StringVar(&o.GitHubToken, "github-token", "", "GitHub token for the pull-request comment (Actions only)")
	fs.StringVar(&o.Comment, "comment", "on-failure", "pull-request comment: on-failure, always or never (Actions only)")
	fs.StringVar(&o.CommentKey, "comment-key", "", "key of the sticky comment, for several targets in one job (default: the context and the namespace; the marker adds the repository, workflow and job)")
	fs.StringVar(&o.CommentAuthor, "comment-author", "", "login that posts the comment, to find it again (default: the token's user, else github-actions[bot]; a GitHub App token needs APP-SLUG[bot])")
	fs.IntVar(&o.PRNumber, "pr-number", 0, "pull request to comment on when the event does not name one (Actions only)")
	fs.BoolVar(&o.PRFromCommit, "pr-from-commit", true, "on push, workflow_dispatch and deployment events, comment on the pull request that shipped the commit (Actions only)")
	fs.StringVar(&o.Environment, "environment", "", "deployment environment to name in the comment (default: the deployment event's) (Actions only)")
	return fs
}

// Parse reads args into a new Options. Bad flags are fault.Invalid errors.
func Parse(args []string, errOut io.Writer) (*Options, error) {
	o := &Options{}
	fs := o.FlagSet(io.Discard)
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprintf(errOut, "Usage: gate [flags]\n       gate version   (or --version: the version, VCS revision, Go and client-go versions)\n\nWatch the rollouts an apply started, fail fast on crash loops, diagnose and report.\n\n%s", fs.FlagUsages())
			return nil, err
		}
		return nil, fault.Invalidf("%v; run `gate --help` for the flags", err)
	}
	if fs.NArg() > 0 {
		return nil, fault.Invalidf("unexpected argument %q; name workloads with --workload KIND/NAME or -f FILE", fs.Arg(0))
	}
	return o, nil
}

// Validate checks the options without touching the cluster; each error names the bad value and the fix.
func (o *Options) Validate() error {
	if len(o.Filenames) == 0 && len(o.Kustomizations) == 0 && len(o.Workloads) == 0 && o.Selector == "" && o.HelmRelease == "" {
		return fault.Invalidf("nothing to watch: give the applied manifests with -f (or a kustomization with -k), workloads with --workload deployment/NAME, a label selector with -l, or a Helm release with --helm-release")
	}
	if errs := validation.IsDNS1123Subdomain(o.HelmRelease); o.HelmRelease != "" && len(errs) > 0 {
		return fault.Invalidf("--helm-release %q: not a valid Helm release name (%s); give the name `helm list -n NAMESPACE` shows", o.HelmRelease, errs[0])
	}
	for _, w := range o.Workloads {
		if _, _, err := target.ParseRef(w); err != nil {
			return err
		}
	}
	if errs := validation.IsDNS1123Label(o.Namespace); o.Namespace != "" && len(errs) > 0 {
		return fault.Invalidf("--namespace %q: not a valid namespace name (%s)", o.Namespace, errs[0])
	}
	if o.Selector != "" {
		if _, err := labels.Parse(o.Selector); err != nil {
			return fault.Invalidf("-l %q: not a label selector (%v); write it as kubectl does, e.g. -l app=api,tier!=db", o.Selector, err)
		}
	}
	if o.Recursive && len(o.Filenames) == 0 {
		return fault.Invalidf("-R (--recursive) reads the folders given to -f; add -f FOLDER")
	}
	if o.Timeout <= 0 {
		return fault.Invalidf("--timeout %s: must be positive, e.g. --timeout 5m", o.Timeout)
	}
	if o.CrashTolerance < 0 {
		return fault.Invalidf("--crash-tolerance %d: must be 0 or more (0 fails on the first crash)", o.CrashTolerance)
	}
	if o.PendingGrace < 0 || o.Soak < 0 || o.ReadinessGrace < 0 {
		return fault.Invalidf("--pending-grace, --soak and --readiness-grace must not be negative")
	}
	if o.ProgressTimeout < 0 {
		return fault.Invalidf("--progress-timeout %s: must not be negative, e.g. --progress-timeout 2m (0 turns it off)", o.ProgressTimeout)
	}
	if _, ok := workload.ParseAnnotationPolicy(o.WorkloadAnnotations); !ok && o.WorkloadAnnotations != "" {
		return fault.Invalidf("--workload-annotations %q: use tighten (the default: a workload's annotations may only make the gate stricter), all or none", o.WorkloadAnnotations)
	}
	if o.Output != "text" && o.Output != "json" {
		return fault.Invalidf("--output %q: use text or json", o.Output)
	}
	if o.LogLines < 0 || o.LogLines > 10000 {
		return fault.Invalidf("--log-lines %d: use a number from 0 to 10000", o.LogLines)
	}
	if o.RollbackTimeout <= 0 {
		return fault.Invalidf("--rollback-timeout %s: must be positive, e.g. --rollback-timeout 5m", o.RollbackTimeout)
	}
	if o.RollbackOnTimeout && !o.Rollback {
		return fault.Invalidf("--rollback-on-timeout only applies to --rollback; add --rollback")
	}
	if o.DryRun && !o.Rollback {
		return fault.Invalidf("--dry-run only applies to --rollback; add --rollback to see what would be rolled back")
	}
	switch o.Comment {
	case "on-failure", "always", "never":
	default:
		return fault.Invalidf("--comment %q: use on-failure, always or never", o.Comment)
	}
	if o.PRNumber < 0 {
		return fault.Invalidf("--pr-number %d: must be a pull request number", o.PRNumber)
	}
	return nil
}

// Policy is the judge's policy from the options.
func (o *Options) Policy() watch.Policy {
	return watch.Policy{CrashTolerance: o.CrashTolerance, PendingGrace: o.PendingGrace, Soak: o.Soak, ReadinessGrace: o.ReadinessGrace,
		ProgressTimeout: o.ProgressTimeout}
}

// ArgsFromInputs turns the Action's INPUT_* variables into flags: an input has the name of its
// flag, multi-line inputs repeat a repeatable flag, and empty inputs are left to the defaults.
func ArgsFromInputs(getenv func(string) string) []string {
	var args []string
	fs := (&Options{}).FlagSet(io.Discard)
	fs.VisitAll(func(f *pflag.Flag) {
		v := strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(f.Name)))
		if v == "" {
			return
		}
		if f.Value.Type() == "stringArray" {
			for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == ',' }) {
				if line = strings.TrimSpace(line); line != "" {
					args = append(args, "--"+f.Name+"="+line)
				}
			}
			return
		}
		if f.Value.Type() == "bool" {
			if b, err := strconv.ParseBool(v); err == nil {
				v = strconv.FormatBool(b)
			}
		}
		args = append(args, "--"+f.Name+"="+v)
	})
	return args
}

// FlagNames lists every flag name (the contract action.yml's inputs are held to).
func FlagNames() []string {
	var names []string
	(&Options{}).FlagSet(io.Discard).VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// stillProgressingRollback is the rollback of a workload that --timeout stopped while it was still
// progressing: a slow rollout, not a broken one, is left to finish unless the run asks otherwise.
func stillProgressingRollback(paused bool) *report.Rollback {
	if paused {
		return &report.Rollback{Status: report.RollbackSkipped,
			Message: "not rolled back: it was waiting on a pause when --timeout ran out, not failing (add --rollback-on-timeout to roll back such workloads too)"}
	}
	return &report.Rollback{Status: report.RollbackSkipped,
		Message: "not rolled back: it was still progressing when --timeout ran out (add --rollback-on-timeout to roll back such workloads too)"}
}
