package report

import (
	"strings"
	"testing"
)

// A value that a line cut would split is masked whole first, then the line is cut (moved here
// from package diagnose with the cut itself: the boundary masks, then cuts).
func TestRedactMasksBeforeCutting(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value-that-straddles"
	mask := func(s string) string { return strings.ReplaceAll(s, secret, "[secret TOKEN redacted]") }
	line := strings.Repeat("x", MaxLineLen-10) + secret + strings.Repeat("y", 50)
	w := Workload{Findings: []Finding{{Logs: &LogExcerpt{Lines: []string{line}}, Evidence: []string{"api log: " + line}}}}
	Redact(&w, mask)
	for _, got := range append(w.Findings[0].Logs.Lines, w.Findings[0].Evidence...) {
		if strings.Contains(got, "s3cr3t") || len(got) > MaxLineLen+len("…") || !strings.HasSuffix(got, "…") {
			t.Errorf("line after Redact (%d bytes) shows part of the value or is not cut: …%s", len(got), got[len(got)-40:])
		}
	}
	w = Workload{Findings: []Finding{{Evidence: []string{strings.Repeat("é", MaxLineLen)}}}}
	Redact(&w, nil)
	if got := w.Findings[0].Evidence[0]; !strings.HasSuffix(got, "é…") || len(got) > MaxLineLen+len("…") {
		t.Errorf("a cut without a masker: %d bytes, ends %q", len(got), got[len(got)-8:])
	}
}

// TestOverall is the aggregation rule as Overall's doc states it.
func TestOverall(t *testing.T) {
	t.Parallel()
	ws := func(vs ...Verdict) []Workload {
		var out []Workload
		for _, v := range vs {
			out = append(out, Workload{Verdict: v})
		}
		return out
	}
	for _, tt := range []struct {
		in   []Workload
		want Verdict
	}{
		{ws(VerdictHealthy, VerdictHealthy), VerdictHealthy},
		{ws(VerdictHealthy, VerdictSkipped), VerdictHealthy},
		{ws(VerdictError, VerdictTimeout, VerdictFailed, VerdictInterrupted), VerdictFailed},
		{ws(VerdictError, VerdictTimeout, VerdictHealthy), VerdictTimeout},
		{ws(VerdictHealthy, VerdictError), VerdictError},
		{ws(VerdictSkipped, VerdictSkipped), VerdictError},
		{nil, VerdictError},
	} {
		if got := Overall(tt.in); got != tt.want {
			t.Errorf("Overall(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
