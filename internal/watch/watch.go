// Package watch follows the rollouts of Deployments, StatefulSets and DaemonSets through the
// Kubernetes watch API and judges them as the kubelet reports pod states: a crash loop or a
// fatal start-up error fails the gate within moments, long before a progress deadline.
//
// It keeps one watch per resource type and namespace (shared informers, which resume after a
// dropped or expired watch by relisting), and judges a workload again when one of its objects
// changes (changes.go) or when its judgement may change with time alone.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// Watcher watches rollouts until each has a verdict or the timeout runs out.
type Watcher struct {
	Client client.Interface
	Policy Policy
	// Timeout bounds the whole watch; 0 means until ctx is done.
	Timeout time.Duration
	// WaitAll keeps judging every workload to the end; without it the first failed workload
	// ends the watch and the others are reported interrupted (interrupt.go).
	WaitAll bool
	// Annotations is which of a workload's own annotations apply (settings.go); "" is tighten.
	Annotations workload.AnnotationPolicy
	// runSettingsOnly ignores the workloads' own settings (a rollback's verification).
	runSettingsOnly bool
	// Progress receives one line per change of a workload's state; nil discards.
	Progress io.Writer
	Now      func() time.Time
}

// Result is the verdict on one workload with what the diagnosis needs.
type Result struct {
	Workload target.Target
	Verdict  report.Verdict
	Reason   string
	Message  string
	Revision string
	// Object is the workload as last seen (typed: *appsv1.Deployment, ...).
	Object runtime.Object
	// Pods are the pods of the new revision as last seen.
	Pods []corev1.Pod
	// Failing names the pods whose state failed the workload.
	Failing []string
	// Since is when the rollout of this revision began, as far as the gate can tell.
	Since time.Time
	// DecidedAt is when the verdict was reached.
	DecidedAt time.Time
	// Settings are the workload's own settings, from its annotations (settings.go).
	Settings workload.Settings
	// Overrides are its annotations and what the policy did with each, applied or not.
	Overrides []workload.Override
	// Status is set for a kind judged by its status alone (status.go): its kstatus status and
	// conditions, the evidence of its verdict.
	Status *report.ResourceStatus
	// Observation is what the judge saw of a workload judged by its pods that failed or timed out:
	// its revisions, what changed between them, and Pods with their full specs (observe.go). The
	// diagnosis and the rollback start from it. Nil for every other result.
	Observation *workload.Observation
	// historyRead: the Observation's revisions come from the workload's history, which the
	// caches held; else it is read once the watch is over.
	historyRead bool
	// View says when the gate's view of the cluster was stale while it judged, and how long it
	// waited, and what it could not check (fresh.go).
	View []string
	// StillProgressing is set on a timeout verdict when the workload was still progressing as the
	// timeout ran out (progress.go): a slow rollout, not a stuck one, which --rollback leaves in
	// place unless the run asks for --rollback-on-timeout.
	StillProgressing bool
	// Paused is set on a timeout verdict when the workload was waiting on a pause (an Argo
	// canary's pause step) as the timeout ran out: held for a person, not stuck, and left in place
	// by --rollback like a workload still progressing.
	Paused bool
}

// NotStuck says a timeout verdict stopped a workload that was not stuck: still progressing, or
// held on a pause that waits for a person.
func (r Result) NotStuck() bool { return r.StillProgressing || r.Paused }

// tracked is the watch's memory of one workload between judgements.
type tracked struct {
	w target.Target
	// kind is the target's kind, as resolved: what it can do is read from it (byPods).
	kind workload.Kind
	// minGeneration, when set, is the generation the caller knows the workload has reached (after
	// an undo): older states from a lagging cache are not judged.
	minGeneration int64
	completedAt   time.Time
	// startedSeen records when each container run was first seen started (Snapshot.StartedSeen).
	startedSeen map[string]time.Time
	// wasReady and flaps follow each pod's Ready turns (Snapshot.Flaps); restartsAtReady is the
	// pod's total restart count when it was last seen Ready, so that a restart is not a flap.
	wasReady        map[string]bool
	restartsAtReady map[string]int32
	flaps           map[string]int
	lastLine        string
	last            Judgement
	seen            bool
	result          *Result
	// recheckAt is when the last judgement may change without any new event (Judgement.RecheckAt).
	recheckAt time.Time
	// configured is set once the workload's own settings are read (settings.go): its policy,
	// and its deadline when it has its own timeout.
	configured bool
	settings   workload.Settings
	overrides  []workload.Override
	policy     Policy
	deadline   time.Time
	// view is what the watch heard from the cluster, shared by every workload (fresh.go).
	view *view
	// started is when the watch first judged the workload: silences count from then.
	started time.Time
	// confirm holds a healthy verdict until the view is shown current (confirm.go).
	confirm confirmation
	// progress follows when the rollout last progressed (progress.go).
	progress progress
	// unchecked says what the watch could not read of the pods' claims (claims.go).
	unchecked []string
}

