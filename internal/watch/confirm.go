package watch

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
	"github.com/rollout-gate/rollout-gate/internal/target"
	"github.com/rollout-gate/rollout-gate/internal/workload"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// leaseNamespace holds the kubelets' node Leases, one per node, named after it.
const leaseNamespace = "kube-node-lease"

// readTimeout bounds one confirming read; a frozen API server holds a request open for as long as
// it is frozen, and the watch's client has no timeout of its own.
const readTimeout = 10 * time.Second

// startLeases watches the node Leases (one watch for every node: a Lease is a few hundred bytes,
// renewed every 10 s) and records each renewal in v. Without access it records why kubelet
// liveness is not checked; the API server's check still applies.
func (w *Watcher) startLeases(ctx context.Context, v *view, wake func()) error {
	leases := w.Client.CoordinationV1().Leases(leaseNamespace)
	gr := coordinationv1.Resource("leases")
	if _, err := leases.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		v.mu.Lock()
		defer v.mu.Unlock()
		if apierrors.IsForbidden(err) {
			v.unchecked = fmt.Sprintf("kubelet liveness not checked: the gate may not list Leases in %s (add the leases rule of deploy/rbac.yaml)", leaseNamespace)
		} else {
			v.unchecked = fmt.Sprintf("kubelet liveness not checked: %v", kube.Explain(err, "list leases -n "+leaseNamespace, "list", gr))
		}
		return nil
	}
	f := client.NewInformers(w.Client, leaseNamespace, client.WithTransform(stripManagedFields))
	inf := f.For(gr, &coordinationv1.Lease{}, client.ListWatchOf(leases))
	on := func(obj any) {
		l, ok := obj.(*coordinationv1.Lease)
		if !ok || l.Spec.RenewTime == nil {
			return
		}
		var d time.Duration
		if l.Spec.LeaseDurationSeconds != nil {
			d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
		}
		v.renewed(l.Name, l.Spec.RenewTime.Time, d, w.now())
		wake()
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: on, UpdateFunc: func(_, obj any) { on(obj) }})
	v.mu.Lock()
	v.leases = true
	v.mu.Unlock()
	f.Start(ctx.Done())
	select {
	case <-inf.HasSyncedChecker().Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("start the watch of node leases: %w", ctx.Err())
	}
}

// reportLag is how long a busy kubelet may take, after a container starts, to report that it
// exited at once: an app that exits as it starts was reported running and Ready first, and its
// exit only after its kubelet's next relist and status sync. Measured with hack/bench-exit-lag.sh
// on the two-core local cluster shared with other work: from the start to a watcher seeing the
// exit, at most 2.7 s with 4 busy loops on the 2 cores (18 pods, load average 15 to 18) and 5.2 s
// with 8 (36 pods, load average up to 27), each figure up to 1 s high. 8 s is one and a half
// times the worst; a soak of 9 s or more covers it anyway.
const reportLag = 8 * time.Second

// reportDue is, for each node running a new pod, when its kubelet has had reportLag to report on
// the newest container start there: that start (a whole second of the kubelet's clock, so up to
// 1 s early) plus 1 s and reportLag. A Lease renewal at or after it (the same clock) shows the
// kubelet was alive that long after the start.
func reportDue(pods []*corev1.Pod) map[string]time.Time {
	due := map[string]time.Time{}
	for _, p := range pods {
		if p.Spec.NodeName == "" {
			continue
		}
		for _, cs := range podstate.LongRunning(p) {
			if r := cs.State.Running; r != nil {
				if at := r.StartedAt.Add(time.Second + reportLag); at.After(due[p.Spec.NodeName]) {
					due[p.Spec.NodeName] = at
				}
			}
		}
	}
	return due
}

// confirmation is one workload's proof that the view was current when its soak ended.
type confirmation struct {
	// due is when the judge first found the rollout healthy: the soak's end.
	due time.Time
	// done receives the confirming read in flight (nil when none is); notBefore delays the next
	// read after one that failed or found the watch behind.
	done      chan readResult
	sent      time.Time
	notBefore time.Time
	// behind notes what reads found the watch behind on, for the report.
	behind []string
}

type readResult struct {
	sent, answered time.Time
	// behind says what the server had that the watch did not; empty when the watch was current.
	behind string
	err    error
}

