package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/rollout-gate/rollout-gate/internal/diagnose"
	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/helmrollback"
	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/manifestfix"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/rollback"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/watch"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// Deps are the seams of a run: where input comes from, where progress goes, the clock, and how
// the cluster is connected to.
type Deps struct {
	Stdin    io.Reader
	Progress io.Writer
	Getenv   func(string) string
	Now      func() time.Time
	// Connect connects to the cluster; nil uses the kubeconfig (Connect).
	Connect func(o *Options, getenv func(string) string) (*Cluster, error)
	// ReadFile reads a manifest again to point a fix at its line; nil is os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// Result is a finished run: its report, whose verdict alone gives the exit code (ExitCode), and
// for the verdict error, which kind of error it was.
type Result struct {
	Report *report.Report
	// Error is ErrorNone unless the verdict is error.
	Error ErrorKind
}

// ErrorKind tells the two kinds of the verdict error apart: who must act, and the exit code.
type ErrorKind int

const (
	// ErrorNone: the verdict is not error.
	ErrorNone ErrorKind = iota
	// ErrorInput: the input was wrong (a flag, a manifest, the kubeconfig); the user fixes it. Exit 2.
	ErrorInput
	// ErrorEvaluate: the gate could not evaluate (the cluster unreachable or silent, a request
	// forbidden, a workload not found, nothing judged, the run cancelled). Exit 3.
	ErrorEvaluate
)

// ExitCode follows from the verdict: 0 healthy; 1 failed or timeout; 2 or 3 error, as its kind
// says (README, "Exit codes").
func (r *Result) ExitCode() int {
	switch r.Report.Verdict {
	case report.VerdictHealthy:
		return fault.ExitHealthy
	case report.VerdictFailed, report.VerdictTimeout:
		return fault.ExitFailed
	}
	if r.Error == ErrorInput {
		return fault.ExitInvalid
	}
	return fault.ExitCannotEvaluate
}

// cancelledMessage is the report's message when a signal ended the run.
const cancelledMessage = "the run was cancelled (SIGTERM or SIGINT: the job was cancelled or timed out) before the gate finished; the rollouts were not judged"

// Run judges the rollouts the options name. Whatever goes wrong ends as the verdict error, with
// its message and kind, so the result alone gives the exit code. The report is never nil.
func Run(ctx context.Context, o *Options, d Deps) *Result {
	d = d.withDefaults()
	r := &report.Report{SchemaVersion: report.SchemaVersion, StartedAt: d.Now().UTC(), Namespace: o.Namespace, Context: o.Context,
		Workloads: []report.Workload{}}
	err := gate(ctx, o, d, r)
	r.FinishedAt = d.Now().UTC()
	return settle(ctx, r, err)
}

// settle gives the run its verdict, the one place it is decided: a cancelled run and one that
// ended on an error are error, of the error's kind; any other has its workloads' verdict
// (report.Overall).
func settle(ctx context.Context, r *report.Report, err error) *Result {
	fail := func(kind ErrorKind, msg string) *Result {
		r.Verdict, r.Message = report.VerdictError, msg
		return &Result{Report: r, Error: kind}
	}
	switch {
	case ctx.Err() != nil:
		return fail(ErrorEvaluate, cancelledMessage)
	case err != nil:
		err = kube.Classify(err)
		if fault.Code(err) == fault.ExitInvalid {
			return fail(ErrorInput, err.Error())
		}
		return fail(ErrorEvaluate, err.Error())
	}
	if r.Verdict = report.Overall(r.Workloads); r.Verdict == report.VerdictError {
		return fail(ErrorEvaluate, unjudged(r.Workloads))
	}
	return &Result{Report: r}
}

// gate is the data path of one run: connect, resolve the targets, watch, diagnose, roll back,
// and one row per workload. An error ends it where it happened; the rows made so far stay.
func gate(ctx context.Context, o *Options, d Deps, r *report.Report) error {
	if err := o.Validate(); err != nil {
		return err
	}
	c, err := d.Connect(o, d.Getenv)
	if err != nil {
		return err
	}
	r.Namespace = c.Namespace
	if c.Preflight != nil {
		if err := c.Preflight(ctx); err != nil {
			return err
		}
	}
	if c.Requests != nil {
		defer c.Requests.WriteTable(d.Progress)
	}
	targets, err := resolveTargets(ctx, c, o, d)
	if err != nil {
		return err
	}
	skipped := skippedRows(targets, d.ReadFile)
	r.Workloads = skipped
	r.Namespace = commonNamespace(targets, c.Namespace)
	if err := target.CheckExists(ctx, c.Client, targets); err != nil {
		return err
	}

	w := &watch.Watcher{Client: c.watchClient(), Policy: o.Policy(), Timeout: o.Timeout, WaitAll: o.WaitAll,
		Annotations: workload.AnnotationPolicy(o.WorkloadAnnotations), Progress: d.Progress, Now: d.Now}
	results, err := w.Watch(ctx, targets)
	if err != nil {
		return err
	}
	sayOverrides(d.Progress, results)
	diagnoses := diagnoseAll(ctx, c.Client, o, d, results)
	undos := make([]*undo, len(results))
	if o.Rollback {
		rb := &rollback.Rollbacker{Client: c.Client, DryRun: o.DryRun, Timeout: o.RollbackTimeout, Now: d.Now, Verify: w.Verify,
			Helm: c.HelmRollback, HelmMaxHistory: helmMaxHistory(d.Getenv)}
		undos = rollBackAll(ctx, rb, o, d, results)
	}
	rows := make([]report.Workload, len(results))
	for i, res := range results {
		rows[i] = row(res, diagnoses[i], undos[i], d.ReadFile)
		r.RolledBack = r.RolledBack || undos[i] != nil && undos[i].Undone
	}
	r.Workloads = append(rows, skipped...)
	return nil
}

// skippedRows are the rows of the targets the gate does not watch, each saying why.
func skippedRows(targets []target.Target, read func(string) ([]byte, error)) []report.Workload {
	var rows []report.Workload
	for _, t := range targets {
		if t.Skipped {
			why := t.Why
			if why == "" {
				why = "the gate judges " + workload.KindList() + " only"
			}
			rows = append(rows, row(watch.Result{Workload: t, Verdict: report.VerdictSkipped, Message: why}, nil, nil, read))
		}
	}
	return rows
}

// diagnosable says whether a result gets a diagnosis, decided here only: a rollout found failing
// or stuck. Not a healthy one; not one interrupted (cut short, not found wanting: its message is
// its state) or ignored (rollout-gate.io/ignore: never watched); not one judged by its status
// (its conditions are the evidence); not one the gate could not judge (the cluster fell silent:
// the diagnosis would wait on the same silent API server); not one held on a pause when the
// timeout came (an Argo canary's pause step: nothing is broken, its message says what it waits on).
func diagnosable(res watch.Result) bool {
	return res.Verdict.Failing() && res.Status == nil && !res.Paused
}

// diagnosis is what the diagnosis of one result gave, and why it ended early if it did.
type diagnosis struct {
	diagnose.Result
	err error
}

// diagnoseAll diagnoses the diagnosable results, a few at a time, under one deadline: a slow API
// server delays the report, it does not hold the job. An entry is nil for a result not diagnosed.
func diagnoseAll(ctx context.Context, c client.Interface, o *Options, d Deps, results []watch.Result) []*diagnosis {
	out := make([]*diagnosis, len(results))
	dg := &diagnose.Diagnoser{Client: c, LogLines: o.LogLines, Now: d.Now}
	ctx, cancel := context.WithTimeout(ctx, diagnoseDeadline)
	defer cancel()
	var wg sync.WaitGroup
	// At most diagnoseParallel workloads are diagnosed at once (each reads with its own bounded
	// concurrency, all through the client's rate limit): a release with a hundred failing
	// workloads must not send a thousand reads to the API server at once.
	slots := make(chan struct{}, diagnoseParallel)
	for i, res := range results {
		if !diagnosable(res) {
			continue
		}
		out[i] = &diagnosis{}
		wg.Add(1)
		go func(dn *diagnosis, res watch.Result) {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				dn.err = ctx.Err()
				return
			}
			fmt.Fprintf(d.Progress, "%s: %s; diagnosing\n", res.Workload.Ref(), res.Verdict)
			dn.Result, dn.err = dg.Diagnose(ctx, diagnose.Input{Observed: res.Observation, Workload: res.Object, Pods: res.Pods, Since: res.Since,
				Verdict: res.Verdict, Reason: res.Reason, Message: res.Message})
		}(out[i], res)
	}
	wg.Wait()
	return out
}

