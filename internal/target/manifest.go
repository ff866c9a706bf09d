package target

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// FromManifests reads the applied manifests named by -f values: files, folders, globs, or "-" for
// stdin. A folder is read as kubectl reads it: its own .yaml, .yml and .json files, and with
// recursive (kubectl's -R) those of its subfolders too, so that -f means the same objects to the
// gate as to the apply. Documents without a namespace get defaultNamespace. Invalid input is a
// fault.Invalid error naming the file and line.
func FromManifests(paths []string, recursive bool, defaultNamespace string, stdin io.Reader) ([]Target, error) {
	var out []Target
	for _, p := range paths {
		files, err := expand(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			var data []byte
			if f == "-" {
				data, err = io.ReadAll(stdin)
			} else {
				data, err = os.ReadFile(f)
			}
			if err != nil {
				return nil, fault.Invalidf("read manifest %s: %v; check the path given to -f/--filename", f, err)
			}
			name := f
			if f == "-" {
				name = "<stdin>"
			}
			ws, err := Parse(name, data, defaultNamespace)
			if err != nil {
				return nil, err
			}
			out = append(out, ws...)
		}
	}
	return out, nil
}

func expand(p string, recursive bool) ([]string, error) {
	if p == "-" {
		return []string{"-"}, nil
	}
	if strings.ContainsAny(p, "*?[") {
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fault.Invalidf("-f %q: bad glob pattern: %v", p, err)
		}
		if len(matches) == 0 {
			return nil, fault.Invalidf("-f %q: the pattern matches no file; check the path", p)
		}
		var out []string
		for _, m := range matches {
			more, err := expand(m, recursive)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
		return out, nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, fault.Invalidf("-f %q: %v; give a manifest file, a folder of manifests, a glob or - for stdin", p, errUnwrapPath(err))
	}
	if !info.IsDir() {
		if isKustomization(p) {
			return nil, kustomizationGiven(filepath.Dir(p), p)
		}
		return []string{p}, nil
	}
	return folder(p, recursive)
}

// folder lists the manifests of a folder given to -f, as kubectl does: the files directly in it,
// and with recursive those in every subfolder. A kustomization in it is an error that says to use
// -k, since kubectl would not apply it with -f either.
func folder(p string, recursive bool) ([]string, error) {
	var out []string
	add := func(path string, d fs.DirEntry) error {
		switch {
		case d.IsDir():
		case isKustomization(path):
			return kustomizationGiven(filepath.Dir(path), path)
		case isManifest(path):
			out = append(out, path)
		}
		return nil
	}
	if recursive {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return add(path, d)
		})
		if fault.Code(err) == fault.ExitInvalid {
			return nil, err
		}
		if err != nil {
			return nil, fault.Invalidf("-f %q: read folder: %v", p, err)
		}
	} else {
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fault.Invalidf("-f %q: read folder: %v", p, err)
		}
		for _, e := range entries {
			if err := add(filepath.Join(p, e.Name()), e); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 && !recursive && hasNestedManifest(p) {
		return nil, fault.Invalidf("-f %q: the folder holds no .yaml, .yml or .json file of its own, only in its subfolders; add -R (--recursive) to read those too, as `kubectl apply -R -f %s` does", p, p)
	}
	if len(out) == 0 {
		return nil, fault.Invalidf("-f %q: the folder holds no .yaml, .yml or .json file", p)
	}
	sort.Strings(out)
	return out, nil
}

// hasNestedManifest says whether a subfolder of p holds a manifest, for the -R hint.
func hasNestedManifest(p string) bool {
	found := errors.New("found")
	err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isManifest(path) {
			return found
		}
		return nil
	})
	return err == found
}

func isManifest(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// kustomizationNames are the file names kustomize looks for in a kustomization's folder.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustomization(path string) bool {
	base := filepath.Base(path)
	for _, n := range kustomizationNames {
		if base == n {
			return true
		}
	}
	return false
}

// kustomizationGiven is the error for a kustomization reached through -f: kubectl builds it only
// with -k, and reading its kustomization.yaml as a manifest would say nothing useful.
func kustomizationGiven(dir, file string) error {
	return fault.Invalidf("-f: %s is a kustomization (%s), which `kubectl apply -k %s` builds; give it to the gate the same way: -k %s", dir, file, dir, dir)
}

func errUnwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// doc is one YAML document, the line its text starts on and the line of its first content.
type doc struct {
	start, line int
	text        []byte
}

// maxLineLen bounds one manifest line. A longer line is an error that names it: a scanner that
// silently stopped there would drop every later document, and their workloads would go unwatched.
const maxLineLen = 16 << 20

