package watch

import (
	"strings"
	"testing"
	"time"
)

// TestViewCountsSilences: what the gate heard, in its own clock, and the silences the judge's
// clock must leave out.
func TestViewCountsSilences(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	const lease = 40 * time.Second
	type step func(v *view)
	renew := func(node string, renewed, seen int) step {
		return func(v *view) { v.renewed(node, at(renewed), lease, at(seen)) }
	}
	heard := func(s int) step { return func(v *view) { v.heard(at(s)) } }
	read := func(sent, answered int) step { return func(v *view) { v.answered(at(sent), at(answered)) } }
	tests := []struct {
		name   string
		leases bool
		steps  []step
		nodes  []string
		until  int
		want   time.Duration
	}{
		{name: "renewals on time", leases: true, nodes: []string{"n1"}, until: 40,
			steps: []step{renew("n1", 0, 0), renew("n1", 10, 10), renew("n1", 20, 21), renew("n1", 30, 30), renew("n1", 40, 40)}},
		{name: "kubelet frozen 3 s to 23 s", leases: true, nodes: []string{"n1"}, until: 40, want: 23 * time.Second,
			// Its last renewal before the freeze was at 0; the API server went on (pod events).
			steps: []step{renew("n1", 0, 0), heard(5), heard(12), heard(19), renew("n1", 23, 23), renew("n1", 33, 33)}},
		{name: "a frozen kubelet is no silence of the nodes it does not run on", leases: true, nodes: []string{"n2"}, until: 40,
			steps: []step{renew("n1", 0, 0), renew("n2", 1, 1), heard(5), renew("n2", 11, 11), heard(15), renew("n2", 21, 21), renew("n1", 23, 23), renew("n2", 31, 31)}},
		{name: "API server frozen: the renewal it held back comes late", leases: true, nodes: []string{"n1"}, until: 40, want: 23 * time.Second,
			// The kubelet renewed at 10 (its clock), the gate saw it at 23: the API server's silence.
			steps: []step{renew("n1", 0, 0), renew("n1", 10, 23), renew("n1", 23, 24)}},
		{name: "a quiet watch is no silence without leases", leases: false, until: 60,
			steps: []step{heard(0), heard(50)}},
		{name: "a slow read is a silence", leases: false, until: 60, want: 11 * time.Second,
			steps: []step{heard(12), read(12, 23)}},
		{name: "a slow read is a silence since the API server was last heard", leases: false, until: 60, want: 20 * time.Second,
			steps: []step{heard(3), read(12, 23)}},
		{name: "a quick read is not", leases: false, until: 60,
			steps: []step{heard(0), read(12, 13)}},
		{name: "overlapping silences count once", leases: true, nodes: []string{"n1"}, until: 60, want: 30 * time.Second,
			// The kubelet is silent 0 to 30, the API server 0 to 30 as well.
			steps: []step{renew("n1", 0, 0), read(5, 25), renew("n1", 30, 30)}},
		{name: "a relist repeats a renewal: no silence", leases: true, nodes: []string{"n1"}, until: 40,
			steps: []step{renew("n1", 0, 0), renew("n1", 10, 10), heard(20), renew("n1", 10, 24), renew("n1", 20, 24)}},
		{name: "silences before the window do not count", leases: true, nodes: []string{"n1"}, until: 60, want: 5 * time.Second,
			steps: []step{renew("n1", 0, 0), renew("n1", 35, 35), renew("n1", 45, 45)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newView(t0)
			v.leases = tt.leases
			for _, s := range tt.steps {
				s(v)
			}
			since := t0
			if strings.HasPrefix(tt.name, "silences before") {
				since = at(30)
			}
			if got := v.silent(tt.nodes, since, at(tt.until)); got != tt.want {
				t.Errorf("silent = %s, want %s (silences %+v)", got, tt.want, v.silences)
			}
			if eff, want := v.effective(tt.nodes, since, at(tt.until)), at(tt.until).Add(-tt.want); !eff.Equal(want) {
				t.Errorf("effective = %s, want %s", eff, want)
			}
		})
	}
}