// undo is a rollback as the row shows it, and when it began (for the timeline).
type undo struct {
	report.Rollback
	began time.Time
}

// rollBackAll rolls back each failed or timed-out workload, one after the other, under
// --rollback-timeout and room for the API calls. An entry is nil where there was nothing to roll
// leftInPlace says --rollback leaves a failing workload as it is: a timeout stopped it while it
// was not stuck (NotStuck), and the run did not ask for --rollback-on-timeout.
func leftInPlace(res watch.Result, o *Options) bool {
	return res.Verdict.Failing() && res.NotStuck() && !o.RollbackOnTimeout
}

// back.
func rollBackAll(ctx context.Context, rb *rollback.Rollbacker, o *Options, d Deps, results []watch.Result) []*undo {
	ctx, cancel := context.WithTimeout(ctx, o.RollbackTimeout+rollbackSlack)
	defer cancel()
	out := make([]*undo, len(results))
	helmRollBack(ctx, rb, o, d, results, out)
	for i, res := range results {
		if out[i] != nil {
			continue
		}
		if leftInPlace(res, o) {
			u := &undo{Rollback: *stillProgressingRollback(res.Paused)}
			fmt.Fprintf(d.Progress, "%s: %s\n", res.Workload.Ref(), u.Message)
			out[i] = u
			continue
		}
		if res.Verdict.Failing() {
			out[i] = rollBack(ctx, rb, res, d)
		}
	}
	return out
}

