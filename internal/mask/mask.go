// Package mask replaces secret values in text by markers that name them. It is pure: the caller
// says which values and which variable names are secret; package diagnose reads them from the
// pods' Secrets.
package mask

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// The masking policy, applied at the report boundary to every string of a workload's report
// (which values are secret is the caller's part of it: see package diagnose's newMasker):
//
//   - Forms: the value as stored and with trailing white space trimmed (kubectl create secret
//     --from-file keeps the file's final newline, and a log prints the value without it); and
//     each of those base64-encoded (standard and URL-safe, padded and not), URL-encoded (query
//     and path escaping) and hex-encoded (lower and upper case). Multi-line values (keys,
//     certificates) also line by line, for lines of 8 characters or more.
//   - Length: forms of minMaskLen (4) characters or more are masked wherever they appear. A value
//     of 4 to 7 characters that is a trivially common word (true, admin, debug, ...) is not
//     masked by value: it would shred ordinary text and tells an attacker nothing. Values under
//     4 characters are never masked by value ("1", "no"). Both are still never printed as values:
//     the diagnosis names keys only, and NAME=value assignments of secret-fed variables are
//     masked by name whatever the value.
//   - Markers: a value becomes "[secret LABEL redacted]". Only the exact markers the masker
//     writes are left alone on a second pass; any other text starting with "[secret " is text.
const minMaskLen = 4

// shortValueLen: trimmed values shorter than this are checked against commonValues.
const shortValueLen = 8

// commonValues are short values not masked by value (see the policy above).
var commonValues = map[string]bool{
	"true": true, "false": true, "yes": true, "none": true, "null": true, "nil": true, "test": true, "admin": true,
	"root": true, "user": true, "guest": true, "default": true, "debug": true, "info": true, "warn": true, "error": true,
	"local": true, "prod": true, "dev": true, "staging": true, "enabled": true, "disabled": true, "http": true, "https": true,
}

// Masker replaces every secret value by a marker naming the variable or key that holds it.
type Masker struct {
	values  []maskValue      // every form of every value, longest first
	byName  []*regexp.Regexp // NAME= / NAME: assignments of secret-fed variables
	labels  map[string]bool  // the variable names masked in assignments
	markers []string         // every marker the masker writes
}

type maskValue struct {
	value, label string
}

// placeholders are what fix commands put where only the user knows the value.
var placeholders = map[string]bool{"<value>": true, "<valid value>": true, "<host>": true, "<KEY>": true}

// Marker is what a value of label becomes.
func Marker(label string) string { return "[secret " + label + " redacted]" }

