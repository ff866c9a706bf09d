package watch

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// The gate's view of the cluster is only as current as the last time it heard from the cluster.
// A watch on a frozen API server stays open and silent, and a frozen kubelet reports nothing while
// its node still shows Ready (its Lease lasts 40 s): before this, the soak's timer ran out inside
// such a silence and a crash-looping rollout was called healthy (issue 27). So:
//
//   - The time rules count only time in which the gate heard the cluster: the judge runs on an
//     effective clock that stands still during the silences the view has recorded (effective).
//   - A silence is a gap longer than a node's renew interval and a half between two renewals of
//     its Lease (its kubelet was frozen, or could not reach the API server), a gap as long between
//     two things heard from the API server while Leases are watched (every kubelet renews every
//     10 s, so a live API server is never quiet that long), or a read that took longer than
//     readLimit.
//   - A healthy verdict waits for proof that the view is current when the soak ends (confirm.go):
//     every node running a new pod renewed its Lease after that moment, and a quorum read of the
//     workload and its pods matches what the watch holds.

// readLimit is how long a small read may take before the time it took counts as a silence of the
// API server: a loaded two-core node answers in well under a second.
const readLimit = 3 * time.Second

// defaultRenewGap is the longest gap between two Lease renewals that is not a silence, for the
// kubelet's default Lease (40 s, renewed every quarter: 10 s), plus half a period for a loaded node.
const defaultRenewGap = 15 * time.Second

// view records what the gate heard from the cluster, and when, in the gate's own clock. It is
// written by the informers' handlers and the confirming reads, read by the watch loop.
type view struct {
	mu sync.Mutex
	// leases is set when the kubelets' Leases are watched; unchecked says why they are not.
	leases    bool
	unchecked string
	// apiLast is when the API server was last heard from; apiGap the longest quiet that is no
	// silence (the shortest renew gap of any node, as every renewal arrives through the API server).
	apiLast time.Time
	apiGap  time.Duration
	nodes   map[string]*beat
	// silences are the gaps found so far, oldest first.
	silences []silence
}

// beat is the last renewal of one node's Lease.
type beat struct {
	seen    time.Time // when the gate saw it
	renewed time.Time // its renewTime, the kubelet's clock
	gap     time.Duration
}

// silence is a stretch in which the gate heard nothing from who (the API server, or one node's
// kubelet when node is set).
type silence struct {
	who, node string
	from, to  time.Time
}

func newView(start time.Time) *view {
	return &view{apiLast: start, apiGap: defaultRenewGap, nodes: map[string]*beat{}}
}

// heard records that the API server delivered something at at (an event of any watch).
func (v *view) heard(at time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.heardLocked(at)
}

func (v *view) heardLocked(at time.Time) {
	if v.leases && at.Sub(v.apiLast) > v.apiGap {
		v.silences = append(v.silences, silence{who: "the API server", from: v.apiLast, to: at})
	}
	if at.After(v.apiLast) {
		v.apiLast = at
	}
}

// renewed records a renewal of node's Lease (renewTime, of a Lease lasting duration) seen at at.
// A renewal that follows the last one by more than the node's gap, in both the kubelet's clock
// and the gate's, ends a silence of that kubelet. (A renewal the API server delivered late, with
// the kubelet's timestamps in step, is the API server's silence, which heard records.)
func (v *view) renewed(node string, renewTime time.Time, duration time.Duration, at time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	gap := defaultRenewGap
	if duration > 0 {
		gap = duration / 4 * 3 / 2
	}
	v.apiGap = min(v.apiGap, gap)
	b := v.nodes[node]
	if b != nil && !renewTime.After(b.renewed) {
		return // not a renewal: the same Lease again (a relist)
	}
	if b != nil && at.Sub(b.seen) > gap && renewTime.Sub(b.renewed) > gap {
		v.silences = append(v.silences, silence{who: "the kubelet of node " + node, node: node, from: b.seen, to: at})
	}
	v.nodes[node] = &beat{seen: at, renewed: renewTime, gap: gap}
	v.heardLocked(at)
}

// answered records a read sent at sent and answered at at: one slower than readLimit was a
// silence of the API server, from the last thing heard from it (a frozen API server was silent
// before the read too, and what the kubelets queued meanwhile is still to come).
func (v *view) answered(sent, at time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if at.Sub(sent) > readLimit {
		v.silences = append(v.silences, silence{who: "the API server (a read went unanswered)", from: earlier(sent, v.apiLast), to: at})
	}
	v.heardLocked(at)
}