// rollBack decides whether a failed workload is rolled back, decided here only, and does it: not
// a kind judged by its status (no revision history), not a Helm release's resource (helmRollBack
// rolls the release back with Helm; one left here is not, and gets Helm's command), not one whose
// annotation says "false"; else kubectl's undo, then its verification.
func rollBack(ctx context.Context, rb *rollback.Rollbacker, res watch.Result, d Deps) *undo {
	t := res.Workload
	skip := func(status, msg string) *undo {
		return &undo{Rollback: report.Rollback{Status: status, Message: msg}}
	}
	switch {
	case res.Status != nil:
		return skip(report.RollbackSkipped, fmt.Sprintf("rollback does not apply to a %s: it is judged by its status and has no revision history the gate could go back to; it was not touched", t.Kind))
	case t.Helm != nil:
		u := skip(helmRollbackRefused(t.Helm, t.Namespace))
		fmt.Fprintf(d.Progress, "%s: not rolled back: %s\n", t.Ref(), u.Message)
		return u
	case res.Settings.NoRollback:
		fmt.Fprintf(d.Progress, "%s: not rolled back (%s is \"false\")\n", t.Ref(), workload.AnnotationRollback)
		return skip(report.RollbackSkipped, fmt.Sprintf("its annotation %s is \"false\": not rolled back, the failed revision stays in place", workload.AnnotationRollback))
	}
	kind, _ := t.KindOf()
	if rollback.Applies(kind) {
		fmt.Fprintf(d.Progress, "%s: rolling back%s\n", t.Ref(), map[bool]string{true: " (dry run)"}[rb.DryRun])
	}
	u := &undo{began: d.Now()}
	u.Rollback = rb.Undo(ctx, kind, t.Ref(), res.Observation)
	fmt.Fprintf(d.Progress, "%s: rollback %s: %s\n", t.Ref(), u.Status, u.Message)
	return u
}

