package report

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Everything in a Report that came from the cluster (names, messages, log lines, evidence, fix
// commands built from names) is untrusted: a pod can print anything. These helpers neutralise it
// for the place it lands, so that it can never close our code blocks, inject HTML, forge the sticky
// comment marker, ping people, or issue workflow commands.

const (
	zwsp = "\u200b"

	// maxCell and maxCode bound table cells and code lines; maxProse bounds sentences.
	maxCell  = 300
	maxCode  = 300
	maxProse = 600
)

// clean makes untrusted text safe in every context: valid UTF-8, no control characters except
// newline and tab, no bidirectional overrides (which can disguise text), no HTML comment
// delimiters (so the sticky marker cannot be forged, even inside code), and no legacy `##[`
// workflow commands, which the runner recognises anywhere in a line.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
			b.WriteByte('\n')
		case unicode.IsControl(r), isBidi(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	s = b.String()
	// Each replacement only inserts a zero-width space between the characters of a delimiter, so it
	// cannot create a new delimiter; a loop is still used so overlapping runs ("<!---->") all break.
	for _, d := range [][2]string{{"<!--", "<!-" + zwsp + "-"}, {"-->", "-" + zwsp + "->"}, {"##[", "##" + zwsp + "["}} {
		for strings.Contains(s, d[0]) {
			s = strings.ReplaceAll(s, d[0], d[1])
		}
	}
	return s
}

func isBidi(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

// flatten turns multi-line text into one line.
func flatten(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\n\t") {
		return s
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(strings.ReplaceAll(l, "\t", " ")); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ⏎ ")
}

// cut shortens s to at most n runes, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// oneLine is clean + flatten + cut: untrusted text as a single plain line (text output, headline).
// Only a prefix of a huge string is cleaned, since at most n runes of it are kept.
func oneLine(s string, n int) string {
	more := false
	if limit := 8*n + 64; len(s) > limit {
		for limit > 0 && !utf8.RuneStart(s[limit]) {
			limit--
		}
		s, more = s[:limit], true
	}
	out := cut(flatten(clean(s)), n)
	if more && !strings.HasSuffix(out, "…") {
		out += "…"
	}
	return out
}

// mdText renders untrusted text as inline Markdown: one line, Markdown punctuation escaped, no raw
// HTML (< > & become entities), no mention or issue reference that notifies anyone.
func mdText(s string, n int) string { return escape(oneLine(s, n), true) }

// mdPara is mdText for text that starts a line: unless it starts with a letter, a zero-width
// space goes first, so it cannot begin a heading, list, quote, setext underline, indented code or
// a "::" workflow command.
func mdPara(s string, n int) string {
	t := mdText(s, n)
	if t == "" {
		return t
	}
	r, _ := utf8.DecodeRuneInString(t)
	digits := strings.TrimLeft(t, "0123456789")
	if unicode.IsLetter(r) || (digits != t && !strings.HasPrefix(digits, ".") && !strings.HasPrefix(digits, ")")) {
		return t // a word, or a number that does not start an ordered list
	}
	return zwsp + t
}

// htmlText renders untrusted text inside an HTML block (a <summary>), where Markdown is not
// parsed and a backslash would show: the same, without Markdown escapes.
func htmlText(s string) string { return escape(oneLine(s, maxCell), false) }

func escape(s string, markdown bool) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	prev := rune(0)
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '@':
			b.WriteString("@" + zwsp)
		case !markdown && (r == '[' || r == ']'):
			fmt.Fprintf(&b, "&#%d;", r) // no link syntax, even for a renderer that reads Markdown in HTML
		case markdown && strings.ContainsRune("\\`*_[]|~${}", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if prev == '#' && unicode.IsDigit(r) {
				b.WriteString(zwsp) // "#12" would cross-reference issue 12
			}
			b.WriteRune(r)
		}
		prev = r
	}
	out := b.String()
	for _, a := range autolinks {
		out = a.re.ReplaceAllString(out, a.repl)
	}
	return out
}

// autolinks are the links GitHub makes of plain text in comments and summaries, broken by a
// zero-width space: bare URLs (http://, https://, ftp://, www.) and GH-12 issue references. No
// \b: RE2's word boundary is ASCII-only and counts _ and digits as word characters, while
// cmark-gfm, which GitHub's renderer is built on, links "1https://", "_https://" and "_www.". So
// every occurrence is broken, whatever precedes it: a superset of what GitHub would link.
// Mentions (@user) and #12 are handled character by character in escape; code spans and code
// blocks are never linked. Repository-configured autolink prefixes (JIRA-12) and bare commit
// hashes cannot be known here and stay as they are.
var autolinks = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)(https?|ftp):(/)`), "$1:" + zwsp + "$2"},
	{regexp.MustCompile(`(?i)(www)\.`), "$1" + zwsp + "."},
	{regexp.MustCompile(`(?i)\b(gh)-([0-9])`), "$1-" + zwsp + "$2"},
}

// mdName renders a Kubernetes-style name as inline code when it is plainly a name, and as escaped
// text otherwise; names never need a backtick or a pipe, so the code span is always safe.
func mdName(s string) string {
	if s == "" {
		return ""
	}
	if len(s) <= maxCell && isPlainName(s) {
		return "`" + s + "`"
	}
	return mdText(s, maxCell)
}

func isPlainName(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("._/:-", r):
		default:
			return false
		}
	}
	return true
}

// codeLines prepares untrusted lines for a fenced code block: cleaned, split on newlines, cut, and
// with any line that the runner would read as a workflow command ("::cmd::") defused.
func codeLines(in []string) []string {
	var out []string
	for _, l := range in {
		for _, part := range strings.Split(clean(l), "\n") {
			part = cut(part, maxCode)
			if strings.HasPrefix(strings.TrimLeft(part, " \t"), "::") {
				i := strings.Index(part, "::")
				part = part[:i] + zwsp + part[i:]
			}
			out = append(out, part)
		}
	}
	return out
}

// fenceFor returns a backtick fence longer than any backtick run in lines (and at least three),
// so that no line inside can close it.
func fenceFor(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for i := 0; i < len(l); i++ {
			if l[i] == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