// noteUnchecked keeps each note of what could not be checked once.
func (t *tracked) noteUnchecked(notes []string) {
	for _, n := range notes {
		if !slices.Contains(t.unchecked, n) {
			t.unchecked = append(t.unchecked, n)
		}
	}
}

// Watch judges the given workloads (skipped ones are ignored) and returns one Result each, in order.
func (w *Watcher) Watch(ctx context.Context, workloads []target.Target) ([]Result, error) {
	rs, err := w.watch(ctx, workloads, nil)
	if err != nil {
		return nil, err
	}
	w.completeObservations(ctx, rs)
	return rs, nil
}

func (w *Watcher) watch(ctx context.Context, workloads []target.Target, minGeneration map[string]int64) ([]Result, error) {
	now := w.now
	start := now()
	if w.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.Timeout)
		defer cancel()
	}
	var ts []*tracked
	byNS := map[string][]*tracked{}
	for _, wl := range workloads {
		if wl.Skipped {
			continue
		}
		kind, ok := wl.KindOf()
		if !ok {
			return nil, fmt.Errorf("cannot judge kind %s", wl.Kind)
		}
		t := &tracked{w: wl, kind: kind, minGeneration: minGeneration[wl.Key()]}
		ts = append(ts, t)
		byNS[wl.Namespace] = append(byNS[wl.Namespace], t)
	}
	if len(ts) == 0 {
		return nil, nil
	}

	changed := newChanges()
	watchErr := make(chan error, 1)
	informCtx, stop := context.WithCancel(ctx)
	defer stop()
	v := newView(start)
	for _, t := range ts {
		t.view = v
	}
	if slices.ContainsFunc(ts, byPods) {
		if err := w.startLeases(informCtx, v, changed.wake); err != nil {
			return nil, err
		}
	}
	caches := map[string]*nsCache{}
	for ns, group := range byNS {
		c, err := w.startNamespace(informCtx, ns, group, changed, watchErr, v)
		if err != nil {
			return nil, err
		}
		caches[ns] = c
	}

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for first := true; ; first = false {
		// Only the workloads whose objects changed are judged again, and those whose judgement
		// may change with time alone: judging all of them on every change is quadratic at scale.
		set := changed.take()
		var next time.Time
		pending := 0
		if err := w.configure(caches, ts, start); err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.result != nil || w.expire(caches[t.w.Namespace], t, start) {
				continue
			}
			if first || set.has(t.w.Namespace, t.w.Name) || !t.confirm.due.IsZero() || (!t.recheckAt.IsZero() && !now().Before(t.recheckAt)) {
				j, res := w.judge(informCtx, v, caches[t.w.Namespace], t, now(), changed.wake)
				if res != nil {
					res.Since = orTime(res.Since, start)
					t.result = res
					continue
				}
				t.recheckAt = j.RecheckAt
			}
			pending++
			next = earliest([]time.Time{next, t.recheckAt, t.deadline})
		}
		if pending == 0 {
			return results(ts), nil
		}
		if failed := firstFailed(ts); failed != nil && !w.WaitAll {
			w.interrupt(caches, ts, failed, start)
			return results(ts), nil
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(now()), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-changed.poke:
		case <-timer.C:
		case err := <-watchErr:
			return nil, err
		case <-ctx.Done():
			if deadlineOnly(ctx) {
				for _, t := range ts {
					if t.result == nil {
						t.result = w.timedOut(caches[t.w.Namespace], t, now().Sub(start))
						t.result.Since = orTime(t.result.Since, start)
					}
				}
				return results(ts), nil
			}
			return nil, fmt.Errorf("watch rollouts: %w", ctx.Err())
		}
	}
}