// splitDocuments splits a YAML stream on "---" separator lines, remembering where each starts.
func splitDocuments(file string, data []byte) ([]doc, error) {
	var docs []doc
	var cur bytes.Buffer
	start, lineNo := 1, 0
	flush := func(next int) {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			docs = append(docs, doc{start: start, line: firstContentLine(cur.Bytes(), start), text: append([]byte(nil), cur.Bytes()...)})
		}
		cur.Reset()
		start = next
	}
	for len(data) > 0 {
		lineNo++
		raw := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(raw) > maxLineLen {
			return nil, fault.Invalidf("%s:%d: line is longer than %d MiB; no manifest line should be: is this a binary file or a generated blob?", file, lineNo, maxLineLen>>20)
		}
		line := strings.TrimSuffix(string(raw), "\r")
		if line == "---" || strings.HasPrefix(line, "--- ") || line == "..." {
			flush(lineNo + 1)
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush(lineNo + 1)
	return docs, nil
}

func firstContentLine(text []byte, start int) int {
	for i, l := range strings.Split(string(text), "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return start + i
		}
	}
	return start
}

type object struct {
	APIVersion string
	Kind       string
	Metadata   struct{ Name, Namespace string }
	Items      []any
}

// Parse reads the workloads of one manifest stream; file names it in errors. A document that
// follows a "# Source: PATH" comment, as `helm template` writes them, is reported at that chart
// template and the line inside it, not at the stream's line.
func Parse(file string, data []byte, defaultNamespace string) ([]Target, error) {
	docs, err := splitDocuments(file, data)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, d := range docs {
		where := fmt.Sprintf("%s:%d", file, d.line)
		js, err := yaml.YAMLToJSON(d.text)
		if err != nil {
			if unrendered(d.text) {
				return nil, unrenderedTemplate(where)
			}
			return nil, fault.Invalidf("%s: invalid YAML: %s; fix the document or remove it from -f", where, yamlError(err, d.start))
		}
		if string(js) == "null" {
			continue // a document of comments only
		}
		o, err := decodeObject(js)
		if err == nil && unrendered([]byte(o.APIVersion+o.Kind+o.Metadata.Name+o.Metadata.Namespace)) {
			err = errors.New("template")
		}
		if err != nil {
			if unrendered(d.text) {
				return nil, unrenderedTemplate(where)
			}
			return nil, fault.Invalidf("%s: not a Kubernetes object: %v", where, err)
		}
		name, line := file, d.line
		if tpl, at := sourceComment(d.text); tpl != "" {
			name, line = tpl, max(d.line-(d.start+at), 1)
		}
		ws, err := fromObject(name, line, o, defaultNamespace)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}

// unrendered says whether text holds Go template actions, as a chart's templates do before
// `helm template` renders them.
func unrendered(text []byte) bool {
	i := bytes.Index(text, []byte("{{"))
	return i >= 0 && bytes.Contains(text[i:], []byte("}}"))
}

func unrenderedTemplate(where string) error {
	return fault.Invalidf("%s: this looks like an unrendered Helm template ({{ ... }} actions); render it first (`helm template RELEASE CHART | gate -f -`), or gate the installed release with --helm-release RELEASE", where)
}

// yamlLine finds the document-relative line in a YAML parser's message.
var yamlLine = regexp.MustCompile(`^(?:error converting YAML to JSON: )?yaml: line (\d+): `)

// yamlError is the parser's message with its line made a line of the file and the parser's
// prefixes dropped; a message that quotes Go values (an invalid map key) is put in words.
func yamlError(err error, start int) string {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = fmt.Sprintf("line %d: %s", start+n-1, msg[len(m[0]):])
	} else {
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, "error converting YAML to JSON: "), "yaml: ")
	}
	if i := strings.Index(msg, "invalid map key"); i >= 0 {
		msg = msg[:i] + "a mapping key that is itself a mapping or a list ({ } or [ ] where a plain key was expected)"
	}
	return msg
}

