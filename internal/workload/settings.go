package workload

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

// The annotations that tune the gate for one workload, on the live object. They are read where
// the watch first sees the object, so that the object's owners can tune it without touching the
// pipeline (krane's timeout-override, kubedog's failures-allowed-per-replica, kapp's disable-wait).
const (
	AnnotationPrefix         = "rollout-gate.io/"
	AnnotationTimeout        = AnnotationPrefix + "timeout"
	AnnotationCrashTolerance = AnnotationPrefix + "crash-tolerance"
	AnnotationSoak           = AnnotationPrefix + "soak"
	AnnotationIgnore         = AnnotationPrefix + "ignore"
	AnnotationRollback       = AnnotationPrefix + "rollback"
)

// Settings are one workload's own settings. A nil field is not set: the run's flag applies.
type Settings struct {
	// Timeout is this workload's own timeout, counted from the start of the watch; the run's
	// --timeout still bounds it.
	Timeout *time.Duration
	// CrashTolerance and Soak replace the run's --crash-tolerance and --soak for this workload.
	CrashTolerance *int
	Soak           *time.Duration
	// Ignore: the workload is not watched, and is reported skipped.
	Ignore bool
	// NoRollback: the workload is never rolled back, even with --rollback.
	NoRollback bool
}

// SettingsOf reads a workload's settings from its annotations. A bad value, or an unknown
// rollout-gate.io/ annotation (a typo would otherwise be ignored in silence), is an invalid-input
// error that names the object, the annotation and the fix.
func SettingsOf(w Workload) (Settings, error) {
	ref := RefOf(w)
	return ParseSettings(ref.String(), ref.Namespace, w.Meta().GetAnnotations())
}

// ParseSettings is SettingsOf for the annotations of the object ref ("deployment/api") in namespace.
func ParseSettings(ref, namespace string, annotations map[string]string) (Settings, error) {
	var s Settings
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		if strings.HasPrefix(k, AnnotationPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := annotations[k]
		bad := func(want, example string) error {
			return fault.Invalidf("%s in namespace %s: annotation %s: %s is not %s; fix it with `kubectl annotate %s -n %s %s=%s --overwrite`",
				ref, namespace, k, quoted(v), want, ref, namespace, k, example)
		}
		switch k {
		case AnnotationTimeout, AnnotationSoak:
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < 0 || (k == AnnotationTimeout && d == 0) {
				if k == AnnotationTimeout {
					return Settings{}, bad("a positive Go duration", "5m")
				}
				return Settings{}, bad("a Go duration of 0s or more", "30s")
			}
			if k == AnnotationTimeout {
				s.Timeout = &d
			} else {
				s.Soak = &d
			}
		case AnnotationCrashTolerance:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return Settings{}, bad("a whole number of 0 or more", "1")
			}
			s.CrashTolerance = &n
		case AnnotationIgnore, AnnotationRollback:
			b, ok := map[string]bool{"true": true, "false": false}[strings.TrimSpace(v)]
			if !ok {
				return Settings{}, bad(`"true" or "false"`, map[string]string{AnnotationIgnore: "true", AnnotationRollback: "false"}[k])
			}
			if k == AnnotationIgnore {
				s.Ignore = b
			} else {
				s.NoRollback = !b
			}
		default:
			fix := "fix its name or remove it"
			if safeKey().MatchString(k) {
				fix += fmt.Sprintf(" with `kubectl annotate %s -n %s %s-`", ref, namespace, k)
			}
			return Settings{}, fault.Invalidf("%s in namespace %s: unknown annotation %s; the gate reads %s, %s, %s, %s and %s: %s",
				ref, namespace, quoted(k), AnnotationTimeout, AnnotationCrashTolerance, AnnotationSoak, AnnotationIgnore, AnnotationRollback, fix)
		}
	}
	return s, nil
}

// safeKey is an annotation key as the API server accepts it: safe to show inside a command.
// Compiled on first use: its bounded repetition costs milliseconds, at every start otherwise.
var safeKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,316}$`) })

// quoted shows a value from the cluster as a short Go-quoted string: never a control character
// or a line break, never a page of text.
func quoted(s string) string {
	const maxLen = 64
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen]) + "…"
	}
	return strconv.Quote(s)
}
