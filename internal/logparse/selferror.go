package logparse

import (
	"regexp"
	"strings"
)

// An application that exits on its own usually says why in its last lines: "FATAL: ...",
// "error: ...", an exception, or "worker pool exhausted, exiting". That line is the diagnosis an
// engineer would quote, so it is looked for only near the end of the log, and words that merely
// count errors ("0 errors", "failed=0") are not taken for one.

// Message lines (stack frames and blank lines skipped) examined from the end of a log: explicit
// statements within the wider window, plain error words only within the narrower one.
const (
	selfReportWindow     = 8
	selfReportWeakWindow = 3
)

// How plainly a line states an error.
const (
	notAnError    = iota
	errorWords    // "cannot open /data/db", a bare "exiting"
	ExitsItself   // "worker pool exhausted, exiting"
	explicitError // ERROR/FATAL level, "error:" prefix, an exception
)

var (
	// Lines of a stack trace: Java "\tat", Python "  File" and its code lines, Go goroutine
	// headers and frames, Node "    at".
	frameLine = regexp.MustCompile(`^\t|^\s{2,}(?:at |File "|\.\.\. \d+ more)|^\s{4,}|^goroutine \d+ \[|^created by |^[\w./-]+(?:\.\(\*?\w+\))?\.\w+\(.*\)$`)
	// A level below error: such lines state no error, only perhaps that the app exits.
	lowLevel = regexp.MustCompile(`^\W{0,3}(?:[\d/:.,TZ+\-]+\s+){0,2}\[?(?:INFO|DEBUG|TRACE|WARN|WARNING|NOTICE|[IW]\d{4})\b|\blevel[=:]\s*"?(?i:info|debug|trace|warn|warning)\b|"(?:level|severity)"\s*:\s*"(?i:info|debug|trace|warn|warning)"`)
	// An error level, an "error:" prefix, or an exception class.
	explicitErrorLine = regexp.MustCompile(`\b(?:ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|SEVERE|EMERG|ALERT)\b|\[(?i:error|crit|alert|emerg|fatal)\]|^[EF]\d{4} \d\d:\d\d:\d\d|\blevel[=:]\s*"?(?i:error|fatal|critical|panic)\b|"(?:level|severity)"\s*:\s*"(?i:error|fatal|critical|panic)"|(?:^|[\s\]:])(?i:error|fatal|panic)(?:\[[^\]]*\])?\s*:\s|\b[A-Z]\w*(?:Exception|Error)\b(?::|$)`)
	// The app says it stops.
	exitPhrase = regexp.MustCompile(`(?i)\b(?:exiting|aborting|aborted|giving up|gave up|cannot continue|can't continue|bailing out|will exit|shutting down due to)\b`)
	// Words of an error, in a line with no explicit level.
	errorWord = regexp.MustCompile(`(?i)\b(?:errors?|fatal|failed|failure|cannot|can't|could not|couldn't|unable to|panic|exception|refused|denied|invalid|not found|no such|exhausted|timed out|out of memory|corrupt(?:ed)?|unavailable|unreachable)\b`)
	// Mentions that count errors rather than state one: "0 errors", "no failures", "failed=0".
	zeroCount = regexp.MustCompile(`(?i)\b(?:0|no|zero|without(?: any)?)\s+(?:errors?|failures?|failed|exceptions?|problems?)\b|\b(?:errors?|failures?|failed|exceptions?)\s*[:=]\s*(?:0|none|nil|null)\b|\berror[_ ]?(?:count|rate)\s*[:=]\s*0\b`)
)

// SelfReportedError returns the index of the line among the last lines of a log that states
// why the app stopped, and how plainly it does (one of the levels above); -1 when none does.
// The most explicit line wins; among equals the earliest, which names the cause rather than
// its consequences.
func SelfReportedError(lines []string) (idx, level int) {
	idx = -1
	seen := 0
	for i := len(lines) - 1; i >= 0 && seen < selfReportWindow; i-- {
		l := lines[i]
		if strings.TrimSpace(l) == "" || frameLine.MatchString(l) {
			continue
		}
		seen++
		lv := errorLevel(l)
		if lv == errorWords && seen > selfReportWeakWindow {
			lv = notAnError
		}
		if lv != notAnError && lv >= level {
			idx, level = i, lv
		}
	}
	return idx, level
}

// errorLevel says how plainly one line states an error.
func errorLevel(line string) int {
	l := zeroCount.ReplaceAllString(line, "")
	low := lowLevel.MatchString(l)
	if !low && explicitErrorLine.MatchString(l) {
		return explicitError
	}
	if loc := exitPhrase.FindStringIndex(l); loc != nil {
		rest := l[:loc[0]] + l[loc[1]:]
		if len(strings.FieldsFunc(rest, func(r rune) bool { return !isWordRune(r) })) >= 2 {
			return ExitsItself
		}
		return errorWords
	}
	if !low && errorWord.MatchString(l) {
		return errorWords
	}
	return notAnError
}

func isWordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}
