package github

import (
	"strings"
	"testing"
)

func TestNeutralize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"::error::x\n", ":\u200b:error::x\n"},
		{"  \t::set-output name=a::b", "  \t:\u200b:set-output name=a::b"},
		{"log ##[warning]x ##[error]y", "log ##\u200b[warning]x ##\u200b[error]y"},
		{"a::b\r::c", "a::b\r:\u200b:c"},
		{"plain text", "plain text"},
	}
	for _, tt := range tests {
		if got := Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Lines split across writes are neutralised as whole lines.
func TestNeutralWriter(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	w := &NeutralWriter{W: &b}
	for _, part := range []string{"ok\n:", ":error::x\nlog #", "#[warning]y\n", "::notice::z"} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "ok\n:\u200b:error::x\nlog ##\u200b[warning]y\n:\u200b:notice::z"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
