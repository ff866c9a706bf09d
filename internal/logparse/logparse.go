// Package logparse reads application logs the way an engineer would: the line that rejects a
// variable, the dependency a connection failed to, the crash signature, what the app says before it
// exits, when it started listening. It is pure: lines in, indexes and names out, no Kubernetes.
package logparse

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Log reading is heuristic by nature: each matcher looks for the line an engineer would point at
// and returns its index, so the finding can quote it as evidence.

var (
	configWords = regexp.MustCompile(`(?i)\b(invalid|not set|unset|missing|required|must be|must set|expected|cannot parse|could not parse|failed to parse|unable to parse|parse error|not a valid|bad value|keyerror|undefined|is empty|no value|not defined|unsupported value|out of range)\b`)
	snakeIdent  = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`)
	anyIdent    = regexp.MustCompile(`\b[A-Za-z_][A-Za-z0-9_]*\b`)
)

// quotedString is compiled on first use: its bounded repetitions cost a millisecond, at every
// start otherwise, and only a config error's logs need it.
var quotedString = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"([^"]{1,200})"|'([^']{1,200})'`) })

// ConfigProblem finds a log line that rejects a configuration variable. env maps the container's
// variable names to their literal template values ("" when they come from elsewhere).
func ConfigProblem(lines []string, env map[string]string) (name string, idx int, ok bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if !configWords.MatchString(l) {
			continue
		}
		// A declared variable named on the line wins; then any SNAKE_CASE name.
		for _, id := range anyIdent.FindAllString(l, -1) {
			if _, declared := env[id]; declared && isEnvName(id) {
				return id, i, true
			}
		}
		if id := snakeIdent.FindString(l); id != "" && !notVarNames[id] {
			return id, i, true
		}
		// "strconv.Atoi: parsing "abc": invalid syntax": the value gives the variable away.
		for _, m := range quotedString().FindAllStringSubmatch(l, -1) {
			v := m[1] + m[2]
			for n, val := range env {
				if val != "" && len(val) >= 2 && v == val {
					return n, i, true
				}
			}
		}
	}
	return "", -1, false
}

// isEnvName rejects words that are also log levels or protocol words.
func isEnvName(s string) bool {
	if notVarNames[s] || len(s) < 2 {
		return false
	}
	return strings.ToUpper(s) == s || strings.Contains(s, "_")
}

var notVarNames = map[string]bool{
	"FATAL": true, "ERROR": true, "WARN": true, "WARNING": true, "INFO": true, "DEBUG": true, "PANIC": true,
	"TRACE": true, "HTTP": true, "HTTPS": true, "GET": true, "POST": true, "TCP": true, "UDP": true, "DNS": true,
	"SQL": true, "JSON": true, "YAML": true, "URL": true, "OK": true, "SIGTERM": true, "SIGKILL": true, "EOF": true,
	"UTC": true, "CRITICAL": true,
}

// DialError is a failed connection to a dependency found in a log.
type DialError struct {
	Host string // DNS name or IP as logged
	Port string
	IP   string // an address logged next to the name, if any
	Kind string // "connection refused", "no such host", "i/o timeout", "no route to host"
	Line int    // the error line
	// HostLine is the line that names the host, when it is not the error line (-1 otherwise).
	HostLine int
}

var (
	dialKinds = []struct {
		re   *regexp.Regexp
		kind string
	}{
		{regexp.MustCompile(`(?i)connection refused|econnrefused|errno 111|error 111`), "connection refused"},
		{regexp.MustCompile(`(?i)no such host|name or service not known|could not translate host name|enotfound|eai_again|unknownhostexception|temporary failure in name resolution|nodename nor servname|bad address|name resolution|could not resolve host|unknown host`), "no such host"},
		{regexp.MustCompile(`(?i)no route to host|network is unreachable|ehostunreach|enetunreach`), "no route to host"},
		{regexp.MustCompile(`(?i)i/o timeout|etimedout|connection timed out|connect timed out|connect timeout|timeout expired|dial timeout`), "i/o timeout"},
	}
	hostPatterns = []*regexp.Regexp{
		regexp.MustCompile(`lookup ([A-Za-z0-9][A-Za-z0-9.\-]*)(?: on [0-9a-fA-F.:\[\]]+)?: `),
		regexp.MustCompile(`could not translate host name "(` + dnsNameRE + `)"`),
		regexp.MustCompile(`(?:ENOTFOUND|EAI_AGAIN) ([A-Za-z0-9][A-Za-z0-9.\-]*)`),
		regexp.MustCompile(`UnknownHostException: ([A-Za-z0-9][A-Za-z0-9.\-]*)`),
		regexp.MustCompile(`bad address '(` + dnsNameRE + `)'`),
		regexp.MustCompile(`[Cc]ould not resolve host:? ([A-Za-z0-9][A-Za-z0-9.\-]*)`),
		regexp.MustCompile(`on host "(` + dnsNameRE + `|[0-9a-fA-F:.]+)"`),
	}
	hostPort   = regexp.MustCompile(`(?:^|[\s@/(\["'=,])((?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\]):(\d{2,5})\b`)
	portWord   = regexp.MustCompile(`(?i)\bport (\d{2,5})\b`)
	parenIP    = regexp.MustCompile(`\((\d{1,3}(?:\.\d{1,3}){3})\)`)
	dnsServer  = regexp.MustCompile(` on [0-9.]+:53\b`)
	timeClock  = regexp.MustCompile(`^\d{1,2}$`)
	ipv4Strict = regexp.MustCompile(`^\d{1,3}(?:\.\d{1,3}){3}$`)
)

