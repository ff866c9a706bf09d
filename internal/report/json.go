package report

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// JSON renders the report as indented JSON, schema v1 (docs/report-schema.md). Fields come in the
// order of model.go; lists are always arrays, never null, so readers need no null checks.
func JSON(r *Report) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "<none>" and "a && b" readable; this is not embedded in HTML
	if err := enc.Encode(normalised(r)); err != nil {
		return nil, fmt.Errorf("encode report as JSON: %w", err)
	}
	// "##[" is a workflow command to the Actions runner wherever it appears in a line, and the
	// report quotes pod logs. JSON may spell "[" as \u005b: the document means the same, and a
	// report printed with -o json inside Actions cannot issue commands. ("::" cannot start a line
	// of this JSON: strings are quoted and newlines in them escaped.)
	return bytes.ReplaceAll(b.Bytes(), []byte("##["), []byte(`##\u005b`)), nil
}

// normalised returns a copy with the schema version set and every nil list made empty.
func normalised(r *Report) *Report {
	c := *r
	if c.SchemaVersion == 0 {
		c.SchemaVersion = SchemaVersion
	}
	c.Workloads = nonNilEach(c.Workloads, func(w *Workload) {
		w.Pods = nonNilEach(w.Pods, func(p *Pod) { p.Containers = nonNil(p.Containers) })
		w.Findings = nonNilEach(w.Findings, func(f *Finding) {
			f.Evidence = nonNil(f.Evidence)
			f.Fix = nonNil(f.Fix)
			if f.Logs != nil {
				l := *f.Logs
				l.Lines = nonNil(l.Lines)
				f.Logs = &l
			}
		})
		w.Changes = nonNil(w.Changes)
		if w.Status != nil {
			st := *w.Status
			st.Conditions = nonNil(st.Conditions)
			w.Status = &st
		}
	})
	return &c
}

// nonNil returns a copy of s that is never nil, so the caller's report is never modified.
func nonNil[T any](s []T) []T {
	return append(make([]T, 0, len(s)), s...)
}

// nonNilEach is nonNil(s) with fix applied to each element of the copy.
func nonNilEach[T any](s []T, fix func(*T)) []T {
	s = nonNil(s)
	for i := range s {
		fix(&s[i])
	}
	return s
}