// TestViewQuiet: a silence still going on is told before it ends, by who was not heard.
func TestViewQuiet(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name    string
		leases  bool
		renewed map[string]int // node → when last seen renewing
		heard   int
		nodes   []string
		now     int
		want    string
	}{
		{name: "all heard", leases: true, renewed: map[string]int{"n1": 10}, heard: 10, nodes: []string{"n1"}, now: 20},
		{name: "API server quiet", leases: true, renewed: map[string]int{"n1": 2}, heard: 2, nodes: []string{"n1"}, now: 20, want: "the API server nor from the kubelet of node n1"},
		{name: "API server quiet, other nodes", leases: true, renewed: map[string]int{"n1": 2}, heard: 2, nodes: []string{"n2"}, now: 20, want: "the API server"},
		{name: "kubelet quiet", leases: true, renewed: map[string]int{"n1": 2, "n2": 18}, heard: 19, nodes: []string{"n1"}, now: 20, want: "the kubelet of node n1"},
		{name: "another node's kubelet quiet", leases: true, renewed: map[string]int{"n1": 2, "n2": 18}, heard: 19, nodes: []string{"n2"}, now: 20},
		{name: "without leases only reads tell", leases: false, heard: 0, now: 60},
		{name: "a node without a Lease is not waited for", leases: true, renewed: map[string]int{"n1": 18}, heard: 19, nodes: []string{"virtual"}, now: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newView(t0)
			v.leases = tt.leases
			for n, s := range tt.renewed {
				v.renewed(n, at(s), 40*time.Second, at(s))
			}
			v.heard(at(tt.heard))
			who, _ := v.quiet(tt.nodes, at(tt.now))
			if who != tt.want {
				t.Errorf("quiet = %q, want %q", who, tt.want)
			}
		})
	}
}