// row builds the report row of one workload, the one place a row is made: the watch's verdict;
// the diagnosis, or for a workload not diagnosed the milestones the watch saw; the moment of the
// verdict; the manifest edit that takes back the change the first finding blames; the rollback.
// Then the report boundary redacts the finished row, once (report.Redact): the diagnosis's
// masker over every string, whichever package wrote it.
func row(res watch.Result, dn *diagnosis, u *undo, read func(string) ([]byte, error)) report.Workload {
	t := res.Workload
	w := report.Workload{
		APIVersion: apiVersion(t), Status: res.Status, Kind: t.Kind, Namespace: t.Namespace, Name: t.Name,
		Revision: res.Revision, Verdict: res.Verdict, Reason: res.Reason, Message: res.Message,
		Source: source(t), Pods: []report.Pod{}, Findings: []report.Finding{}, Changes: []report.Change{},
		Duration: report.Seconds(res.DecidedAt.Sub(res.Since)), Overrides: overridesOf(res.Overrides), View: res.View,
	}
	var mask func(string) string
	switch {
	case dn != nil:
		if dn.err != nil {
			w.Message += fmt.Sprintf(" (diagnosis incomplete: %v)", dn.err)
		}
		if len(dn.Pods) > 0 {
			w.Pods = dn.Pods
		}
		if dn.Findings != nil {
			w.Findings = dn.Findings
		}
		if dn.Changes != nil {
			w.Changes = dn.Changes
		}
		w.Events, w.Timeline = dn.Events, dn.Timeline
		if w.Revision == "" {
			w.Revision = dn.Revision
		}
		mask = dn.Mask
	case res.Verdict != report.VerdictSkipped && res.Status == nil:
		w.Timeline = diagnose.Milestones(res.Revision, res.Since, res.Pods)
	}
	if !res.DecidedAt.IsZero() && w.Verdict != report.VerdictSkipped {
		what := "verdict: " + string(w.Verdict)
		if w.Reason != "" {
			what += " (" + w.Reason + ")"
		}
		w.Timeline = append(w.Timeline, report.Moment{At: res.DecidedAt.UTC(), What: what, Kind: report.MomentVerdict})
		// The diagnosis, which came after the verdict, may have recorded later events.
		slices.SortStableFunc(w.Timeline, func(a, b report.Moment) int { return a.At.Compare(b.At) })
	}
	// The edit needs the manifest file itself: not stdin, not a Helm chart's template (its line
	// is not the rendered one). A file that cannot be read leaves the commands to fix it.
	if src := w.Source; w.Verdict.Failing() && len(w.Findings) > 0 && src != nil && src.Helm == nil && src.File != "" && src.File != "-" {
		if text, err := read(src.File); err == nil {
			w.Findings[0].Edit = manifestfix.Suggest(src.File, text, src.Line, &w.Findings[0], w.Changes)
		}
	}
	if u != nil {
		w.Rollback = &u.Rollback
		w.Timeline = append(w.Timeline, rollbackMoments(&u.Rollback, u.began)...)
	}
	report.Redact(&w, mask)
	return w
}