// forms lists the ways a value can appear in text (see the policy above).
func forms(value []byte) []string {
	raw := string(value)
	trimmed := strings.TrimRightFunc(raw, unicode.IsSpace)
	var out []string
	for _, v := range []string{raw, trimmed} {
		if len(v) < minMaskLen || len(v) < shortValueLen && commonValues[strings.ToLower(v)] {
			continue
		}
		b := []byte(v)
		out = append(out, v,
			base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
			base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
			url.QueryEscape(v), url.PathEscape(v),
			hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)))
		// Multi-line values (keys, certificates) show up line by line in logs.
		if strings.Contains(v, "\n") {
			for l := range strings.Lines(v) {
				if l = strings.TrimSpace(l); len(l) >= 8 {
					out = append(out, l)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Builder collects what a Masker masks.
type Builder struct {
	m    Masker
	seen map[string]bool
}

// Value masks every form of value (see the policy above) as label.
func (b *Builder) Value(label string, value []byte) {
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	for _, v := range forms(value) {
		if !b.seen[v+"\x00"+label] {
			b.seen[v+"\x00"+label] = true
			b.m.values = append(b.m.values, maskValue{v, label})
		}
	}
}

// Name masks the value of every NAME= or NAME: assignment of the variable name, whatever the value.
func (b *Builder) Name(name string) {
	if b.m.labels == nil {
		b.m.labels = map[string]bool{}
	}
	b.m.labels[name] = true
}

// Masker returns the masker of what was collected.
func (b *Builder) Masker() *Masker {
	m := b.m
	m.values = slices.Clone(m.values)
	slices.SortStableFunc(m.values, func(a, b maskValue) int { return len(b.value) - len(a.value) })
	markers := map[string]bool{}
	for _, v := range m.values {
		markers[Marker(v.label)] = true
	}
	names := make([]string, 0, len(m.labels))
	for n := range m.labels {
		names = append(names, n)
		markers[Marker(n)] = true
	}
	m.markers = slices.Sorted(maps.Keys(markers))
	slices.Sort(names)
	m.byName = assignmentPatterns(names)
	return &m
}

// assignmentPattern matches NAME followed by = or : and a value (quoted or bare).
const assignmentPattern = `\b(%s)\b(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;)}\]]+)`

// assignmentPatterns compiles one pattern for all names; if that fails (a name the regexp
// engine cannot take), one pattern per name, leaving out only a name that cannot compile: the
// values of that variable are still masked by value.
func assignmentPatterns(names []string) []*regexp.Regexp {
	return assignmentPatternsWith(names, regexp.Compile)
}

func assignmentPatternsWith(names []string, compile func(string) (*regexp.Regexp, error)) []*regexp.Regexp {
	if len(names) == 0 {
		return nil
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	if re, err := compile(fmt.Sprintf(assignmentPattern, strings.Join(quoted, "|"))); err == nil {
		return []*regexp.Regexp{re}
	}
	var out []*regexp.Regexp
	for _, q := range quoted {
		if re, err := compile(fmt.Sprintf(assignmentPattern, q)); err == nil {
			out = append(out, re)
		}
	}
	return out
}

// startsWithMarker reports whether s begins with a marker this masker writes (quoted or not).
func (m *Masker) startsWithMarker(s string) bool {
	s = strings.TrimLeft(s, `"'`)
	for _, mk := range m.markers {
		if strings.HasPrefix(s, mk) {
			return true
		}
	}
	return false
}

// isMarker reports whether v is exactly a marker this masker writes.
func (m *Masker) isMarker(v string) bool {
	_, found := slices.BinarySearch(m.markers, v)
	return found
}

// Mask returns s with every secret value replaced by its marker.
func (m *Masker) Mask(s string) string {
	if m == nil || s == "" {
		return s
	}
	// Assignments first (NAME=value, NAME: "value"), so short values are covered too; then every
	// known value wherever it appears.
	for _, re := range m.byName {
		var b strings.Builder
		last := 0
		for _, ix := range re.FindAllStringSubmatchIndex(s, -1) {
			name, sep, v := s[ix[2]:ix[3]], s[ix[4]:ix[5]], strings.Trim(s[ix[6]:ix[7]], `"'`)
			// Already masked (a bare value stops at the marker's first space, so look at what
			// follows the separator, not only at the value), or a placeholder in a fix command.
			if m.isMarker(v) || placeholders[v] || m.startsWithMarker(s[ix[6]:]) {
				continue
			}
			b.WriteString(s[last:ix[0]])
			b.WriteString(name + sep + Marker(name))
			last = ix[1]
		}
		b.WriteString(s[last:])
		s = b.String()
	}
	return m.maskValues(s)
}

// maskValues replaces known values in one left-to-right pass, longest value first at each
// position, never touching a marker this masker wrote (a value may be a substring of a marker).
func (m *Masker) maskValues(s string) string {
	var hit bool
	for _, v := range m.values {
		if strings.Contains(s, v.value) {
			hit = true
			break
		}
	}
	if !hit {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "[secret ") {
			if j := strings.Index(s[i:], " redacted]"); j > 0 && m.isMarker(s[i:i+j+len(" redacted]")]) {
				end := i + j + len(" redacted]")
				b.WriteString(s[i:end])
				i = end
				continue
			}
		}
		matched := false
		for _, v := range m.values { // longest first
			if strings.HasPrefix(s[i:], v.value) {
				b.WriteString(Marker(v.label))
				i += len(v.value)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// MaskAll masks each string of ss in place and returns it.
func (m *Masker) MaskAll(ss []string) []string {
	for i := range ss {
		ss[i] = m.Mask(ss[i])
	}
	return ss
}

// MaskCut is Mask for a line that was cut short (a log read that stopped at its byte limit): a
// secret cut at the line's end leaves its first characters, which Mask cannot recognise, so an
// end of minMaskLen characters or more that begins a known value is masked too.
func (m *Masker) MaskCut(s string) string {
	s = m.Mask(s)
	if m == nil {
		return s
	}
	best, label := 0, ""
	for _, v := range m.values {
		for k := min(len(v.value)-1, len(s)); k >= minMaskLen && k > best; k-- {
			if strings.HasSuffix(s, v.value[:k]) {
				best, label = k, v.label
				break
			}
		}
	}
	if best == 0 {
		return s
	}
	return s[:len(s)-best] + Marker(label)
}
