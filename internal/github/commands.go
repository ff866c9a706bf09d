package github

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	githubactions "github.com/sethvargo/go-githubactions"
)

// command writes one workflow command (::name props::message) to w. go-githubactions does the
// escaping (%25 %0D %0A in the message; also %3A %2C in properties); we write it ourselves so a
// failing writer is an error, not a panic.
func command(w io.Writer, name string, props map[string]string, msg string) error {
	safe := make(map[string]string, len(props))
	for k, v := range props {
		safe[k] = neutralizeV1(v)
	}
	c := githubactions.Command{Name: name, Message: neutralizeV1(msg), Properties: safe}
	_, err := fmt.Fprintln(w, c.String())
	return err
}

// zwsp is the zero-width space put inside command markers: invisible, and not white space to the
// runner, which trims lines before it looks for "::".
const zwsp = "\u200b"

// Neutralize keeps text from being read by the runner as a workflow command: "::" at the start of
// a line (after white space) and "##[" anywhere get a zero-width space inside them. The runner
// reads commands from stdout and stderr alike, line by line.
func Neutralize(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		line := s
		i := strings.IndexAny(s, "\r\n")
		if i >= 0 {
			line, s = s[:i+1], s[i+1:]
		} else {
			s = ""
		}
		body := strings.TrimLeftFunc(line, unicode.IsSpace)
		if strings.HasPrefix(body, "::") {
			line = line[:len(line)-len(body)] + ":" + zwsp + body[1:]
		}
		b.WriteString(neutralizeV1(line))
	}
	return b.String()
}

// neutralizeV1 breaks the old "##[command]" form, which the runner finds anywhere in a line.
func neutralizeV1(s string) string { return strings.ReplaceAll(s, "##[", "##"+zwsp+"[") }

// NeutralWriter passes whole lines through Neutralize. Call Flush at the end for a last line
// without a newline.
type NeutralWriter struct {
	W   io.Writer
	buf []byte
}

// Write buffers p and writes every complete line, neutralised.
func (n *NeutralWriter) Write(p []byte) (int, error) {
	n.buf = append(n.buf, p...)
	i := bytes.LastIndexAny(n.buf, "\r\n")
	if i < 0 {
		return len(p), nil
	}
	out := Neutralize(string(n.buf[:i+1]))
	n.buf = append(n.buf[:0], n.buf[i+1:]...)
	if _, err := io.WriteString(n.W, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is left of a last unterminated line.
func (n *NeutralWriter) Flush() error {
	if len(n.buf) == 0 {
		return nil
	}
	out := Neutralize(string(n.buf))
	n.buf = n.buf[:0]
	_, err := io.WriteString(n.W, out)
	return err
}

// StopCommands runs fn with w between ::stop-commands::TOKEN and ::TOKEN::, with a random token,
// so that nothing fn writes (a text report with pod logs in it) is read by the runner as a
// workflow command. The closing line always starts on a line of its own.
func StopCommands(w io.Writer, fn func(io.Writer) error) error {
	token := rand.Text()
	if _, err := fmt.Fprintf(w, "::stop-commands::%s\n", token); err != nil {
		return fmt.Errorf("write ::stop-commands::: %w", err)
	}
	lw := &lastByte{w: w}
	ferr := fn(lw)
	end := "::" + token + "::\n"
	if lw.last != '\n' && lw.last != 0 {
		end = "\n" + end
	}
	if _, err := io.WriteString(w, end); err != nil && ferr == nil {
		return fmt.Errorf("write the end of ::stop-commands::: %w", err)
	}
	return ferr
}

type lastByte struct {
	w    io.Writer
	last byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if n > 0 {
		l.last = p[n-1]
	}
	return n, err
}

// appendFile appends s to the file GitHub named in an environment variable.
func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// outputs encodes name/value pairs for GITHUB_OUTPUT in the multi-line form, each with a fresh
// random delimiter that does not occur in its value, as actions/toolkit does. go-githubactions'
// SetOutput uses one fixed delimiter, which a value could contain and so inject outputs.
func outputs(kv [][2]string) string {
	var b strings.Builder
	for _, p := range kv {
		delim := "ghadelimiter_" + rand.Text()
		for strings.Contains(p[1], delim) {
			delim = "ghadelimiter_" + rand.Text()
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", p[0], delim, p[1], delim)
	}
	return b.String()
}