func (d Deps) withDefaults() Deps {
	if d.Stdin == nil {
		d.Stdin = os.Stdin
	}
	if d.Progress == nil {
		d.Progress = io.Discard
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Connect == nil {
		d.Connect = Connect
	}
	if d.ReadFile == nil {
		d.ReadFile = os.ReadFile
	}
	return d
}

// resolveTargets gathers the workloads from -f, --workload, -l and --helm-release.
func resolveTargets(ctx context.Context, c *Cluster, o *Options, d Deps) ([]target.Target, error) {
	ns := c.Namespace
	var ts []target.Target
	if len(o.Filenames) > 0 {
		fromFiles, err := target.FromManifests(o.Filenames, o.Recursive, ns, d.Stdin)
		if err != nil {
			return nil, err
		}
		if len(fromFiles) == 0 {
			return nil, fault.Invalidf("the manifests given with -f hold no Kubernetes object")
		}
		ts = append(ts, fromFiles...)
	}
	if len(o.Kustomizations) > 0 {
		built, err := target.FromKustomizations(o.Kustomizations, ns)
		if err != nil {
			return nil, err
		}
		if len(built) == 0 {
			return nil, fault.Invalidf("the kustomizations given with -k build no Kubernetes object")
		}
		ts = append(ts, built...)
	}
	for _, ref := range o.Workloads {
		kind, name, err := target.ParseRef(ref)
		if err != nil {
			return nil, err
		}
		ts = append(ts, target.Target{Kind: kind, Namespace: ns, Name: name})
	}
	if o.Selector != "" {
		sel, err := target.Select(ctx, c.Client, ns, o.Selector)
		if err != nil {
			return nil, err
		}
		ts = append(ts, sel...)
	}
	if o.HelmRelease != "" {
		rel, err := helmTargets(ctx, c.Client, o.HelmRelease, ns, d)
		if err != nil {
			return nil, err
		}
		ts = append(ts, rel...)
	}
	ts, err := target.Resolve(ctx, c.Resolver, ts)
	if err != nil {
		return nil, err
	}
	ts = helmNamespaces(ts, ns, o.HelmCrossNamespace, d.Progress)
	ts = target.Dedupe(ts)
	judgeable := 0
	var why []string
	for _, t := range ts {
		if !t.Skipped {
			judgeable++
		} else if t.Why != "" {
			why = append(why, t.Ref().String()+": "+t.Why)
		}
	}
	if judgeable == 0 {
		return nil, fault.Invalidf("the manifests hold none of the %s the gate watches, nor any other kind with a status to judge (found: %s%s)",
			workload.KindList(), target.String(ts), whyText(why))
	}
	return ts, nil
}

// Deadlines of the phases after the watch, and of one API request.
const (
	diagnoseDeadline = 2 * time.Minute
	// diagnoseParallel is how many failed workloads are diagnosed at once.
	diagnoseParallel = 4
	rollbackSlack    = time.Minute
	// apiTimeout bounds one Kubernetes API request (rest.Config.Timeout); watches are long-lived
	// by design and use a client without it, bounded by --timeout instead.
	apiTimeout = 30 * time.Second
)

func whyText(why []string) string {
	if len(why) == 0 {
		return ""
	}
	return "; " + strings.Join(why, "; ")
}

// Cluster is the connection to one cluster, as Connect makes it.
type Cluster struct {
	// Client sends every request of the gate but the watches, each bounded by apiTimeout.
	Client client.Interface
	// Watch carries the watches: protobuf, and no timeout per request (--timeout bounds them).
	// Nil: Client.
	Watch client.Interface
	// Resolver finds the kinds outside the typed switch (custom resources, PVCs) over discovery
	// and the dynamic clients. Nil: the typed kinds only.
	Resolver target.Resolver
	// Namespace is that of workloads that do not name one: the context's, else default.
	Namespace string
	// Requests counts the API requests (kube.DebugAPIEnv set); nil otherwise.
	Requests *kube.RequestCounter
	// Preflight sends the first request (GET /version): it runs the credential plugin, and its
	// error says whether the credentials, the permissions or the network are wrong. Nil: none.
	Preflight func(context.Context) error
	// HelmRollback runs Helm's own rollback over this connection (--helm-release --rollback);
	// nil when the binary was built without Helm's library (helmrollback.Linked).
	HelmRollback helmrollback.Runner
}

func (c *Cluster) watchClient() client.Interface {
	if c.Watch != nil {
		return c.Watch
	}
	return c.Client
}

// Connect loads the kubeconfig as kubectl does (--kubeconfig, else $KUBECONFIG, else
// ~/.kube/config), or from --kubeconfig-data, and returns the clients and the namespace to use.
// Each way the credentials can be wrong has its own message (see credentials): a file that is
// not there (and where its name came from), a path the container action cannot see, an exec
// plugin that is not installed. The cluster's Preflight finds the rest with its first request.
func Connect(o *Options, getenv func(string) string) (*Cluster, error) {
	creds := newCredentials(getenv)
	src := creds.source(o)
	if o.Kubeconfig != "" && o.KubeconfigData != "" {
		return nil, fault.Invalidf("both --kubeconfig and --kubeconfig-data (the kubeconfig and kubeconfig-data inputs) are set; give one")
	}
	if err := creds.checkFiles(src); err != nil {
		return nil, err
	}
	cc, err := creds.clientConfig(src, o)
	if err != nil {
		return nil, err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fault.Invalidf("load kubeconfig from %s: %v; point --kubeconfig (or $KUBECONFIG) at a valid kubeconfig, and --context at one of its contexts", src.from, err)
	}
	userName, _ := user(cc, o.Context)
	if err := creds.checkPlugin(cfg, userName); err != nil {
		return nil, err
	}
	if err := checkReachableFromContainer(cfg, getenv); err != nil {
		return nil, err
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	cfg.UserAgent = "rollout-gate"
	cfg.QPS, cfg.Burst = 50, 100
	var requests *kube.RequestCounter
	if getenv(kube.DebugAPIEnv) == "1" {
		requests = kube.NewRequestCounter()
		cfg.Wrap(requests.Wrap)
	}
	watchCfg := rest.CopyConfig(cfg)
	// The watches carry every pod of every watched namespace: protobuf decodes in a fraction of
	// JSON's time and garbage (the dynamic clients of other kinds stay on JSON by themselves).
	watchCfg.ContentType = "application/vnd.kubernetes.protobuf"
	watchCfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.Timeout = apiTimeout
	// Each constructor only checks the config, so they fail alike: the first error says it.
	c, errC := client.NewForConfig(cfg)
	watchClient, errW := client.NewForConfig(watchCfg)
	disc, errD := client.NewDiscovery(cfg)
	dyn, errDyn := dynamic.NewForConfig(cfg)
	watchDyn, errWDyn := dynamic.NewForConfig(watchCfg)
	for _, err := range []error{errC, errW, errD, errDyn, errWDyn} {
		if err != nil {
			return nil, fault.Invalidf("build Kubernetes client: %v", err)
		}
	}
	preflight := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		_, err := c.CoreV1().(interface{ RESTClient() rest.Interface }).RESTClient().Get().AbsPath("/version").DoRaw(ctx)
		if err == nil || ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return err
		}
		if e := creds.explainPreflight(ctx, err, cfg, userName); e != nil {
			return e
		}
		return kube.Explain(err, "connect to the Kubernetes API server at "+cfg.Host, "get", schema.GroupResource{Resource: "version"})
	}
	return &Cluster{Client: c, Watch: watchClient, Resolver: workload.NewResolver(disc, dyn, watchDyn), Namespace: ns,
		Requests: requests, Preflight: preflight, HelmRollback: helmrollback.New(cfg)}, nil
}

