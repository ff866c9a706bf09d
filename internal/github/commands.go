package github

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"

	githubactions "github.com/sethvargo/go-githubactions"
)

// command writes one workflow command (::name props::message) to w. go-githubactions does the
// escaping (%25 %0D %0A in the message; also %3A %2C in properties); we write it ourselves so a
// failing writer is an error, not a panic.
func command(w io.Writer, name string, props map[string]string, msg string) error {
	c := githubactions.Command{Name: name, Message: msg, Properties: props}
	_, err := fmt.Fprintln(w, c.String())
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
