package report

import (
	"reflect"
	"regexp"
	"unicode/utf8"
)

// MaskedValue stands for a literal value the report does not show.
const MaskedValue = "(masked)"

// sensitiveEnv matches env var names whose literal values are never shown: a pod template is not
// a Secret, but people put passwords in env values anyway.
var sensitiveEnv = regexp.MustCompile(`(?i)pass|secret|token|key|cred|auth|private`)

// SensitiveEnvName reports whether the literal value of env var name is masked everywhere.
func SensitiveEnvName(name string) bool { return sensitiveEnv.MatchString(name) }

// RedactEnvValue is the one rule for showing a literal env value in a template diff: the value
// as rendered, or MaskedValue when the variable's name says it is a credential. The one template
// diff (internal/podtemplate) applies it to what the rollout changed and to what a rollback
// changes alike.
func RedactEnvValue(name, rendered string) string {
	if rendered != "" && SensitiveEnvName(name) {
		return MaskedValue
	}
	return rendered
}

// Redact is the report boundary, run once on each finished row (package app builds it): mask
// replaces every Secret value the diagnosis knows of, in every string of the row, whichever
// package wrote it (the watch's message, the diagnosis, the rollback, the manifest edit); then
// evidence and log lines longer than MaxLineLen are cut, after the masking, so that a cut cannot
// leave part of a value showing. A nil mask masks nothing (nothing was gathered, so no value is
// known) and still cuts.
func Redact(w *Workload, mask func(string) string) {
	if mask != nil {
		RedactStrings(w, mask)
	}
	for i := range w.Findings {
		f := &w.Findings[i]
		for j := range f.Evidence {
			f.Evidence[j] = cutLine(f.Evidence[j])
		}
		if f.Logs != nil {
			for j := range f.Logs.Lines {
				f.Logs.Lines[j] = cutLine(f.Logs.Lines[j])
			}
		}
	}
}

// MaxLineLen caps one evidence or log line kept in the report, in bytes.
const MaxLineLen = 1000

// cutLine shortens a line to MaxLineLen bytes on a rune boundary, marking the cut.
func cutLine(s string) string {
	if len(s) <= MaxLineLen {
		return s
	}
	i := MaxLineLen
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// RedactStrings applies mask to every string in v, which must be a pointer: struct fields, slice
// and map elements and pointees, however deep. It is the report boundary's redaction: a field
// added to the model later is covered without anyone remembering to.
func RedactStrings(v any, mask func(string) string) {
	redactValue(reflect.ValueOf(v), mask)
}

func redactValue(v reflect.Value, mask func(string) string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			redactValue(v.Elem(), mask)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				redactValue(v.Field(i), mask)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			redactValue(v.Index(i), mask)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			redactValue(e, mask)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(mask(v.String()))
		}
	}
}
