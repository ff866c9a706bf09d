package report

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestNoLinkForCmarkGFM renders the hostile reports and asks cmark-gfm, the renderer GitHub's is
// built on, with its autolink extension, whether any text became a link: the oracle itself, not a
// copy of its rule (liveAutolink is that copy, for the fuzzer). Skipped only where the binary is
// absent; .ci/run installs Debian's cmark-gfm.
func TestNoLinkForCmarkGFM(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("cmark-gfm")
	if err != nil {
		t.Skip("cmark-gfm is not installed (apt-get install cmark-gfm)")
	}
	for _, s := range append(hostile, "www.evil.example", "(https://evil.example)", "*www.evil.example*", "~~https://evil.example~~") {
		r := hostileReport(s)
		r.Verdict = VerdictFailed
		md := Markdown(r, MarkdownOptions{Limit: CommentLimit, Marker: goldenMarker})
		cmd := exec.Command(bin, "-e", "autolink", "-e", "table", "-e", "strikethrough")
		cmd.Stdin = strings.NewReader(md)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("cmark-gfm: %v", err)
		}
		if i := strings.Index(out.String(), "<a href"); i >= 0 {
			t.Errorf("input %q: cmark-gfm made a link: %s", s, out.String()[i:min(i+120, out.Len())])
		}
	}
}
