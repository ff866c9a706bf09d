package diagnose

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// minMaskLen is the shortest secret value masked wherever it appears: shorter values ("1", "no")
// would shred ordinary text. They are still never printed as values: the diagnosis only names
// keys, and assignments to secret-fed variables ("DB_PASSWORD=ab") are masked by name.
const minMaskLen = 4

// masker replaces every value a pod receives from a Secret by a marker naming the variable or key.
type masker struct {
	values []maskValue     // longest first
	byName *regexp.Regexp  // NAME= / NAME: assignments of secret-fed variables
	labels map[string]bool // names in byName
}

type maskValue struct {
	value, label string
}

// placeholders are what fix commands put where only the user knows the value.
var placeholders = map[string]bool{"<value>": true, "<valid value>": true, "<host>": true, "<KEY>": true}

func marker(label string) string { return "[secret " + label + " redacted]" }

// newMasker collects the values of every Secret the pod spec references, labelled by the env var
// that receives them (env valueFrom, envFrom with prefix) or by the key (volumes). secrets holds the
// Secrets that could be read; a Secret that could not be read still has its variable names masked.
func newMasker(spec *corev1.PodSpec, secrets map[string]*corev1.Secret) *masker {
	m := &masker{labels: map[string]bool{}}
	if spec == nil {
		return m
	}
	seen := map[string]bool{}
	add := func(label string, value []byte) {
		v := string(value)
		if len(v) == 0 || seen[v+"\x00"+label] {
			return
		}
		seen[v+"\x00"+label] = true
		m.values = append(m.values, maskValue{v, label})
		if len(v) >= minMaskLen {
			m.values = append(m.values, maskValue{base64.StdEncoding.EncodeToString(value), label})
			// Multi-line values (keys, certificates) show up line by line in logs.
			if strings.Contains(v, "\n") {
				for l := range strings.Lines(v) {
					if l = strings.TrimSpace(l); len(l) >= 8 {
						m.values = append(m.values, maskValue{l, label})
					}
				}
			}
		}
	}
	for _, r := range podRefs(spec) {
		if r.Kind != kindSecret || r.Field == "imagePullSecrets" {
			continue
		}
		s := secrets[r.Name]
		switch {
		case r.EnvVar != "":
			m.labels[r.EnvVar] = true
			if s != nil {
				add(r.EnvVar, secretValue(s, r.Key))
			}
		case r.Field == "envFrom":
			if s == nil {
				continue
			}
			for k := range secretKeys(s) {
				m.labels[r.Prefix+k] = true
				add(r.Prefix+k, secretValue(s, k))
			}
		default: // volumes: every key, or the listed ones
			if s == nil {
				continue
			}
			for k := range secretKeys(s) {
				if r.Key == "" || r.Key == k {
					add(k, secretValue(s, k))
				}
			}
		}
	}
	// Image pull secrets carry registry credentials: mask them too, by key.
	for _, ps := range spec.ImagePullSecrets {
		if s := secrets[ps.Name]; s != nil {
			for k := range secretKeys(s) {
				add(k, secretValue(s, k))
			}
		}
	}
	slices.SortStableFunc(m.values, func(a, b maskValue) int { return len(b.value) - len(a.value) })
	if len(m.labels) > 0 {
		names := make([]string, 0, len(m.labels))
		for n := range m.labels {
			names = append(names, regexp.QuoteMeta(n))
		}
		slices.Sort(names)
		// NAME followed by = or : and a value (quoted or bare).
		m.byName = regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;)}\]]+)`)
	}
	return m
}

func secretKeys(s *corev1.Secret) map[string]bool {
	keys := map[string]bool{}
	for k := range s.Data {
		keys[k] = true
	}
	for k := range s.StringData {
		keys[k] = true
	}
	return keys
}

func secretValue(s *corev1.Secret, key string) []byte {
	if v, ok := s.Data[key]; ok {
		return v
	}
	if v, ok := s.StringData[key]; ok {
		return []byte(v)
	}
	return nil
}

// Mask returns s with every secret value replaced by its marker.
func (m *masker) Mask(s string) string {
	if m == nil || s == "" {
		return s
	}
	// Assignments first (NAME=value, NAME: "value"), so short values are covered too; then every
	// known value wherever it appears.
	if m.byName != nil {
		s = m.byName.ReplaceAllStringFunc(s, func(match string) string {
			sub := m.byName.FindStringSubmatch(match)
			v := strings.Trim(sub[3], `"'`)
			if strings.HasPrefix(v, "[secret") || placeholders[v] {
				// already masked, or a placeholder in a fix command
				return match
			}
			return sub[1] + sub[2] + marker(sub[1])
		})
	}
	return m.maskValues(s)
}

// maskValues replaces known values in one left-to-right pass, longest value first at each
// position, never touching a marker already in place (a value may be a substring of a marker).
func (m *masker) maskValues(s string) string {
	var hit bool
	for _, v := range m.values {
		if len(v.value) >= minMaskLen && strings.Contains(s, v.value) {
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
			if j := strings.Index(s[i:], " redacted]"); j > 0 {
				end := i + j + len(" redacted]")
				b.WriteString(s[i:end])
				i = end
				continue
			}
		}
		matched := false
		for _, v := range m.values { // longest first
			if len(v.value) >= minMaskLen && strings.HasPrefix(s[i:], v.value) {
				b.WriteString(marker(v.label))
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
func (m *masker) MaskAll(ss []string) []string {
	for i := range ss {
		ss[i] = m.Mask(ss[i])
	}
	return ss
}
