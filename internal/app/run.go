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
// the Kubernetes client is made.
type Deps struct {
	Stdin    io.Reader
	Progress io.Writer
	Getenv   func(string) string
	Now      func() time.Time
	// Connect builds the client and the default namespace; nil uses the kubeconfig.
	Connect func(o *Options, getenv func(string) string) (client.Interface, string, error)
	// ReadFile reads a manifest again to point a fix at its line; nil is os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// Run judges the rollouts the options name and returns the report. The error classifies the
// outcome for the exit code: nil when healthy, a plain error when failed or timed out, and a fault
// when the input was invalid or the gate could not evaluate. The report is never nil.
func Run(ctx context.Context, o *Options, d Deps) (*report.Report, error) {
	d = d.withDefaults()
	r := &report.Report{SchemaVersion: report.SchemaVersion, StartedAt: d.Now().UTC(), Namespace: o.Namespace, Context: o.Context}
	fail := func(err error) (*report.Report, error) {
		err = kube.Classify(err)
		r.Verdict, r.Message, r.FinishedAt = report.VerdictError, err.Error(), d.Now().UTC()
		if r.Workloads == nil {
			r.Workloads = []report.Workload{}
		}
		return r, err
	}
	if err := o.Validate(); err != nil {
		return fail(err)
	}
	client, ns, err := d.Connect(o, d.Getenv)
	if err != nil {
		return fail(err)
	}
	r.Namespace = ns
	if p, ok := client.(preflighter); ok {
		if err := p.Preflight(ctx); err != nil {
			return fail(err)
		}
	}
	if rc, ok := client.(requestCounter); ok && rc.Requests() != nil {
		defer rc.Requests().WriteTable(d.Progress)
	}

	targets, err := resolveTargets(ctx, client, o, ns, d)
	if err != nil {
		return fail(err)
	}
	for _, t := range targets {
		if t.Skipped {
			why := t.Why
			if why == "" {
				why = "the gate judges " + workload.KindList() + " only"
			}
			r.Workloads = append(r.Workloads, report.Workload{Kind: t.Kind, APIVersion: apiVersion(t), Namespace: t.Namespace, Name: t.Name,
				Verdict: report.VerdictSkipped, Message: why, Source: source(t)})
		}
	}
	r.Namespace = commonNamespace(targets, ns)
	if err := target.CheckExists(ctx, client, targets); err != nil {
		return fail(err)
	}

	watchClient := client
	if wc, ok := client.(watchClienter); ok {
		watchClient = wc.WatchClient()
	}
	w := &watch.Watcher{Client: watchClient, Policy: o.Policy(), Timeout: o.Timeout, WaitAll: o.WaitAll,
		Annotations: workload.AnnotationPolicy(o.WorkloadAnnotations), Progress: d.Progress, Now: d.Now}
	results, err := w.Watch(ctx, targets)
	if err != nil {
		return fail(err)
	}
	sayOverrides(d.Progress, results)

	judged := make([]report.Workload, len(results))
	masks := make([]func(string) string, len(results))
	dg := &diagnose.Diagnoser{Client: client, LogLines: o.LogLines, Now: d.Now}
	// Every phase after the watch has a deadline: a slow API server delays the report, it
	// does not hold the job.
	dctx, cancelDiagnose := context.WithTimeout(ctx, diagnoseDeadline)
	defer cancelDiagnose()
	var wg sync.WaitGroup
	// At most diagnoseParallel workloads are diagnosed at once (each reads with its own bounded
	// concurrency, all through the client's rate limit): a release with a hundred failing
	// workloads must not send a thousand reads to the API server at once.
	slots := make(chan struct{}, diagnoseParallel)
	for i, res := range results {
		judged[i] = workloadOf(res)
		// An interrupted rollout was cut short, not found wanting: its message is its state. An
		// ignored one (rollout-gate.io/ignore) was not watched at all.
		// An object judged by its status has no pods to diagnose: its conditions are the evidence.
		// One not judged (the cluster fell silent, VerdictError) has nothing the diagnosis could
		// read: it would wait on the same silent API server.
		if res.Verdict == report.VerdictHealthy || res.Verdict == report.VerdictInterrupted || res.Verdict == report.VerdictSkipped ||
			res.Verdict == report.VerdictError || res.Status != nil {
			if res.Verdict != report.VerdictSkipped && res.Status == nil {
				judged[i].Timeline = diagnose.Milestones(res.Revision, res.Since, res.Pods)
			}
			continue
		}
		wg.Add(1)
		go func(i int, res watch.Result) {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-dctx.Done():
				judged[i].Message += fmt.Sprintf(" (diagnosis incomplete: %v)", dctx.Err())
				return
			}
			fmt.Fprintf(d.Progress, "%s: %s; diagnosing\n", res.Workload.Ref(), res.Verdict)
			out, err := dg.Diagnose(dctx, diagnose.Input{Workload: res.Object, Pods: res.Pods, Since: res.Since,
				Verdict: res.Verdict, Reason: res.Reason, Message: res.Message})
			if err != nil {
				judged[i].Message += fmt.Sprintf(" (diagnosis incomplete: %v)", err)
			}
			applyDiagnosis(&judged[i], out)
			masks[i] = out.Mask
		}(i, res)
	}
	wg.Wait()
	for i, res := range results {
		addVerdictMoment(&judged[i], res.DecidedAt)
		manifestEdit(&judged[i], d.ReadFile)
	}

	cancelDiagnose()
	if o.Rollback {
		// The rollback's own wait is --rollback-timeout; the deadline adds room for the API calls.
		rctx, cancelRollback := context.WithTimeout(ctx, o.RollbackTimeout+rollbackSlack)
		defer cancelRollback()
		ctx := rctx
		rb := &rollback.Rollbacker{Client: client, DryRun: o.DryRun, Timeout: o.RollbackTimeout, Now: d.Now, Verify: w.Verify}
		for i := range judged {
			if judged[i].Verdict != report.VerdictFailed && judged[i].Verdict != report.VerdictTimeout {
				continue
			}
			if results[i].StillProgressing && !o.RollbackOnTimeout {
				judged[i].Rollback = stillProgressingRollback()
				fmt.Fprintf(d.Progress, "%s: not rolled back: %s\n", judged[i].Ref(), judged[i].Rollback.Message)
				continue
			}
			if results[i].Status != nil {
				judged[i].Rollback = &report.Rollback{Status: report.RollbackSkipped,
					Message: fmt.Sprintf("rollback does not apply to a %s: it is judged by its status and has no revision history the gate could go back to; it was not touched", judged[i].Kind)}
				continue
			}
			if src := judged[i].Source; src != nil && src.Helm != nil {
				judged[i].Rollback = helmRollbackRefused(src.Helm, judged[i].Namespace)
				fmt.Fprintf(d.Progress, "%s: not rolled back: %s\n", judged[i].Ref(), judged[i].Rollback.Message)
				continue
			}
			if results[i].Settings.NoRollback {
				judged[i].Rollback = &report.Rollback{Status: report.RollbackSkipped,
					Message: fmt.Sprintf("its annotation %s is \"false\": not rolled back, the failed revision stays in place", workload.AnnotationRollback)}
				fmt.Fprintf(d.Progress, "%s: not rolled back (%s is \"false\")\n", judged[i].Ref(), workload.AnnotationRollback)
				continue
			}
			if rollback.Applies(judged[i].Kind) {
				fmt.Fprintf(d.Progress, "%s: rolling back%s\n", judged[i].Ref(), map[bool]string{true: " (dry run)"}[o.DryRun])
			}
			began := d.Now()
			res := rb.Undo(ctx, judged[i].Kind, judged[i].Namespace, judged[i].Name)
			judged[i].Rollback = &res
			addRollbackMoments(&judged[i], began)
			fmt.Fprintf(d.Progress, "%s: rollback %s: %s\n", judged[i].Ref(), res.Status, res.Message)
			if res.Undone {
				r.RolledBack = true
			}
		}
	}

	// The report boundary: one redaction, over every string of each diagnosed workload's report.
	for i := range judged {
		if masks[i] != nil {
			report.RedactStrings(&judged[i], masks[i])
		}
	}
	r.Workloads = append(judged, r.Workloads...)
	r.Verdict = overall(judged)
	r.FinishedAt = d.Now().UTC()
	if err := nothingJudged(r.Workloads); err != nil {
		r.Verdict, r.Message = report.VerdictError, err.Error()
		return r, err
	}
	switch r.Verdict {
	case report.VerdictHealthy:
		return r, nil
	case report.VerdictError:
		return r, fault.CannotEvaluatef("%s", r.Headline())
	}
	return r, fmt.Errorf("%s", r.Headline())
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
func resolveTargets(ctx context.Context, c client.Interface, o *Options, ns string, d Deps) ([]target.Workload, error) {
	var ts []target.Workload
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
		ts = append(ts, target.Workload{Kind: kind, Namespace: ns, Name: name})
	}
	if o.Selector != "" {
		sel, err := target.Select(ctx, c, ns, o.Selector)
		if err != nil {
			return nil, err
		}
		ts = append(ts, sel...)
	}
	if o.HelmRelease != "" {
		rel, err := helmTargets(ctx, c, o.HelmRelease, ns, d)
		if err != nil {
			return nil, err
		}
		ts = append(ts, rel...)
	}
	var resolver target.Resolver
	if rc, ok := c.(resolverClient); ok {
		resolver = rc.Resolver()
	}
	ts, err := target.Resolve(ctx, resolver, ts)
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
			why = append(why, t.Ref()+": "+t.Why)
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

// resolverClient is a client that can resolve kinds outside the switch (see Connect).
type resolverClient interface {
	Resolver() target.Resolver
}

// watchClienter is a client that carries a second client for watches (see Connect).
type watchClienter interface {
	WatchClient() client.Interface
}

// requestCounter is a client that counts its requests (ROLLOUT_GATE_DEBUG_API=1, see Connect).
type requestCounter interface {
	Requests() *kube.RequestCounter
}

// clients is the API client, whose every request has a timeout, with the watch client beside it,
// and the resolver of the other kinds, over discovery and the dynamic clients (the same pair).
type clients struct {
	client.Interface
	watch    client.Interface
	resolver *workload.Resolver
	requests *kube.RequestCounter // nil unless kube.DebugAPIEnv is set
	// preflight is the first request (GET /version): it runs the credential plugin, and its
	// error says whether the credentials, the permissions or the network are wrong.
	preflight func(context.Context) error
}

// Preflight checks that the API server accepts the gate's credentials.
func (c clients) Preflight(ctx context.Context) error { return c.preflight(ctx) }

// preflighter is a client that can check its credentials before the run (see Connect).
type preflighter interface {
	Preflight(ctx context.Context) error
}

func (c clients) WatchClient() client.Interface  { return c.watch }
func (c clients) Resolver() target.Resolver      { return c.resolver }
func (c clients) Requests() *kube.RequestCounter { return c.requests }

// Connect loads the kubeconfig as kubectl does (--kubeconfig, else $KUBECONFIG, else
// ~/.kube/config), or from --kubeconfig-data, and returns a client and the namespace to use.
// Each way the credentials can be wrong has its own message (see credentials): a file that is
// not there (and where its name came from), a path the container action cannot see, an exec
// plugin that is not installed. The client's Preflight finds the rest with its first request.
func Connect(o *Options, getenv func(string) string) (client.Interface, string, error) {
	creds := newCredentials(getenv)
	src := creds.source(o)
	if o.Kubeconfig != "" && o.KubeconfigData != "" {
		return nil, "", fault.Invalidf("both --kubeconfig and --kubeconfig-data (the kubeconfig and kubeconfig-data inputs) are set; give one")
	}
	if err := creds.checkFiles(src); err != nil {
		return nil, "", err
	}
	cc, err := creds.clientConfig(src, o)
	if err != nil {
		return nil, "", err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fault.Invalidf("load kubeconfig from %s: %v; point --kubeconfig (or $KUBECONFIG) at a valid kubeconfig, and --context at one of its contexts", src.from, err)
	}
	userName, _ := user(cc, o.Context)
	if err := creds.checkPlugin(cfg, userName); err != nil {
		return nil, "", err
	}
	if err := checkReachableFromContainer(cfg, getenv); err != nil {
		return nil, "", err
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
			return nil, "", fault.Invalidf("build Kubernetes client: %v", err)
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
	return clients{Interface: c, watch: watchClient, requests: requests, preflight: preflight,
		resolver: workload.NewResolver(disc, dyn, watchDyn)}, ns, nil
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
func commonNamespace(ts []target.Workload, fallback string) string {
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

func overall(ws []report.Workload) report.Verdict {
	v := report.VerdictHealthy
	for _, w := range ws {
		switch w.Verdict {
		case report.VerdictFailed:
			return report.VerdictFailed
		case report.VerdictTimeout:
			v = report.VerdictTimeout
		case report.VerdictError:
			if v == report.VerdictHealthy {
				v = report.VerdictError
			}
		}
	}
	return v
}

func source(t target.Workload) *report.Source {
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
func apiVersion(t target.Workload) string {
	if _, ok := workload.Lookup(t.Kind); ok && t.Resolved == nil {
		return ""
	}
	return t.APIVersion
}

func workloadOf(res watch.Result) report.Workload {
	return report.Workload{
		APIVersion: apiVersion(res.Workload), Status: res.Status,
		Kind: res.Workload.Kind, Namespace: res.Workload.Namespace, Name: res.Workload.Name,
		Revision: res.Revision, Verdict: res.Verdict, Reason: res.Reason, Message: res.Message,
		Source: source(res.Workload), Pods: []report.Pod{}, Findings: []report.Finding{}, Changes: []report.Change{},
		Duration: report.Seconds(res.DecidedAt.Sub(res.Since)), Overrides: overridesOf(res.Overrides),
		View: res.View,
	}
}

// addVerdictMoment puts the verdict on the workload's timeline, at the moment it was reached.
func addVerdictMoment(w *report.Workload, at time.Time) {
	if at.IsZero() || w.Verdict == report.VerdictSkipped {
		return
	}
	what := "verdict: " + string(w.Verdict)
	if w.Reason != "" {
		what += " (" + w.Reason + ")"
	}
	w.Timeline = append(w.Timeline, report.Moment{At: at.UTC(), What: what, Kind: report.MomentVerdict})
	// The diagnosis, which came after the verdict, may have recorded later events.
	slices.SortStableFunc(w.Timeline, func(a, b report.Moment) int { return a.At.Compare(b.At) })
}

// helmRollbackRefused is the rollback of a Helm release's resource: the gate does not undo it
// behind Helm's back, since `helm history` would go on saying the failed revision is deployed and
// the next `helm upgrade` would diff against a state that is not in the cluster. Helm's own
// rollback makes a new revision from the previous one; the message gives that command.
func helmRollbackRefused(h *report.HelmSource, namespace string) *report.Rollback {
	return &report.Rollback{Status: report.RollbackSkipped,
		Message: fmt.Sprintf("it belongs to Helm release %s (revision %d), which Helm rolls back itself so that its history stays true: "+
			"run `helm rollback %s -n %s` (the previous revision; `helm history %s -n %s` lists them)",
			h.Release, h.Revision, h.Release, namespace, h.Release, namespace)}
}

// addRollbackMoments puts a rollback that was tried on the timeline: when it began, and when
// it ended and how. One that was skipped, refused or only described (dry run) changed nothing
// and has no moments.
func addRollbackMoments(w *report.Workload, began time.Time) {
	rb := w.Rollback
	if rb == nil || (rb.Status != report.RollbackRolledBack && rb.Status != report.RollbackFailed && rb.Status != report.RollbackTimeout) {
		return
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
	w.Timeline = append(w.Timeline,
		report.Moment{At: began.UTC(), What: what, Kind: report.MomentRollback},
		report.Moment{At: end.UTC(), What: ended, Kind: report.MomentRollbackEnd})
}

// manifestEdit leads a failing workload's first finding with the edit of its manifest that
// takes back the change the finding blames, when the workload came from a manifest file (not
// stdin, not a Helm chart's template, whose line is not the rendered one).
func manifestEdit(w *report.Workload, read func(string) ([]byte, error)) {
	if !w.Verdict.Failing() || len(w.Findings) == 0 || w.Source == nil || w.Source.Helm != nil || w.Source.File == "" || w.Source.File == "-" {
		return
	}
	text, err := read(w.Source.File)
	if err != nil {
		return // the commands still fix it; the report needs no line
	}
	w.Findings[0].Edit = manifestfix.Suggest(w.Source.File, text, w.Source.Line, &w.Findings[0], w.Changes)
}

func applyDiagnosis(w *report.Workload, out diagnose.Result) {
	if len(out.Pods) > 0 {
		w.Pods = out.Pods
	}
	if out.Findings != nil {
		w.Findings = out.Findings
	}
	if out.Changes != nil {
		w.Changes = out.Changes
	}
	w.Events, w.Timeline = out.Events, out.Timeline
	if w.Revision == "" {
		w.Revision = out.Revision
	}
}
