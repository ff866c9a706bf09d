package target

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// FromManifests reads the applied manifests named by -f values: files, folders (walked for .yaml,
// .yml and .json), globs, or "-" for stdin. Documents without a namespace get defaultNamespace.
// Invalid input is a fault.Invalid error naming the file and line.
func FromManifests(paths []string, defaultNamespace string, stdin io.Reader) ([]Workload, error) {
	var out []Workload
	for _, p := range paths {
		files, err := expand(p)
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

func expand(p string) ([]string, error) {
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
			more, err := expand(m)
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
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				out = append(out, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fault.Invalidf("-f %q: walk folder: %v", p, err)
	}
	if len(out) == 0 {
		return nil, fault.Invalidf("-f %q: the folder holds no .yaml, .yml or .json file", p)
	}
	sort.Strings(out)
	return out, nil
}

func errUnwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// doc is one YAML document and the line it starts on.
type doc struct {
	line int
	text []byte
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
			docs = append(docs, doc{line: firstContentLine(cur.Bytes(), start), text: append([]byte(nil), cur.Bytes()...)})
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
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

// Parse reads the workloads of one manifest stream; file names it in errors.
func Parse(file string, data []byte, defaultNamespace string) ([]Workload, error) {
	docs, err := splitDocuments(file, data)
	if err != nil {
		return nil, err
	}
	var out []Workload
	for _, d := range docs {
		js, err := yaml.YAMLToJSON(d.text)
		if err != nil {
			return nil, fault.Invalidf("%s:%d: invalid YAML: %v; fix the document or remove it from -f", file, d.line, err)
		}
		if string(js) == "null" {
			continue // a document of comments only
		}
		var o object
		if err := json.Unmarshal(js, &o); err != nil {
			return nil, fault.Invalidf("%s:%d: not a Kubernetes object (%v); every document needs apiVersion, kind and metadata", file, d.line, err)
		}
		ws, err := fromObject(file, d.line, o, defaultNamespace)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}

func fromObject(file string, line int, o object, defaultNamespace string) ([]Workload, error) {
	if o.Kind == "" || o.APIVersion == "" {
		return nil, fault.Invalidf("%s:%d: document has no kind or apiVersion; is it a Kubernetes manifest?", file, line)
	}
	if strings.HasSuffix(o.Kind, "List") && o.Metadata.Name == "" {
		var out []Workload
		for _, raw := range o.Items {
			var item object
			if err := json.Unmarshal(raw, &item); err != nil {
				return nil, fault.Invalidf("%s:%d: invalid item in %s: %v", file, line, o.Kind, err)
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
	w := Workload{Kind: o.Kind, APIVersion: o.APIVersion, Namespace: ns, Name: o.Metadata.Name, File: file, Line: line}
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
	return []Workload{w}, nil
}

// String of a workload for error messages.
func (w Workload) String() string {
	if w.File != "" {
		return fmt.Sprintf("%s (%s:%d)", w.Ref(), w.File, w.Line)
	}
	return w.Ref()
}