// checkReachableFromContainer catches the classic kind-on-a-runner mistake: inside a container
// action, 127.0.0.1 is the container itself, not the runner where kind's API server listens. A
// loopback server that answers (docker run --network host) is fine.
func checkReachableFromContainer(cfg *rest.Config, getenv func(string) string) error {
	if getenv("GITHUB_ACTIONS") != "true" || !inContainer(getenv) {
		return nil
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return nil
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 2*time.Second)
	if err == nil {
		conn.Close()
		return nil
	}
	return fault.CannotEvaluatef("the kubeconfig points at %s, which inside this container action is the container itself, not the runner (%v). "+
		"For kind, create the cluster with `networking.apiServerAddress: \"172.17.0.1\"` (the docker0 gateway) in its config "+
		"so one kubeconfig works from the runner and from containers; see the README, \"kind on GitHub runners\"", cfg.Host, err)
}

// inContainer: the Actions runner starts container actions with the workspace mounted at
// /github/workspace and GITHUB_WORKSPACE set to it (docker leaves /.dockerenv, podman does not).
func inContainer(getenv func(string) string) bool {
	if getenv("ROLLOUT_GATE_IN_CONTAINER") == "true" || getenv("GITHUB_WORKSPACE") == "/github/workspace" {
		return true
	}
	_, err := os.Stat("/.dockerenv")
	return err == nil
}