// relevant reports whether s concerns a workload whose new pods run on nodes.
func (s silence) relevant(nodes []string) bool { return s.node == "" || slices.Contains(nodes, s.node) }

// silent is how long, between since and until, the gate heard nothing from the API server or
// from the kubelet of one of nodes: the union of those silences, each counted once.
func (v *view) silent(nodes []string, since, until time.Time) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	var spans [][2]time.Time
	for _, s := range v.silences {
		from, to := later(s.from, since), earlier(s.to, until)
		if s.relevant(nodes) && to.After(from) {
			spans = append(spans, [2]time.Time{from, to})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0].Before(spans[j][0]) })
	var total time.Duration
	var end time.Time
	for _, sp := range spans {
		if sp[0].Before(end) {
			sp[0] = end
		}
		if sp[1].After(sp[0]) {
			total += sp[1].Sub(sp[0])
			end = sp[1]
		}
	}
	return total
}

// effective is the judge's clock at now: the time since since, less the silences in it.
func (v *view) effective(nodes []string, since, now time.Time) time.Time {
	return now.Add(-v.silent(nodes, since, now))
}

// quiet says who has been silent at now, and since when, for a silence not yet over: the API
// server while Leases are watched, or the kubelet of one of nodes. Empty when all are heard.
//
// With one node, a silent kubelet leaves the API server with nothing to deliver, and a frozen
// API server delivers no renewal: both are named, as the gate cannot tell them apart.
func (v *view) quiet(nodes []string, now time.Time) (who string, since time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var names []string
	if v.leases && now.Sub(v.apiLast) > v.apiGap {
		names, since = append(names, "the API server"), v.apiLast
	}
	for _, n := range sorted(nodes) {
		if b := v.nodes[n]; b != nil && now.Sub(b.seen) > b.gap {
			names = append(names, "the kubelet of node "+n)
			since = earliest([]time.Time{since, b.seen})
		}
	}
	return strings.Join(names, " nor from "), since
}

// unrenewed names the nodes whose Lease was not renewed at or after t, and when the first of them
// is due to renew; nodes without a Lease are not waited for (see gaps).
func (v *view) unrenewed(nodes []string, t time.Time) (names []string, due time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.leases {
		return nil, time.Time{}
	}
	for _, n := range sorted(nodes) {
		if b := v.nodes[n]; b != nil && b.seen.Before(t) {
			names = append(names, n)
			due = earliest([]time.Time{due, b.seen.Add(b.gap)})
		}
	}
	return names, due
}

// unreported names the nodes whose kubelet has not yet shown itself alive at or after due[node],
// on its own clock: its Lease's last renewTime is earlier (due is a time of the kubelet's clock too,
// a container start). It also says when to look again. A node without a Lease, or every node when
// Leases are not watched, is judged on the gate's clock instead: due passed by now.
func (v *view) unreported(due map[string]time.Time, now time.Time) (names []string, next time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range sorted(slices.Collect(maps.Keys(due))) {
		b := v.nodes[n]
		switch {
		case !v.leases || b == nil:
			if now.Before(due[n]) {
				names, next = append(names, n), earliest([]time.Time{next, due[n]})
			}
		case b.renewed.Before(due[n]):
			// The renewal is pushed (wake); the recheck is only a backstop.
			names, next = append(names, n), earliest([]time.Time{next, later(now, b.seen).Add(b.gap)})
		}
	}
	return names, next
}

// notes says, for the report, what the gate could not check for a workload whose new pods run on
// nodes, and each silence between since and until: who, from when, for how long.
func (v *view) notes(nodes []string, since, until time.Time) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	if !v.leases && v.unchecked != "" {
		out = append(out, v.unchecked)
	}
	var missing []string
	for _, n := range sorted(nodes) {
		if v.leases && v.nodes[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		out = append(out, fmt.Sprintf("kubelet liveness not checked for node %s: no Lease in %s", strings.Join(missing, ", "), leaseNamespace))
	}
	for _, s := range v.silences {
		if s.relevant(nodes) && s.to.After(since) && !s.from.After(until) {
			out = append(out, fmt.Sprintf("view stale: nothing heard from %s from %s to %s (%s); the gate waited that long more",
				s.who, s.from.UTC().Format("15:04:05"), s.to.UTC().Format("15:04:05"), s.to.Sub(s.from).Round(time.Second)))
		}
	}
	return out
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
