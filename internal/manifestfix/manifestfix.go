// Package manifestfix finds, in the applied manifest, the line that set a value a rollout
// changed, and writes the line as it should be. The report then leads its fix with that edit,
// which is how a reviewer fixes a deploy (the manifest under review), before the kubectl commands
// for an emergency. It reads YAML and report types only: no Kubernetes client, no GitHub.
package manifestfix

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// changePath is a pod-template change this package can point at: a container's env literal or
// its image (podtemplate's names: containers[api].env[DB_PORT], initContainers[init].image).
var changePath = regexp.MustCompile(`^(containers|initContainers)\[([^\]]+)\]\.(?:env\[([^\]]+)\]|(image))$`)

// Suggest returns the edit that takes back the change the finding blames, or nil: the change
// must be one this package can point at, named by the finding (its env variable, or the image
// of its container), with a value on both sides that is not masked, and its line must be found
// in text, the manifest file of the document that starts at docLine.
func Suggest(file string, text []byte, docLine int, f *report.Finding, changes []report.Change) *report.ManifestEdit {
	said := strings.Join(append([]string{f.Summary, f.Detail, f.Change}, f.Evidence...), "\n")
	for _, c := range changes {
		m := changePath.FindStringSubmatch(c.Path)
		if m == nil || c.Before == "" || c.After == "" || c.Before == report.MaskedValue || c.After == report.MaskedValue {
			continue
		}
		kind, container, env, image := m[1], m[2], m[3], m[4] != ""
		if env != "" && !strings.Contains(said, env) || image && !strings.Contains(said, "image") {
			continue
		}
		want, ok := literal(c.Before)
		if !ok {
			continue
		}
		line, col, ok := locate(text, docLine, kind, container, env)
		if !ok {
			continue
		}
		lines := strings.Split(string(text), "\n")
		old := strings.TrimRight(lines[line-1], "\r")
		edited, ok := replaceScalar(old, col, want)
		if !ok || edited == old {
			continue
		}
		what := "the image of container " + container
		if env != "" {
			what = env
		}
		return &report.ManifestEdit{File: file, Line: line, Path: c.Path, What: what, Old: old, New: edited,
			Before: c.Before, After: c.After}
	}
	return nil
}

// literal is the value a change shows as it would be written in YAML: env literals are shown
// quoted (podtemplate.EnvSource), images bare; a reference (secretKeyRef ...) is not a literal.
func literal(shown string) (string, bool) {
	if strings.HasPrefix(shown, `"`) {
		v, err := strconv.Unquote(shown)
		return v, err == nil
	}
	if strings.ContainsAny(shown, " \t\n") {
		return "", false
	}
	return shown, true
}

// locate finds the line and column (1-based, in the file) of the value of a container's env
// variable (or its image, when env is "") in the YAML document that starts at docLine.
func locate(text []byte, docLine int, kind, container, env string) (line, col int, ok bool) {
	start, doc := document(text, docLine)
	if doc == nil {
		return 0, 0, false
	}
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil || len(root.Content) == 0 {
		return 0, 0, false
	}
	obj := root.Content[0]
	pod := get(obj, "spec", "template", "spec")
	if pod == nil {
		pod = get(obj, "spec", "jobTemplate", "spec", "template", "spec")
	}
	if pod == nil {
		return 0, 0, false
	}
	c := named(get(pod, kind), container)
	var v *yaml.Node
	if env == "" {
		v = get(c, "image")
	} else {
		v = get(named(get(c, "env"), env), "value")
	}
	if v == nil || v.Kind != yaml.ScalarNode || v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return 0, 0, false
	}
	return start + v.Line - 1, v.Column, true
}

// document returns the text of the document of a multi-document file that holds line docLine,
// and the file line it starts on.
func document(text []byte, docLine int) (int, []byte) {
	lines := bytes.Split(text, []byte("\n"))
	start := 1
	for i, l := range lines {
		n := i + 1
		if bytes.HasPrefix(l, []byte("---")) && len(bytes.TrimSpace(l[3:])) == 0 {
			if n >= docLine {
				return start, bytes.Join(lines[start-1:i], []byte("\n"))
			}
			start = n + 1
		}
	}
	if docLine >= start {
		return start, bytes.Join(lines[start-1:], []byte("\n"))
	}
	return 0, nil
}

// get walks mapping keys.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// named is the item of a sequence of mappings whose name is name.
func named(seq *yaml.Node, name string) *yaml.Node {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	for _, item := range seq.Content {
		if n := get(item, "name"); n != nil && n.Value == name {
			return item
		}
	}
	return nil
}

// replaceScalar writes want in place of the scalar that starts at col (1-based) of line: a
// quoted scalar stays quoted (as JSON, which YAML reads the same), a plain one stays plain when
// want is safe bare, else it is quoted.
func replaceScalar(line string, col int, want string) (string, bool) {
	i := col - 1
	if i < 0 || i >= len(line) {
		return "", false
	}
	end := len(line)
	switch line[i] {
	case '"':
		j := i + 1
		for j < len(line) && line[j] != '"' {
			if line[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(line) {
			return "", false
		}
		end = j + 1
	case '\'':
		j := strings.Index(line[i+1:], "'")
		if j < 0 {
			return "", false
		}
		end = i + 1 + j + 1
	default:
		if k := strings.Index(line[i:], " #"); k >= 0 {
			end = i + k
		}
		for end > i && line[end-1] == ' ' {
			end--
		}
	}
	q, _ := json.Marshal(want)
	value := string(q)
	if line[i] != '"' && line[i] != '\'' && bare.MatchString(want) && !keyword[strings.ToLower(want)] {
		value = want
	}
	return line[:i] + value + line[end:], true
}

// bare is a value YAML reads as the same string unquoted (no number, bool or null: those are
// quoted so that an env value stays a string).
var bare = regexp.MustCompile(`^[A-Za-z_./][A-Za-z0-9_./:@-]*$`)

// keyword are the plain scalars YAML (1.1, as Kubernetes reads it) takes for something else.
var keyword = map[string]bool{"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "y": true, "n": true, "null": true}