// dnsNameRE is a host name as the patterns capture it: letters, digits, hyphens and dots. Every
// captured host is checked again by ValidHost before it is used.
const dnsNameRE = `[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.?`

// ValidHost reports whether h is an IP address or a DNS name (RFC 1123 labels of at most 63
// characters, at most 253 in all). Hosts come from logs a pull request controls and end up in
// fix commands, so anything else is left out.
func ValidHost(h string) bool {
	if IsIP(h) {
		return true
	}
	n := strings.TrimSuffix(h, ".")
	if n == "" || len(n) > 253 {
		return false
	}
	for _, label := range strings.Split(n, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// ValidPort reports whether p is a TCP port number.
func ValidPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535 && strconv.Itoa(n) == p
}

// DialErrors finds failed connections in a log, naming host and port from the error line or its
// neighbours (applications often log "connecting to postgres:5432" before the errno line).
func DialErrors(lines []string) []DialError {
	var out []DialError
	seen := map[string]bool{}
	for i, l := range lines {
		kind := ""
		for _, k := range dialKinds {
			if k.re.MatchString(l) {
				kind = k.kind
				break
			}
		}
		if kind == "" {
			continue
		}
		d := DialError{Kind: kind, Line: i, HostLine: -1}
		lo, hi := max(0, i-2), min(len(lines)-1, i+2)
		// Named hosts from explicit patterns, nearest line first.
		for _, j := range nearest(i, lo, hi) {
			for _, re := range hostPatterns {
				if m := re.FindStringSubmatch(lines[j]); m != nil && d.Host == "" {
					d.Host = m[1]
					if j != i {
						d.HostLine = j
					}
				}
			}
		}
		for _, j := range nearest(i, lo, hi) {
			text := dnsServer.ReplaceAllString(lines[j], "")
			for _, m := range hostPort.FindAllStringSubmatch(text, -1) {
				h, p := strings.Trim(m[1], "[]"), m[2]
				if timeClock.MatchString(h) || strings.EqualFold(h, "tcp") || strings.EqualFold(h, "udp") {
					continue
				}
				if IsIP(h) {
					if d.IP == "" {
						d.IP = h
					}
					if d.Port == "" {
						d.Port = p
					}
					continue
				}
				if !strings.ContainsAny(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
					continue
				}
				if d.Host == "" || d.Host == h {
					if d.Host == "" && j != i {
						d.HostLine = j
					}
					d.Host, d.Port = h, p
				}
			}
			if m := parenIP.FindStringSubmatch(lines[j]); m != nil && d.IP == "" {
				d.IP = m[1]
			}
			if d.Port == "" {
				if m := portWord.FindStringSubmatch(lines[j]); m != nil {
					d.Port = m[1]
				}
			}
		}
		if d.IP != "" && !IsIP(d.IP) {
			d.IP = ""
		}
		if d.Host != "" && !ValidHost(d.Host) {
			d.Host, d.HostLine = "", -1
		}
		if d.Port != "" && !ValidPort(d.Port) {
			d.Port = ""
		}
		if d.Host == "" {
			d.Host = d.IP
		}
		if d.Host == "" {
			continue
		}
		key := d.Host + ":" + d.Port + "/" + d.Kind
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	return out
}

// nearest lists indexes lo..hi ordered by distance from i (i first).
func nearest(i, lo, hi int) []int {
	out := []int{i}
	for d := 1; i-d >= lo || i+d <= hi; d++ {
		if i-d >= lo {
			out = append(out, i-d)
		}
		if i+d <= hi {
			out = append(out, i+d)
		}
	}
	return out
}

func IsIP(s string) bool {
	if ipv4Strict.MatchString(s) {
		return net.ParseIP(s) != nil
	}
	return strings.Contains(s, ":") && net.ParseIP(s) != nil
}

// crash signatures: the line that tells why an application died.
type Signature struct {
	Kind string // short name: "Python exception", "missing shared library", "Go panic", ...
	Line int
}

var (
	pyErrorLine  = regexp.MustCompile(`^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|KeyError|StopIteration)\b:?`)
	crashMarkers = []struct {
		re   *regexp.Regexp
		kind string
	}{
		{regexp.MustCompile(`error while loading shared libraries`), "missing shared library"},
		{regexp.MustCompile(`\bModuleNotFoundError\b|\bImportError\b`), "missing Python module"},
		{regexp.MustCompile(`^panic: |^\s*panic: `), "Go panic"},
		{regexp.MustCompile(`^fatal error: `), "Go runtime fatal error"},
		{regexp.MustCompile(`exec format error`), "binary built for another CPU architecture"},
		{regexp.MustCompile(`executable file not found|exec: .*: no such file or directory|: not found$|command not found`), "entrypoint not found"},
		{regexp.MustCompile(`(?i)permission denied`), "permission denied"},
		{regexp.MustCompile(`(?i)segmentation fault|SIGSEGV`), "segmentation fault"},
		{regexp.MustCompile(`Exception in thread "[^"]*" ?`), "Java exception"},
		{regexp.MustCompile(`Error: Cannot find module|ERR_MODULE_NOT_FOUND`), "missing Node.js module"},
		{regexp.MustCompile(`^(?:Uncaught )?(?:SyntaxError|ReferenceError|TypeError|RangeError): `), "JavaScript error"},
		{regexp.MustCompile(`Unhandled exception\.|UnhandledPromiseRejection`), "unhandled exception"},
		{regexp.MustCompile(`(?i)^\s*(?:FATAL|CRITICAL|PANIC)\b`), "fatal error"},
	}
	errorish = regexp.MustCompile(`(?i)\b(error|fatal|exception|failed|failure|panic|critical|cannot|could not|unable to)\b`)
)

// SignatureOf finds why an application crashed, preferring the most specific signature.
func SignatureOf(lines []string) (Signature, bool) {
	for i, l := range lines {
		if strings.Contains(l, "Traceback (most recent call last)") {
			// The exception line ends the traceback.
			for j := len(lines) - 1; j > i; j-- {
				if pyErrorLine.MatchString(lines[j]) {
					kind := "Python exception"
					if strings.Contains(lines[j], "ModuleNotFoundError") || strings.Contains(lines[j], "ImportError") {
						kind = "missing Python module"
					}
					return Signature{Kind: kind, Line: j}, true
				}
			}
			return Signature{Kind: "Python exception", Line: i}, true
		}
	}
	for _, m := range crashMarkers {
		for i := len(lines) - 1; i >= 0; i-- {
			if m.re.MatchString(lines[i]) {
				if m.kind == "Go panic" || m.kind == "Go runtime fatal error" {
					// the first panic line names it; later ones are goroutine dumps
					for j := 0; j <= i; j++ {
						if m.re.MatchString(lines[j]) {
							return Signature{Kind: m.kind, Line: j}, true
						}
					}
				}
				return Signature{Kind: m.kind, Line: i}, true
			}
		}
	}
	return Signature{}, false
}

var strongError = regexp.MustCompile(`(?i)^\W*(error|fatal|panic|exception|critical)\b|\b(ERROR|FATAL|PANIC|CRITICAL)\b`)

// KeyErrorLine returns the first line that is plainly an error (ERROR:, FATAL, ...), else the
// last line that reads like one, else -1: the first error usually names the cause, later lines
// tend to say "exiting".
func KeyErrorLine(lines []string) int {
	for i, l := range lines {
		if strongError.MatchString(l) {
			return i
		}
	}
	return lastErrorLine(lines)
}

// lastErrorLine returns the last line that reads like an error, or -1.
func lastErrorLine(lines []string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if errorish.MatchString(lines[i]) {
			return i
		}
	}
	return -1
}

var (
	startupAfter = regexp.MustCompile(`(?i)\b(?:listening|started|ready|serving|up|startup took|start-up took|initiali[sz]ed)\b.*?\b(?:after|in|took)\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?)\b`)
	listening    = regexp.MustCompile(`(?i)\b(?:listening|serving|bound|started server|server started|accepting connections)\b`)
	listenPort   = regexp.MustCompile(`(?i)\b(?:listening|serving|bound|binding|started server|server started|accepting connections)\b[^\n]*?(?:\bport\s+|:)(\d{2,5})\b`)
)

// StartupTime finds a log line that states how long start-up took ("listening on :8080 after 22s").
func StartupTime(lines []string) (time.Duration, int, bool) {
	for i, l := range lines {
		m := startupAfter.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		unit := time.Second
		switch u := strings.ToLower(m[2]); {
		case strings.HasPrefix(u, "ms") || strings.HasPrefix(u, "milli"):
			unit = time.Millisecond
		case strings.HasPrefix(u, "m"):
			unit = time.Minute
		}
		return time.Duration(v * float64(unit)), i, true
	}
	return 0, -1, false
}

// ListenLine finds the line where the app says it is listening, and the port if named.
func ListenLine(lines []string) (idx int, port string) {
	for i, l := range lines {
		if listening.MatchString(l) {
			if m := listenPort.FindStringSubmatch(l); m != nil {
				return i, m[1]
			}
			return i, ""
		}
	}
	return -1, ""
}

// HasSnakeCase reports whether s holds a SNAKE_CASE name, the usual shape of a variable.
func HasSnakeCase(s string) bool { return snakeIdent.MatchString(s) }