// byPods says whether a tracked workload is of a kind judged by its pods.
func byPods(t *tracked) bool {
	_, ok := t.kind.(workload.PodKind)
	return ok
}

// deadlineOnly reports whether ctx ended by its own deadline (a caller's timeout), not a cancel.
func deadlineOnly(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// judge evaluates one workload from the caches; it returns a Result when there is a verdict. The
// judge's clock counts only time in which the gate heard the cluster (v.effective), and a healthy
// verdict waits until the view is shown current (confirm).
func (w *Watcher) judge(ctx context.Context, v *view, c *nsCache, t *tracked, now time.Time, wake func()) (Judgement, *Result) {
	wl, err := c.get(t.w)
	if apierrors.IsNotFound(err) {
		return Judgement{}, &Result{Workload: t.w, Verdict: report.VerdictFailed, Reason: "Deleted",
			Message: fmt.Sprintf("%s was deleted while its rollout was being watched", t.w.Ref()), DecidedAt: now}
	}
	if err != nil {
		return Judgement{}, &Result{Workload: t.w, Verdict: report.VerdictError, Reason: "CacheError", Message: err.Error(), DecidedAt: now}
	}
	switch wl := wl.(type) {
	case workload.PodWorkload:
		return w.judgePods(ctx, v, c, t, wl, now, wake)
	default:
		return w.judgeStatus(t, wl, now)
	}
}

// judgePods judges a workload by its new revision's pods (Evaluate).
func (w *Watcher) judgePods(ctx context.Context, v *view, c *nsCache, t *tracked, wl workload.PodWorkload, now time.Time, wake func()) (Judgement, *Result) {
	obj := wl.Object()
	pods, revision, since, ok := c.revisionPods(wl)
	nodes := nodesOf(pods)
	// Silences stop the judge's clock: every window (soak, probe windows, graces) is longer by them.
	start := t.started
	if start.IsZero() {
		t.started, start = now, now
	}
	silent := v.silent(nodes, start, now)
	eff := now.Add(-silent)
	t.observe(pods, eff)
	if ok {
		t.progress.observe(obj, pods, eff)
	}
	claims, unchecked := c.claims.check(ctx, pods)
	t.noteUnchecked(unchecked)
	snap := Snapshot{Object: obj, Pods: pods, CompletedAt: t.completedAt, Events: c.podEvents(pods),
		StartedSeen: t.startedSeen, Flaps: t.flaps, ProgressAt: t.progress.at, Claims: claims}
	var j Judgement
	if gen := wl.Meta().GetGeneration(); gen < t.minGeneration {
		j = Judgement{Progress: fmt.Sprintf("waiting for generation %d to be seen (cache at %d)", t.minGeneration, gen)}
	} else if !ok {
		j = Judgement{Progress: "waiting for the controller to create the new revision"}
	} else {
		j = Evaluate(snap, t.policy, eff)
	}
	if !j.RecheckAt.IsZero() {
		j.RecheckAt = j.RecheckAt.Add(silent) // back to the gate's clock
	}
	if j.Soaking && silent > 0 {
		// The line says when the soak ends for whoever reads it: on the gate's clock, later by the
		// silences the judge's clock stood still for.
		j.Progress = strings.TrimSuffix(j.Progress, soakNote(j.SoakEnd, j.soakWhy)) + soakNote(j.SoakEnd.Add(silent), j.soakWhy)
	}
	if j.Complete && t.completedAt.IsZero() {
		t.completedAt = eff
	} else if !j.Complete {
		t.completedAt = time.Time{}
	}
	if _, completes := wl.(workload.Completion); j.Verdict == report.VerdictHealthy && !completes {
		// With a soak, healthy also means each kubelet had time to report a crash on start (a
		// short soak can end before it does); --soak 0 gives that up too.
		var aliveBy map[string]time.Time
		if t.policy.Soak > 0 {
			aliveBy = reportDue(pods)
		}
		if hold, recheck := w.confirm(ctx, v, c, t, wl, nodes, aliveBy, now, wake); hold != "" {
			j.Verdict, j.Reason, j.Message = "", "", ""
			j.Progress += "; soak done, " + hold
			j.RecheckAt = recheck
		}
	} else if j.Verdict == "" {
		t.confirm = confirmation{behind: t.confirm.behind}
	}
	w.progress(t, j)
	if j.Verdict == "" {
		return j, nil
	}
	res := &Result{Workload: t.w, Verdict: j.Verdict, Reason: j.Reason, Message: j.Message, Revision: revision,
		Object: obj, Pods: copyPods(pods), Failing: j.Failing, Since: since, DecidedAt: now,
		View: slices.Concat(v.notes(nodes, start, now), t.confirm.behind, t.unchecked)}
	if res.Verdict == report.VerdictFailed {
		c.observe(wl, res)
	}
	return j, res
}

// progress remembers a judgement and writes its line when the state changed.
func (w *Watcher) progress(t *tracked, j Judgement) {
	t.last = j
	line := t.w.Ref().String() + ": " + j.Progress
	if line != t.lastLine && w.Progress != nil {
		fmt.Fprintln(w.Progress, line)
	}
	t.lastLine = line
}

// judgeStatus judges an object of a kind judged by its status alone (EvaluateStatus).
func (w *Watcher) judgeStatus(t *tracked, wl workload.Workload, now time.Time) (Judgement, *Result) {
	s := workload.StatusOf(wl)
	j := EvaluateStatus(s)
	w.progress(t, j)
	if j.Verdict == "" {
		return j, nil
	}
	return j, &Result{Workload: t.w, Verdict: j.Verdict, Reason: j.Reason, Message: j.Message,
		Object: wl.Object(), Status: resourceStatus(s), DecidedAt: now}
}

// observe records what the judge cannot read from one snapshot: when each container run was first
// seen started, and how often each pod turned NotReady without a restart.
func (t *tracked) observe(pods []*corev1.Pod, now time.Time) {
	if t.startedSeen == nil {
		t.startedSeen, t.wasReady, t.restartsAtReady, t.flaps = map[string]time.Time{}, map[string]bool{}, map[string]int32{}, map[string]int{}
	}
	for _, p := range pods {
		for _, cs := range podstate.LongRunning(p) {
			if k := StartedKey(p, cs); cs.Started != nil && *cs.Started && t.startedSeen[k].IsZero() {
				t.startedSeen[k] = now
			}
		}
		restarts := int32(0)
		for _, cs := range podstate.LongRunning(p) {
			restarts += cs.RestartCount
		}
		key := string(p.UID) + "/" + p.Name
		ready := podstate.Ready(p)
		switch {
		case ready:
			t.restartsAtReady[key] = restarts
		case t.wasReady[key] && p.DeletionTimestamp == nil && restarts == t.restartsAtReady[key] && allRunning(p):
			t.flaps[p.Name]++
		}
		t.wasReady[key] = ready
	}
}

// timedOut builds the timeout verdict, saying why the rollout is stuck. A silence of the cluster
// still going on at the deadline makes it "could not evaluate" (fresh.go): what the gate did not
// hear cannot pass, nor fail, the rollout.
func (w *Watcher) timedOut(c *nsCache, t *tracked, waited time.Duration) *Result {
	now := w.now()
	v := t.view
	res := &Result{Workload: t.w, Verdict: report.VerdictTimeout, Reason: "Timeout", DecidedAt: now}
	defer func() {
		var nodes []string
		for i := range res.Pods {
			if n := res.Pods[i].Spec.NodeName; n != "" {
				nodes = append(nodes, n)
			}
		}
		res.View = slices.Concat(v.notes(nodes, orTime(t.started, now.Add(-waited)), now), t.confirm.behind, t.unchecked)
		who, since := v.quiet(nodes, now)
		if who == "" && t.confirm.done != nil && now.Sub(t.confirm.sent) > readLimit {
			who, since = "the API server (a read went unanswered)", t.confirm.sent
		}
		switch {
		case res.Verdict == report.VerdictFailed:
		case who != "":
			res.Verdict, res.Reason = report.VerdictError, "ClusterSilent"
			res.Message = fmt.Sprintf("could not evaluate: nothing heard from %s for %s (since %s), until --timeout ran out after %s; the rollout was not judged: %s",
				who, now.Sub(since).Round(time.Second), since.UTC().Format("15:04:05"), waited.Round(time.Second), t.last.Progress)
		case !t.confirm.due.IsZero():
			// The soak was over, but the gate could not yet show its view was current.
			res.Verdict, res.Reason = report.VerdictError, "ViewUnconfirmed"
			res.Message = fmt.Sprintf("could not evaluate: the soak was over %s before --timeout ran out, but the gate could not confirm it heard the cluster: %s",
				now.Sub(t.confirm.due).Round(time.Second), t.last.Progress)
		}
	}()
	wl, err := c.get(t.w)
	if err != nil {
		res.Message = fmt.Sprintf("rollout incomplete after %s", waited.Round(time.Second))
		return res
	}
	pw, ok := wl.(workload.PodWorkload)
	if !ok {
		s := workload.StatusOf(wl)
		res.Object, res.Status = wl.Object(), resourceStatus(s)
		res.Reason, res.Message = statusTimedOut(s, waited)
		return res
	}
	// A Job does not roll out: it runs to completion, and its timeout says so.
	unfinished := "rollout incomplete"
	if _, completes := pw.(workload.Completion); completes {
		unfinished = "job incomplete"
	}
	pods, revision, since, _ := c.revisionPods(pw)
	res.Object, res.Pods, res.Revision, res.Since = pw.Object(), copyPods(pods), revision, since
	defer c.observe(pw, res) // once the verdict is settled: a soak cut short is healthy
	if pz, ok := pw.(workload.Pauser); ok && pz.Pause() != "" {
		// Held on a pause that waits for a person (an Argo canary's pause step): neither failed
		// nor healthy, and not stuck either; a timeout that says what it waits on.
		res.Reason, res.Paused = "Paused", true
		res.Message = fmt.Sprintf("rollout paused when --timeout ran out after %s, waiting on a pause: %s; %s. "+
			"Promote it to go on (%s), or abort it", waited.Round(time.Second), pz.Pause(), t.last.Progress, pz.Unpause())
		return res
	}
	if t.last.Soaking && t.last.Held == "" && !t.completedAt.IsZero() {
		// The soak is bounded by --timeout: a rollout that is complete, with every pod ready and no
		// probe failing, is healthy; the message says the soak was cut short and why it was long.
		res.Verdict, res.Reason = report.VerdictHealthy, "Complete"
		res.Message = fmt.Sprintf("rollout complete; the soak was cut short by --timeout after %s of it (%s)",
			now.Sub(t.completedAt).Round(time.Second), t.last.Progress)
		return res
	}
	var notReady, pending []string
	for _, p := range pods {
		switch {
		case p.Status.Phase == corev1.PodPending:
			pending = append(pending, p.Name+" ("+pendingWhy(p)+")")
		case !podstate.Ready(p):
			notReady = append(notReady, p.Name)
		}
	}
	if len(notReady) > 0 && len(pending) == 0 {
		res.Reason = "NotReady"
	}
	if len(pending) > 0 && len(notReady) == 0 {
		res.Reason = "Pending"
	}
	res.Message = fmt.Sprintf("%s after %s: %s", unfinished, waited.Round(time.Second), t.last.Progress)
	// The judge's clock, without the silences (fresh.go).
	eff := now.Add(-v.silent(nodesOf(pods), orTime(t.started, now), now))
	if still, ago := t.progress.stillProgressing(pw.Object(), t.policy, eff); still {
		res.StillProgressing = true
		res.Message = fmt.Sprintf("still progressing (the last pod turned Ready, or count rose, %s before) when the timeout ran out: %s",
			ago.Round(time.Second), res.Message)
	}
	if len(notReady) > 0 {
		res.Message += fmt.Sprintf("; running but not ready: %v", notReady)
	}
	if len(pending) > 0 {
		res.Message += fmt.Sprintf("; pending: %v", pending)
	}
	return res
}

func pendingWhy(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return c.Reason + ": " + c.Message
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if cs.State.Waiting != nil {
			return cs.State.Waiting.Reason
		}
	}
	return "pending"
}

