package helmrelease

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// revs builds a history from "1:superseded 2:deployed"-like pairs.
func revs(t *testing.T, spec string) []Revision {
	t.Helper()
	var out []Revision
	for _, f := range strings.Fields(spec) {
		v, s, _ := strings.Cut(f, ":")
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("history %q: %v", spec, err)
		}
		out = append(out, Revision{Version: n, Status: s})
	}
	return out
}

// TestPlanRollback pins which revision the gate rolls a release back to, and every refusal, with
// the words that say what to do. Nothing here may change the cluster: a refusal is decided
// before anything is run.
func TestPlanRollback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		history        string
		judged, newest int
		wantFrom       int
		wantTo         int
		wantSkips      []int
		wantFirst      bool
		wantErr        []string // substrings of the refusal; empty: a plan
	}{
		{name: "broken upgrade helm did not wait for", history: "1:superseded 2:deployed", judged: 2, newest: 2, wantFrom: 2, wantTo: 1},
		{name: "upgrade helm's own wait failed: the old one is still deployed", history: "1:deployed 2:failed", judged: 1, newest: 2,
			wantErr: []string{"the revision to roll back to, 1, is the one the gate judged failing", "helm rollback shop REVISION -n prod"}},
		{name: "upgrade helm's own wait failed, gated as the failed one", history: "1:deployed 2:failed", judged: 2, newest: 2, wantFrom: 2, wantTo: 1},
		{name: "after an earlier rollback", history: "1:superseded 2:superseded 3:superseded 4:deployed", judged: 4, newest: 4, wantFrom: 4, wantTo: 3},
		{name: "failed revisions in between are passed over", history: "1:superseded 2:failed 3:failed 4:deployed", judged: 4, newest: 4,
			wantFrom: 4, wantTo: 1, wantSkips: []int{2, 3}},
		{name: "history trimmed by --history-max", history: "7:superseded 8:deployed", judged: 8, newest: 8, wantFrom: 8, wantTo: 7},
		{name: "first install", history: "1:deployed", judged: 1, newest: 1, wantFirst: true,
			wantErr: []string{"first install", "only revision 1", "nothing to roll back to", "helm uninstall shop -n prod"}},
		{name: "first install failed", history: "1:failed", judged: 1, newest: 1, wantFirst: true, wantErr: []string{"first install"}},
		{name: "nothing before was ever deployed", history: "1:failed 2:failed 3:deployed", judged: 3, newest: 3,
			wantErr: []string{"no revision before 3 was ever deployed (1 failed, 2 failed)", "helm history shop -n prod"}},
		{name: "another helm is upgrading", history: "1:superseded 2:deployed 3:pending-upgrade", judged: 3, newest: 3,
			wantErr: []string{"revision 3 is pending-upgrade", "another helm operation is running", "helm rollback shop 2 -n prod"}},
		{name: "a rollback is running", history: "1:superseded 2:deployed 3:pending-rollback", judged: 3, newest: 3,
			wantErr: []string{"revision 3 is pending-rollback"}},
		{name: "pending install", history: "1:pending-install", judged: 1, newest: 1,
			wantErr: []string{"revision 1 is pending-install", "`helm rollback shop -n prod`"}},
		{name: "another helm ran since the gate read it", history: "1:superseded 2:superseded 3:deployed", judged: 2, newest: 2,
			wantErr: []string{"changed while the gate watched it", "newest revision is now 3 (deployed), not 2"}},
		{name: "uninstalled since", history: "1:superseded 2:uninstalled", judged: 2, newest: 2,
			wantErr: []string{"revision 2 is uninstalled, not deployed or failed"}},
		{name: "no revision left", history: "", judged: 2, newest: 2, wantErr: []string{"no stored revision any more"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := PlanRollback("shop", "prod", tc.judged, tc.newest, revs(t, tc.history))
			if len(tc.wantErr) > 0 {
				var r *Refusal
				if !errors.As(err, &r) {
					t.Fatalf("plan %+v, err %v; want a refusal", p, err)
				}
				if r.FirstInstall != tc.wantFirst {
					t.Errorf("FirstInstall %v, want %v", r.FirstInstall, tc.wantFirst)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(r.Message, w) {
						t.Errorf("refusal %q does not say %q", r.Message, w)
					}
				}
				if !strings.Contains(r.Message, "nothing was") {
					t.Errorf("refusal %q does not say that nothing changed", r.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if p.From != tc.wantFrom || p.To != tc.wantTo || p.Next != tc.wantFrom+1 || !slices.Equal(p.SkipsFailed, tc.wantSkips) {
				t.Errorf("plan from %d to %d (next %d, skips %v), want from %d to %d (next %d, skips %v)",
					p.From, p.To, p.Next, p.SkipsFailed, tc.wantFrom, tc.wantTo, tc.wantFrom+1, tc.wantSkips)
			}
			if want := "helm rollback shop " + itoa(tc.wantTo) + " -n prod"; p.Command() != want {
				t.Errorf("command %q, want %q", p.Command(), want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