// decodeObject reads the fields the gate needs from one document. Its errors say which field has
// which shape and what was expected, never a Go type.
func decodeObject(js []byte) (object, error) {
	var v any
	if err := json.Unmarshal(js, &v); err != nil {
		return object{}, fmt.Errorf("the document cannot be read (%v)", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return object{}, fmt.Errorf("the document is %s; a manifest is a mapping with apiVersion, kind and metadata", shape(v))
	}
	var o object
	var errs []string
	str := func(m map[string]any, field, path string) string {
		switch x := m[field].(type) {
		case nil:
			return ""
		case string:
			return x
		default:
			errs = append(errs, fmt.Sprintf("%s is %s, want a string", path, shape(x)))
			return ""
		}
	}
	o.APIVersion = str(m, "apiVersion", "apiVersion")
	o.Kind = str(m, "kind", "kind")
	switch md := m["metadata"].(type) {
	case nil:
	case map[string]any:
		o.Metadata.Name = str(md, "name", "metadata.name")
		o.Metadata.Namespace = str(md, "namespace", "metadata.namespace")
	default:
		errs = append(errs, fmt.Sprintf("metadata is %s, want a mapping with name (and namespace)", shape(md)))
	}
	switch items := m["items"].(type) {
	case nil:
	case []any:
		o.Items = items
	default:
		if strings.HasSuffix(o.Kind, "List") {
			errs = append(errs, fmt.Sprintf("items is %s, want a list of objects", shape(items)))
		}
	}
	if len(errs) > 0 {
		return object{}, errors.New(strings.Join(errs, "; "))
	}
	return o, nil
}

// shape names a decoded JSON value's kind in words.
func shape(v any) string {
	switch x := v.(type) {
	case nil:
		return "empty"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("a string (%q)", x)
	case bool:
		return "true or false"
	case float64:
		return "a number"
	}
	return "a value of an unknown kind"
}

// sourceComment finds the "# Source: PATH" comment that `helm template` (and Helm's stored
// manifests) put before each document, and the index of its line in text. The path is the chart
// author's text: it comes back as one short line of printable characters.
func sourceComment(text []byte) (path string, at int) {
	for i, l := range strings.Split(string(text), "\n") {
		t := strings.TrimSpace(l)
		rest, ok := strings.CutPrefix(t, "# Source: ")
		if ok {
			return cleanTemplatePath(rest), i
		}
		if t != "" && !strings.HasPrefix(t, "#") {
			break // the object began: a later comment is not its source
		}
	}
	return "", 0
}

// cleanTemplatePath drops control characters and cuts the path to maxTemplatePath bytes.
func cleanTemplatePath(p string) string {
	p = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, p))
	if len(p) > maxTemplatePath {
		p = p[:maxTemplatePath]
	}
	return p
}

func fromObject(file string, line int, o object, defaultNamespace string) ([]Target, error) {
	if o.Kind == "" || o.APIVersion == "" {
		return nil, fault.Invalidf("%s:%d: document has no kind or apiVersion; is it a Kubernetes manifest?", file, line)
	}
	if strings.HasSuffix(o.Kind, "List") && o.Metadata.Name == "" {
		var out []Target
		for i, raw := range o.Items {
			js, _ := json.Marshal(raw)
			item, err := decodeObject(js)
			if err != nil {
				return nil, fault.Invalidf("%s:%d: item %d of %s: %v", file, line, i, o.Kind, err)
			}
			ws, err := fromObject(file, line, item, defaultNamespace)
			if err != nil {
				return nil, err
			}
			out = append(out, ws...)
		}
		return out, nil
	}
	if o.Metadata.Name == "" {
		return nil, fault.Invalidf("%s:%d: %s has no metadata.name (generateName objects cannot be watched by name)", file, line, o.Kind)
	}
	ns := o.Metadata.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	// Names go into API paths, reports, comments and fix commands: anything but a DNS-1123 name
	// is rejected here, before it can reach any of them.
	if errs := validation.IsDNS1123Subdomain(o.Metadata.Name); len(errs) > 0 {
		return nil, fault.Invalidf("%s:%d: %s metadata.name %q is not a valid name (%s)", file, line, o.Kind, o.Metadata.Name, errs[0])
	}
	if errs := validation.IsDNS1123Label(ns); ns != "" && len(errs) > 0 {
		return nil, fault.Invalidf("%s:%d: %s %s: namespace %q is not a valid name (%s)", file, line, o.Kind, o.Metadata.Name, ns, errs[0])
	}
	w := Target{Kind: o.Kind, APIVersion: o.APIVersion, Namespace: ns, Name: o.Metadata.Name, File: file, Line: line}
	group, _, _ := strings.Cut(o.APIVersion, "/")
	if !strings.Contains(o.APIVersion, "/") {
		group = ""
	}
	k, _ := workload.Lookup(o.Kind)
	switch {
	case !Judgeable(o.Kind) || (group != k.GroupResource().Group && strings.Contains(group, ".")):
		// Another kind (or a custom resource that shares the name): Resolve decides.
		w.Skipped = true
	case group != k.GroupResource().Group:
		return nil, fault.Invalidf("%s:%d: %s %s has apiVersion %q; use %s/v1", file, line, o.Kind, o.Metadata.Name, o.APIVersion, k.GroupResource().Group)
	}
	return []Target{w}, nil
}

// String of a workload for error messages.
func (w Target) String() string {
	if w.File != "" {
		return fmt.Sprintf("%s (%s:%d)", w.Ref(), w.File, w.Line)
	}
	return w.Ref().String()
}