// TestViewNotes: the report says who was silent, when and for how long, and what was not checked.
func TestViewNotes(t *testing.T) {
	t.Parallel()
	v := newView(t0)
	v.leases = true
	v.renewed("n1", t0, 40*time.Second, t0)
	v.renewed("n1", t0.Add(23*time.Second), 40*time.Second, t0.Add(23*time.Second))
	notes := strings.Join(v.notes([]string{"n1", "n9"}, t0, t0.Add(time.Minute)), "\n")
	for _, want := range []string{"nothing heard from the kubelet of node n1", "(23s)", "no Lease in kube-node-lease", "node n9"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
	off := newView(t0)
	off.unchecked = "kubelet liveness not checked: the gate may not list Leases"
	if got := off.notes([]string{"n1"}, t0, t0.Add(time.Minute)); len(got) != 1 || !strings.Contains(got[0], "kubelet liveness not checked") {
		t.Errorf("notes without leases = %q, want the gap", got)
	}
}

// TestViewFrozenJustAfterRenewal: the soak ends at 20 s. A kubelet renews every 10 s until it is
// frozen at some moment, then never again. Whatever the moment (before the soak's end, just after a
// renewal, just before one, or after the end), the view confirms the node only once a renewal seen
// at or after the soak's end shows its kubelet alive then, and it names the silence once it has
// lasted a renew interval and a half. A renewal just before the end proves nothing about the end:
// a crash right after it would go unreported.
func TestViewFrozenJustAfterRenewal(t *testing.T) {
	t.Parallel()
	const lease, every = 40 * time.Second, 10 * time.Second
	soakEnd := t0.Add(20 * time.Second)
	nodes := []string{"n1"}
	for _, phase := range []time.Duration{0, 100 * time.Millisecond, 5 * time.Second, 9900 * time.Millisecond} {
		// The moment of the freeze sweeps 12 s before the soak's end to 3 s after it, by 100 ms.
		for frozen := soakEnd.Add(-12 * time.Second); !frozen.After(soakEnd.Add(3 * time.Second)); frozen = frozen.Add(100 * time.Millisecond) {
			v := newView(t0)
			v.leases = true
			var last time.Time // the last renewal before the freeze
			for r := t0.Add(phase - every); r.Before(frozen); r = r.Add(every) {
				v.renewed("n1", r, lease, r)
				v.heard(r)
				last = r
			}
			for now := soakEnd; now.Before(soakEnd.Add(40 * time.Second)); now = now.Add(250 * time.Millisecond) {
				unrenewed, _ := v.unrenewed(nodes, soakEnd)
				who, _ := v.quiet(nodes, now)
				aliveAtEnd := !last.Before(soakEnd)
				if confirmed := len(unrenewed) == 0 && who == ""; confirmed && !aliveAtEnd {
					t.Fatalf("phase %s, frozen at +%s: confirmed at +%s on a renewal at +%s, before the soak's end",
						phase, frozen.Sub(t0), now.Sub(t0), last.Sub(t0))
				}
				if !aliveAtEnd && len(unrenewed) != 1 {
					t.Fatalf("phase %s, frozen at +%s: unrenewed = %v at +%s, want n1", phase, frozen.Sub(t0), unrenewed, now.Sub(t0))
				}
				if silent := now.Sub(last) > every*3/2; silent != strings.Contains(who, "the kubelet of node n1") {
					t.Fatalf("phase %s, frozen at +%s: quiet = %q at +%s, %s after the last renewal", phase, frozen.Sub(t0), who, now.Sub(t0), now.Sub(last))
				}
			}
		}
	}
}

// TestViewUnreported: a node is confirmed once its kubelet renewed its Lease, on its own clock, at
// or after the time due for it; a node without a Lease, or a view without Leases, goes by the
// gate's clock.
func TestViewUnreported(t *testing.T) {
	t.Parallel()
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		name     string
		leases   bool
		renewed  map[string]float64 // node → renewTime; seen at the same moment
		due      map[string]float64
		now      float64
		want     string
		wantNext float64
	}{
		{name: "renewed at the time due", leases: true, renewed: map[string]float64{"n1": 9}, due: map[string]float64{"n1": 9}, now: 9},
		{name: "renewed after it", leases: true, renewed: map[string]float64{"n1": 12}, due: map[string]float64{"n1": 9}, now: 12},
		{name: "renewed just before it", leases: true, renewed: map[string]float64{"n1": 8.9}, due: map[string]float64{"n1": 9}, now: 10,
			want: "n1", wantNext: 25},
		{name: "one node of two", leases: true, renewed: map[string]float64{"n1": 9, "n2": 3}, due: map[string]float64{"n1": 9, "n2": 9}, now: 10,
			want: "n2", wantNext: 25},
		{name: "nothing due", leases: true, renewed: map[string]float64{"n1": 0}, now: 1},
		{name: "a node without a Lease: the gate's clock, not yet", leases: true, renewed: map[string]float64{"n1": 9},
			due: map[string]float64{"virtual": 9}, now: 8, want: "virtual", wantNext: 9},
		{name: "a node without a Lease: the gate's clock, passed", leases: true, due: map[string]float64{"virtual": 9}, now: 9},
		{name: "Leases not watched: the gate's clock", leases: false, due: map[string]float64{"n1": 9}, now: 5, want: "n1", wantNext: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newView(t0)
			v.leases = tt.leases
			for n, s := range tt.renewed {
				v.renewed(n, at(s), 40*time.Second, at(s))
			}
			due := map[string]time.Time{}
			for n, s := range tt.due {
				due[n] = at(s)
			}
			names, next := v.unreported(due, at(tt.now))
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("unreported = %q, want %q", got, tt.want)
			}
			if tt.want != "" && !next.Equal(at(tt.wantNext)) {
				t.Errorf("next look at +%s, want +%gs", next.Sub(t0), tt.wantNext)
			}
		})
	}
}
