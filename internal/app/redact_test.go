package app

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/mask"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/watch"
)

// TestRowIsRedactedOnce puts a Secret value in every field of a row the cluster can write (the
// watch's message, reason, revision, view, status and overrides; the target's names and file;
// every string of the diagnosis: findings, evidence, logs, fix, edit, events, pods, changes,
// timeline; every string of the rollback) and builds the row. Redaction happens once, where the
// finished row is built: the masker sees every string of the row exactly once, never one it had
// masked already (the diagnosis no longer masks its own result first), and the value reaches
// neither the row nor any rendering of the report.
func TestRowIsRedactedOnce(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-Pa55word-77"
	marker := mask.Marker("DB_PASSWORD")
	var b mask.Builder
	b.Value("DB_PASSWORD", []byte(secret))
	masker := b.Masker()
	calls := 0
	counting := func(s string) string {
		calls++
		if strings.Contains(s, marker) {
			t.Errorf("masked twice: %q", s)
		}
		return masker.Mask(s)
	}

	now := time.Date(2026, 4, 4, 8, 12, 0, 0, time.UTC)
	res := watch.Result{Verdict: report.VerdictFailed, Since: now.Add(-time.Minute), DecidedAt: now}
	fill(reflect.ValueOf(&res.Workload), secret)
	res.Workload.Kind, res.Workload.Helm, res.Workload.Kustomization = "Deployment", nil, nil
	for _, p := range []any{&res.Reason, &res.Message, &res.Revision, &res.View, &res.Status, &res.Overrides} {
		fill(reflect.ValueOf(p), secret)
	}
	dn := &diagnosis{}
	fill(reflect.ValueOf(&dn.Result), secret)
	dn.Mask = counting
	u := &undo{began: now}
	fill(reflect.ValueOf(&u.Rollback), secret)
	u.Status, u.Undone, u.Duration = report.RollbackRolledBack, true, 20
	read := func(string) ([]byte, error) { return []byte("kind: Deployment\nvalue: " + secret + "\n"), nil }

	w := row(res, dn, u, read)

	if n := countStrings(reflect.ValueOf(&w)); calls != n {
		t.Errorf("the masker ran %d times over a row of %d strings: each string is masked exactly once", calls, n)
	}
	shown := 0
	walkStrings(reflect.ValueOf(&w), func(s string) {
		if strings.Contains(s, secret) {
			t.Errorf("unmasked in the row: %q", s)
		}
		if strings.Contains(s, marker) {
			shown++
		}
	})
	for name, got := range map[string]string{"message": w.Message, "reason": w.Reason, "revision": w.Revision, "view": w.View[0],
		"status": w.Status.Conditions[0].Message, "override": w.Overrides[0].Why, "name": w.Name, "file": w.Source.File,
		"summary": w.Findings[0].Summary, "evidence": w.Findings[0].Evidence[0], "log": w.Findings[0].Logs.Lines[0],
		"fix": w.Findings[0].Fix[0], "event": w.Events[0].Message, "pod": w.Pods[0].Containers[0].Name,
		"change": w.Changes[0].After, "rollback": w.Rollback.Message, "rollback change": w.Rollback.Changes[0].Before,
		"rollback moment": w.Timeline[len(w.Timeline)-2].What} {
		if !strings.Contains(got, marker) {
			t.Errorf("%s %q does not show the marker: the test did not reach it", name, got)
		}
	}
	if shown < 18 {
		t.Errorf("only %d strings of the row show the marker", shown)
	}

	r := &report.Report{Verdict: report.VerdictFailed, Workloads: []report.Workload{w}, RolledBack: true}
	js, err := report.JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := report.Text(&text, r, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for format, out := range map[string]string{"JSON": string(js), "text": text.String(), "Markdown": report.Markdown(r, report.MarkdownOptions{})} {
		if strings.Contains(out, secret) || !strings.Contains(out, "DB_PASSWORD") {
			t.Errorf("%s report shows the value, or not the marker:\n%s", format, out)
		}
	}
}

// fill sets every plain string reachable from v (a pointer) to s, allocating each nil pointer and
// giving each empty slice one element, so that every field holds s.
func fill(v reflect.Value, s string) {
	fillDepth(v, s, 0)
}

func fillDepth(v reflect.Value, s string, depth int) {
	if depth > 10 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			if !v.CanSet() {
				return
			}
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillDepth(v.Elem(), s, depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillDepth(v.Field(i), s, depth+1)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := range v.Len() {
			fillDepth(v.Index(i), s, depth+1)
		}
	case reflect.String:
		if v.Type() == reflect.TypeFor[string]() && v.CanSet() {
			v.SetString(s)
		}
	}
}

// walkStrings calls f with every string reachable from v as report.RedactStrings reaches them.
func walkStrings(v reflect.Value, f func(string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(v.MapIndex(k), f)
		}
	case reflect.String:
		f(v.String())
	}
}

func countStrings(v reflect.Value) int {
	n := 0
	walkStrings(v, func(string) { n++ })
	return n
}