// Verify waits for one workload, of the resolved kind k, to become healthy (used after a
// rollback); the caller bounds it with ctx's deadline, which ends as a timeout verdict.
func (w *Watcher) Verify(ctx context.Context, k workload.Kind, ref report.Ref) (report.Verdict, string, error) {
	v := *w
	v.Timeout, v.runSettingsOnly = 0, true
	wl := target.Target{Kind: k.Name(), Namespace: ref.Namespace, Name: ref.Name, Resolved: k}
	// A consistent read of the generation the undo produced, so that a watch cache still showing
	// the failed revision cannot fail the rollback.
	gen, err := generation(ctx, w.Client, wl)
	if err != nil {
		return report.VerdictError, err.Error(), err
	}
	rs, err := v.watch(ctx, []target.Target{wl}, map[string]int64{wl.Key(): gen})
	if err != nil {
		return report.VerdictError, err.Error(), err
	}
	if len(rs) == 0 {
		return report.VerdictError, "nothing to verify", nil
	}
	return rs[0].Verdict, rs[0].Message, nil
}

func generation(ctx context.Context, c client.Interface, wl target.Target) (int64, error) {
	k := wl.Resolved
	obj, err := k.Get(ctx, c, wl.Namespace, wl.Name)
	if err != nil {
		return 0, kube.Explain(err, "get "+wl.Ref().String()+" -n "+wl.Namespace, "get", k.GroupResource())
	}
	return obj.Meta().GetGeneration(), nil
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func results(ts []*tracked) []Result {
	out := make([]Result, 0, len(ts))
	for _, t := range ts {
		r := *t.result
		r.Settings, r.Overrides = t.settings, t.overrides
		out = append(out, r)
	}
	return out
}

// copyPods returns the pods sorted by name, as values that share their maps and slices with the
// cache: no deep copy (at 10,000 pods the copies were the gate's last peak of memory). A cache
// never changes a pod in place (an update replaces it), and nothing writes to a Result's pods.
func copyPods(pods []*corev1.Pod) []corev1.Pod {
	out := make([]corev1.Pod, 0, len(pods))
	for _, p := range pods {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func orTime(t, d time.Time) time.Time {
	if t.IsZero() {
		return d
	}
	return t
}

// nsCache holds the listers of one namespace's watches.
type nsCache struct {
	pods   cache.Indexer // indexed by the UID of each pod's controller
	events cache.Indexer // Warning events of pods, indexed by the pod's UID
	// The cluster autoscaler's events on pods (TriggeredScaleUp, NotTriggerScaleUp: type Normal,
	// so not among the Warnings), indexed the same way; nil until watched.
	scaleEvents cache.Indexer
	kinds       map[string]workload.Cached
	// claims is what the watch learned of the claims of pods held back for them (claims.go).
	claims *claimFacts
}

// controllerOf names the workload that controls the history object ref points to (a pod's
// ReplicaSet → its Deployment), by the cached object's owner reference; "" when none is cached.
func (c *nsCache) controllerOf(ref *metav1.OwnerReference) string {
	for _, k := range c.kinds {
		if k.ControllerOf == nil {
			continue
		}
		if name := k.ControllerOf(ref); name != "" {
			return name
		}
	}
	return ""
}

func (c *nsCache) get(w target.Target) (workload.Workload, error) {
	// The kind Resolve decided (or, for a target made without it, the switch's).
	kind, ok := w.KindOf()
	if !ok {
		return nil, fmt.Errorf("cannot judge kind %s", w.Kind)
	}
	k, ok := c.kinds[workload.Key(kind)]
	if !ok {
		return nil, fmt.Errorf("cannot judge kind %s", w.Kind)
	}
	return k.Get(w.Name)
}

// revisionPods reads the new revision's pods from the caches: those its controller owns (one
// index lookup, not a scan of the namespace's pods) that the workload's selector matches. It also
// returns the revision's name and when its rollout began; ok is false while the new revision
// cannot be told yet (the controller has not acted).
func (c *nsCache) revisionPods(wl workload.PodWorkload) (pods []*corev1.Pod, revision string, since time.Time, ok bool) {
	h, _ := c.history(wl)
	cur, _ := wl.Revisions(h)
	if cur == nil || c.pods == nil {
		return nil, "", time.Time{}, false
	}
	owned, _ := c.pods.ByIndex(byControllerUID, string(cur.Owner.UID))
	sel := wl.Selector()
	candidates := make([]*corev1.Pod, 0, len(owned))
	for _, o := range owned {
		if p, ok := o.(*corev1.Pod); ok && sel.Matches(labels.Set(p.Labels)) {
			candidates = append(candidates, p)
		}
	}
	pods = cur.Pods(candidates)
	return pods, cur.ID, cur.Since(pods), true
}

// podEvents returns the Warning events of these pods and the cluster autoscaler's events on them.
func (c *nsCache) podEvents(pods []*corev1.Pod) []*corev1.Event {
	var out []*corev1.Event
	for _, idx := range []cache.Indexer{c.events, c.scaleEvents} {
		if idx == nil {
			continue
		}
		for _, p := range pods {
			objs, _ := idx.ByIndex(byInvolvedUID, string(p.UID))
			for _, o := range objs {
				if e, ok := o.(*corev1.Event); ok {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// byControllerUID indexes pods by the UID of their controller (a ReplicaSet, StatefulSet,
// DaemonSet or Job): a revision's pods are the ones its owner controls.
const byControllerUID = "controller.uid"

func controllerUID(obj any) ([]string, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
			return []string{string(ref.UID)}, nil
		}
	}
	return nil, nil
}

// byInvolvedUID indexes events by the UID of the object they are about.
const byInvolvedUID = "involvedObject.uid"

func involvedUID(obj any) ([]string, error) {
	if e, ok := obj.(*corev1.Event); ok {
		return []string{string(e.InvolvedObject.UID)}, nil
	}
	return nil, nil
}

// startNamespace checks access with one small list per resource type (so a missing RBAC rule is
// said plainly instead of retried forever), then starts one shared informer per type.
func (w *Watcher) startNamespace(ctx context.Context, ns string, group []*tracked, changed *changes, errs chan<- error, v *view) (*nsCache, error) {
	f := client.NewInformers(w.Client, ns, client.WithTransform(lean))
	// Only the Warning events of pods: probe failures and mounts that cannot succeed. Their own
	// informers, because the field selector applies to every list and watch of them.
	ef := client.NewInformers(w.Client, ns, client.WithTransform(leanEvent),
		client.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = podWarnings }))
	// The cluster autoscaler's events on pods are Normal ones: a selector of their own (finality.go).
	af := client.NewInformers(w.Client, ns, client.WithTransform(leanEvent),
		client.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = autoscalerPodEvents }))
	probe := metav1.ListOptions{Limit: 1}
	c := &nsCache{kinds: map[string]workload.Cached{}, claims: newClaimFacts(w.Client, ns)}
	var watched []workload.Informer
	var evInf, caInf cache.SharedIndexInformer
	// Pods and their events only for the kinds judged by their pods: an object judged by its
	// status alone needs neither (and a cluster-scoped one has no namespace to watch them in).
	if slices.ContainsFunc(group, byPods) {
		podInf := f.For(corev1.Resource("pods"), &corev1.Pod{}, client.ListWatchOf(w.Client.CoreV1().Pods(ns)))
		evInf = ef.For(corev1.Resource("events"), &corev1.Event{}, client.ListWatchOf(w.Client.CoreV1().Events(ns)))
		watched = append(watched,
			workload.Informer{Resource: corev1.Resource("pods"), Informer: podInf, Probe: func(ctx context.Context) error {
				_, err := w.Client.CoreV1().Pods(ns).List(ctx, probe)
				return err
			}},
			workload.Informer{Resource: corev1.Resource("events"), Informer: evInf, Probe: func(ctx context.Context) error {
				_, err := w.Client.CoreV1().Events(ns).List(ctx, probe)
				return err
			}})
		if err := podInf.AddIndexers(cache.Indexers{byControllerUID: controllerUID}); err != nil {
			return nil, fmt.Errorf("index pods in namespace %s: %w", ns, err)
		}
		c.pods, c.events = podInf.GetIndexer(), evInf.GetIndexer()
		caInf = af.For(corev1.Resource("events"), &corev1.Event{}, client.ListWatchOf(w.Client.CoreV1().Events(ns)))
	}
	// One cache per kind in the namespace, whichever way the kind was found.
	for _, t := range group {
		k := t.kind
		if _, done := c.kinds[workload.Key(k)]; done {
			continue
		}
		kc, err := k.Cache(w.Client, f, ns)
		if err != nil {
			return nil, err
		}
		c.kinds[workload.Key(k)] = kc
		watched = append(watched, kc.Informers...)
	}
	// One small list per resource first, so that a missing RBAC rule is said plainly instead of
	// retried forever by the informers. They go out together (start-up waits for one round trip,
	// not one per resource); the first failing one in order is the one reported.
	probeErrs := make([]error, len(watched))
	var probes sync.WaitGroup
	for i, wi := range watched {
		probes.Go(func() { probeErrs[i] = wi.Probe(ctx) })
	}
	probes.Wait()
	for i, wi := range watched {
		if err := probeErrs[i]; err != nil {
			return nil, kube.Explain(err, fmt.Sprintf("list %s%s", wi.Resource.Resource, nsFlag(ns)), "list", wi.Resource)
		}
	}
	for _, inf := range []cache.SharedIndexInformer{evInf, caInf} {
		if inf == nil {
			continue
		}
		if err := inf.AddIndexers(cache.Indexers{byInvolvedUID: involvedUID}); err != nil {
			return nil, fmt.Errorf("index events in namespace %s: %w", ns, err)
		}
	}
	if caInf != nil {
		c.scaleEvents = caInf.GetIndexer()
	}

	// Every event is news from the API server (fresh.go), then a change to judge.
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { v.heard(w.now()); changed.add(ns, obj, c.controllerOf) },
		UpdateFunc: func(_, obj any) { v.heard(w.now()); changed.add(ns, obj, c.controllerOf) },
		DeleteFunc: func(obj any) { v.heard(w.now()); changed.add(ns, obj, c.controllerOf) },
	}
	var infs []cache.SharedIndexInformer
	// add starts one informer; gr is the resource it watches, for the RBAC rule a 403 names.
	add := func(inf cache.SharedIndexInformer, gr schema.GroupResource) {
		outage := &outage{}
		_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
			// Expired watches (410 Gone) and dropped connections are resumed by the reflector;
			// a lost permission, or an API server gone for longer than a blip, is fatal.
			var fatal error
			switch {
			case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
				fatal = kube.Explain(err, fmt.Sprintf("watch %s -n %s", gr, ns), "watch", gr)
			case kube.IsAPIUnavailable(err) || strings.Contains(err.Error(), "connection refused"):
				if d := outage.failed(w.now()); d >= apiOutageLimit {
					fatal = fault.CannotEvaluatef("watch -n %s: the Kubernetes API server has been unreachable for %s: %v; the rollout could not be judged", ns, d.Round(time.Second), err)
				}
			}
			if fatal != nil {
				select {
				case errs <- fatal:
				default:
				}
			}
		})
		_, _ = inf.AddEventHandler(notify)
		infs = append(infs, inf)
	}
	for _, wi := range watched {
		add(wi.Informer, wi.Resource)
		if wi.Run != nil {
			go wi.Run(ctx.Done())
		}
	}
	if caInf != nil {
		// Listed by the same rule as the Warnings: the events probe above covers it.
		add(caInf, corev1.Resource("events"))
	}
	f.Start(ctx.Done())
	ef.Start(ctx.Done())
	af.Start(ctx.Done())
	// Wait on each informer's synced channel: cache.WaitForCacheSync polls every 100 ms, which
	// was most of the gate's start-up.
	for _, inf := range infs {
		select {
		case <-inf.HasSyncedChecker().Done():
		case <-ctx.Done():
			return nil, fmt.Errorf("start watches in namespace %s: %w", ns, ctx.Err())
		}
	}
	return c, nil
}

// nsFlag is " -n NS" for messages, "" for cluster-scoped objects.
func nsFlag(ns string) string {
	if ns == "" {
		return ""
	}
	return " -n " + ns
}

// podWarnings selects the events the judge reads.
const podWarnings = "involvedObject.kind=Pod,type=Warning"

// apiOutageLimit is how long the API server may stay unreachable before the gate gives up with
// "could not evaluate" rather than wait for --timeout and call a healthy rollout timed out.
const apiOutageLimit = 30 * time.Second

// outage measures a run of watch failures; failures further apart than the reflector's longest
// back-off belong to separate outages.
type outage struct {
	mu          sync.Mutex
	start, last time.Time
}

func (o *outage) failed(now time.Time) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.start.IsZero() || now.Sub(o.last) > 45*time.Second {
		o.start = now
	}
	o.last = now
	return now.Sub(o.start)
}
