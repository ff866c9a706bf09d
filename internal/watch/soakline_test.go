package watch

import (
	"strings"
	"testing"
	"time"
)

// TestSoakLineSaysWhenTheSoakEnds: the judge's clock stands still during a silence, so the soak
// ends later on the gate's clock by the silence. The progress line must say that later time, the
// one a person watching the log will see the soak end, not the judge's own (30 s in the past here).
func TestSoakLineSaysWhenTheSoakEnds(t *testing.T) {
	t.Parallel()
	clk := &offsetClock{}
	c, _, l := soakedRollout(clk.now())
	out, progress := soakInBackground(t, c, clk, 5*time.Second, "deployment/api: 1/1 updated, 1/1 available; soak done, waiting for the kubelet of node n1 to renew its Lease")
	clk.jump(30 * time.Second)
	renewLease(t, c, l, clk.now())
	const prefix = "deployment/api: 1/1 updated, 1/1 available; complete, soaking until "
	line := waitLineText(t, progress.lines, prefix)
	now := clk.now()
	until, err := time.Parse("15:04:05", strings.Fields(strings.TrimPrefix(line, prefix))[0])
	if err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	// The line has the time of day only: compare it with now's, around the clock.
	ahead := (until.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)) - now.UTC().Sub(now.UTC().Truncate(24*time.Hour)) + 36*time.Hour) % (24 * time.Hour)
	ahead -= 12 * time.Hour
	if ahead < -2*time.Second || ahead > 3*time.Second {
		t.Errorf("line %q says the soak ends %s from now (%s); it ends within a second or two of now on the gate's clock",
			line, ahead, now.UTC().Format("15:04:05"))
	}
	renewLease(t, c, l, clk.now().Add(2*time.Second))
	<-out
}

// waitLineText is waitLine, returning the line.
func waitLineText(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no progress line starting %q", prefix)
		}
	}
}