// commonNamespace is the namespace all workloads share, or "" when they span several.
func commonNamespace(ts []target.Target, fallback string) string {
	ns := ""
	for _, t := range ts {
		if ns != "" && t.Namespace != ns {
			return ""
		}
		ns = t.Namespace
	}
	if ns == "" {
		return fallback
	}
	return ns
}

func source(t target.Target) *report.Source {
	if t.File == "" {
		return nil
	}
	s := &report.Source{File: t.File, Line: t.Line}
	if t.Helm != nil {
		s.Helm = &report.HelmSource{Release: t.Helm.Release, Revision: t.Helm.Revision, Hook: t.Helm.Hook}
	}
	if t.Kustomization != nil {
		s.Kustomization, s.PatchedBy = t.Kustomization.Dir, t.Kustomization.Patched
	}
	return s
}

// apiVersion is reported for the kinds judged by their status (and skipped ones), where the
// kind alone may not say which API it is.
func apiVersion(t target.Target) string {
	if _, ok := workload.Lookup(t.Kind); ok && t.Resolved == nil {
		return ""
	}
	return t.APIVersion
}

// helmRollbackRefused is the rollback of a Helm release's resource that the release's rollback
// did not cover (a timeout still progressing, say): the gate does not undo it behind Helm's back,
// since `helm history` would go on saying the failed revision is deployed and the next `helm
// upgrade` would diff against a state that is not in the cluster.
func helmRollbackRefused(h *target.HelmSource, namespace string) (status, message string) {
	return report.RollbackSkipped, fmt.Sprintf("it belongs to Helm release %s (revision %d), which only Helm rolls back, so that its history stays true: "+
		"the release was not rolled back in this run; `helm history %s -n %s` lists its revisions, and `helm rollback %s REVISION -n %s` rolls it back",
		h.Release, h.Revision, h.Release, namespace, h.Release, namespace)
}

// rollbackMoments put a rollback that was tried on the timeline: when it began, and when it
// ended and how. One that was skipped, refused or only described (dry run) changed nothing and
// has no moments.
func rollbackMoments(rb *report.Rollback, began time.Time) []report.Moment {
	if rb.Status != report.RollbackRolledBack && rb.Status != report.RollbackFailed && rb.Status != report.RollbackTimeout {
		return nil
	}
	what := "rollback began"
	if rb.FromRevision != "" && rb.ToRevision != "" {
		what = fmt.Sprintf("rollback from revision %s to revision %s began", rb.FromRevision, rb.ToRevision)
	}
	var ended string
	switch {
	case rb.Status == report.RollbackRolledBack:
		ended = "rolled back, healthy again"
	case rb.Status == report.RollbackTimeout:
		ended = "rolled back, but not healthy within the rollback timeout"
	case rb.Undone:
		ended = "rolled back, but still failing"
	default:
		ended = "rollback failed; the undo was not applied"
	}
	end := began.Add(time.Duration(float64(rb.Duration) * float64(time.Second)))
	return []report.Moment{{At: began.UTC(), What: what, Kind: report.MomentRollback},
		{At: end.UTC(), What: ended, Kind: report.MomentRollbackEnd}}
}