// confirm holds a healthy verdict until the view is shown current at the soak's end: no ongoing
// silence, every node of a new pod renewed its Lease since (and at or after aliveBy[node], when
// set: see reportDue), and a read of the workload and its pods that
// matches the caches. It returns what it waits for ("" once confirmed) and when to look
// again.
func (w *Watcher) confirm(ctx context.Context, v *view, c *nsCache, t *tracked, wl workload.PodWorkload, nodes []string, aliveBy map[string]time.Time, now time.Time, wake func()) (string, time.Time) {
	cf := &t.confirm
	if cf.due.IsZero() {
		cf.due = now
	}
	if who, since := v.quiet(nodes, now); who != "" {
		return fmt.Sprintf("nothing heard from %s for %s; waiting for it", who, now.Sub(since).Round(time.Second)), now.Add(time.Second)
	}
	if names, due := v.unrenewed(nodes, cf.due); len(names) > 0 {
		return fmt.Sprintf("waiting for the kubelet of node %s to renew its Lease", strings.Join(names, ", ")), due
	}
	if names, next := v.unreported(aliveBy, now); len(names) > 0 {
		return fmt.Sprintf("giving the kubelet of node %s %s after the newest container start to report a crash on start",
			strings.Join(names, ", "), reportLag), next
	}
	if cf.done == nil {
		if now.Before(cf.notBefore) {
			return "waiting to read the workload and its pods again", cf.notBefore
		}
		cf.done, cf.sent = make(chan readResult, 1), now
		go func(done chan<- readResult, sent time.Time) {
			r := w.confirmRead(ctx, c, t.w, wl.Selector(), sent)
			v.answered(r.sent, r.answered)
			done <- r
			wake()
		}(cf.done, now)
		return "reading the workload and its pods from the API server to confirm", now.Add(readLimit)
	}
	select {
	case r := <-cf.done:
		cf.done = nil
		switch {
		case r.err != nil:
			cf.notBefore = now.Add(time.Second)
			return fmt.Sprintf("the confirming read failed (%v); trying again", r.err), cf.notBefore
		case r.answered.Sub(r.sent) > readLimit:
			// A silence, now recorded: the judge's clock moved back, the soak goes on.
			*cf = confirmation{behind: cf.behind}
			return fmt.Sprintf("the API server took %s to answer", r.answered.Sub(r.sent).Round(time.Second)), now
		case r.behind != "":
			cf.behind = append(cf.behind, fmt.Sprintf("view stale: at %s the watch was behind the API server (%s); the gate waited for it",
				r.answered.UTC().Format("15:04:05"), r.behind))
			cf.notBefore = now.Add(500 * time.Millisecond)
			return "the watch is behind the API server (" + r.behind + "); waiting for it", cf.notBefore
		}
		return "", time.Time{}
	default:
		if waited := now.Sub(cf.sent); waited > readLimit {
			return fmt.Sprintf("the API server has not answered a read for %s; waiting for it", waited.Round(time.Second)), now.Add(time.Second)
		}
		return "reading the workload and its pods from the API server to confirm", cf.sent.Add(readLimit)
	}
}

// confirmRead reads the workload (a quorum GET) and its pods (a LIST without resourceVersion,
// which the API server serves consistently) and compares them with the caches.
func (w *Watcher) confirmRead(ctx context.Context, c *nsCache, tw target.Target, sel labels.Selector, sent time.Time) readResult {
	r := readResult{sent: sent}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	k, ok := tw.KindOf()
	if !ok {
		r.answered, r.err = w.now(), fmt.Errorf("cannot read kind %s", tw.Kind)
		return r
	}
	got, err := k.Get(ctx, w.Client, tw.Namespace, tw.Name)
	if err != nil {
		r.answered, r.err = w.now(), fmt.Errorf("get %s -n %s: %w", tw.Ref(), tw.Namespace, err)
		return r
	}
	list, err := w.Client.CoreV1().Pods(tw.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	r.answered = w.now()
	if err != nil {
		r.err = fmt.Errorf("list pods -n %s -l %s: %w", tw.Namespace, sel, err)
		return r
	}
	r.behind = behind(c, tw, got, list.Items, sel)
	return r
}

// behind says what the server's objects show that the caches do not yet: a newer workload, a pod
// unseen or newer, or a cached pod the server no longer has. Empty when the caches are current.
func behind(c *nsCache, tw target.Target, got workload.Workload, pods []corev1.Pod, sel labels.Selector) string {
	if cached, err := c.get(tw); err != nil {
		return tw.Ref().String() + " not in the watch's cache"
	} else if newer(got.Meta().GetResourceVersion(), cached.Meta().GetResourceVersion()) {
		return fmt.Sprintf("%s at resourceVersion %s, the watch at %s", tw.Ref(), got.Meta().GetResourceVersion(), cached.Meta().GetResourceVersion())
	}
	if c.pods == nil {
		return ""
	}
	onServer := map[string]bool{}
	for i := range pods {
		p := &pods[i]
		onServer[p.Name] = true
		obj, ok, _ := c.pods.GetByKey(p.Namespace + "/" + p.Name)
		if !ok {
			return "pod " + p.Name + " not yet seen by the watch"
		}
		if cp, ok := obj.(*corev1.Pod); ok && newer(p.ResourceVersion, cp.ResourceVersion) {
			return fmt.Sprintf("pod %s at resourceVersion %s, the watch at %s", p.Name, p.ResourceVersion, cp.ResourceVersion)
		}
	}
	cached, _ := c.pods.ByIndex(cache.NamespaceIndex, tw.Namespace)
	for _, obj := range cached {
		if p, ok := obj.(*corev1.Pod); ok && sel.Matches(labels.Set(p.Labels)) && !onServer[p.Name] {
			return "pod " + p.Name + " deleted on the server, still in the watch"
		}
	}
	return ""
}

// newer reports whether resourceVersion a is later than b. Resource versions are opaque, but
// every API server in use writes etcd's revision, an integer; other values compare as different.
func newer(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return a != b
	}
	return x > y
}

// nodesOf names the nodes the pods run on.
func nodesOf(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			out = append(out, p.Spec.NodeName)
		}
	}
	return sorted(out)
}
