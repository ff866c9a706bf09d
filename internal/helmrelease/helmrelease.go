// Package helmrelease reads a Helm release's current revision from where Helm stores it in the
// cluster, so that --helm-release NAME can gate every resource the release rendered.
//
// Why not the Helm SDK (helm.sh/helm/v4 v4.3.1): the gate needs one thing from Helm, the
// rendered manifest of the newest revision, and Helm's storage format for it is small, stable and
// versioned in the object itself (type helm.sh/release.v1, unchanged since Helm 3). Measured with
// `go build -ldflags='-s -w' ./cmd/gate`, reading through the SDK's pkg/storage and
// pkg/storage/driver took the binary from 83.8 MB to 86.5 MB (+2.7 MB) and linked 37 more
// packages, among them the SQL driver's Postgres client, sqlx, gorp, sql-migrate and the
// standard "testing" package; go.mod gained Helm and 13 upgraded dependencies (logr, x/text,
// protobuf, kyaml, ...), which would then move whenever Helm moves. The SDK's decodeRelease also
// reads the gzip stream without a bound; here the decompressed size is capped (MaxReleaseJSON).
//
// The format, as Helm 4's pkg/storage/driver (util.go, secrets.go, cfgmaps.go) writes it: each
// revision is one object named sh.helm.release.v1.NAME.vN in the release's namespace, labelled
// owner=helm, name=NAME, status=STATUS, version=N. The Secrets driver (Helm's default) stores it
// as a Secret of type helm.sh/release.v1 whose data key "release" holds base64 text (so the
// API's JSON carries it base64 twice); the ConfigMap driver (HELM_DRIVER=configmap) stores the
// same base64 text under the ConfigMap's data key "release". The base64 decodes to gzip (or, for
// releases written before Helm compressed them, to plain JSON) of the release: name, namespace,
// version, info.status, manifest (the rendered templates, each preceded by "# Source: PATH") and
// hooks (each with its own path and manifest).
package helmrelease

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube"
	"github.com/rollout-gate/rollout-gate/internal/kube/client"
)

// MaxReleaseJSON bounds the decompressed release. A release object is at most 1 MiB in etcd,
// but gzip expands up to about 1000 times: without a bound, a hostile object could make the gate
// allocate gigabytes. Helm's own releases (the chart's files included) stay far below this.
const MaxReleaseJSON = 32 << 20

// MaxDocuments bounds the YAML documents of one revision (manifest and hooks together): a few
// hundred kilobytes of "---" lines gzip into a record that would otherwise make the gate parse a
// million empty documents. Real charts render tens to hundreds.
const MaxDocuments = 10000

// Helm's release statuses (pkg/release/common).
const (
	StatusDeployed        = "deployed"
	StatusFailed          = "failed"
	StatusSuperseded      = "superseded"
	StatusUninstalled     = "uninstalled"
	StatusUninstalling    = "uninstalling"
	StatusPendingInstall  = "pending-install"
	StatusPendingUpgrade  = "pending-upgrade"
	StatusPendingRollback = "pending-rollback"
)

// Release is what the gate reads of one stored revision.
type Release struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Version   int    `json:"version"`
	Info      struct {
		Status      string `json:"status"`
		Description string `json:"description"`
	} `json:"info"`
	// Manifest is the rendered chart, one document per resource, each after "# Source: PATH".
	Manifest string `json:"manifest"`
	Hooks    []Hook `json:"hooks"`
	// Driver is where it was found: "secrets" or "configmaps".
	Driver string `json:"-"`
	// Newest is the highest version stored when the release was read, whatever its status: Helm's
	// rollback goes from that one (storage.Last), so a rollback checks it has not moved since.
	Newest int `json:"-"`
	// Ignored says, one line each, which stored objects that looked like this release's were not
	// read, and why: they do not follow Helm's storage conventions (a planted record, most likely).
	Ignored []string `json:"-"`
}

// Hook is one of the release's hooks (helm.sh/hook resources), rendered but applied by Helm
// around the install or upgrade rather than with the manifest.
type Hook struct {
	Name           string   `json:"name"`
	Kind           string   `json:"kind"`
	Path           string   `json:"path"`
	Manifest       string   `json:"manifest"`
	Events         []string `json:"events"`
	DeletePolicies []string `json:"delete_policies"`
	LastRun        struct {
		Phase string `json:"phase"`
	} `json:"last_run"`
}

// Ran reports whether Helm ran the hook during this revision's operation: Helm stores each
// revision's hooks afresh and sets last_run only on the ones it executed.
func (h Hook) Ran() bool { return h.LastRun.Phase != "" && h.LastRun.Phase != "Unknown" }

// Pending reports whether Helm had not finished the operation when it stored this revision: it is
// still running, or it was killed half-way (helm then refuses the next upgrade until the release
// is rolled back).
func (r *Release) Pending() bool { return strings.HasPrefix(r.Info.Status, "pending-") }

// Drivers maps HELM_DRIVER's values, as Helm reads them, to the storage the gate reads. Empty
// means Helm's default (Secrets), then ConfigMaps when no Secret holds the release.
func Drivers(helmDriver string) ([]string, error) {
	switch strings.ToLower(strings.TrimSpace(helmDriver)) {
	case "":
		return []string{"secrets", "configmaps"}, nil
	case "secret", "secrets":
		return []string{"secrets"}, nil
	case "configmap", "configmaps":
		return []string{"configmaps"}, nil
	default:
		return nil, fault.Invalidf("HELM_DRIVER=%q: the gate reads releases stored in Secrets (Helm's default) or ConfigMaps; "+
			"the memory and sql drivers keep them outside the cluster's objects; unset HELM_DRIVER or set it to secret or configmap", helmDriver)
	}
}

// storageType is the prefix of every stored revision's name; secretType is the type of the
// Secrets the default driver writes.
const (
	storageType                   = "sh.helm.release.v1"
	secretType  corev1.SecretType = "helm.sh/release.v1"
)

var (
	secretsGR    = schema.GroupResource{Resource: "secrets"}
	configMapsGR = schema.GroupResource{Resource: "configmaps"}
)

// stored is one revision as found, before decoding.
type stored struct {
	name    string
	version int
	status  string
	data    string
}

// Current reads the release's current revision in namespace, by Helm's own rule: the highest
// version among the revisions whose status is deployed or pending-*, else the highest version of
// all (a first install that failed). Whoever can create a Secret in the namespace can plant a
// record, so a record is read only when it follows Helm's storage conventions: its object name,
// its owner, name, status and version labels, and the release inside (name, namespace, version,
// status) all agree; others are ignored and listed in Release.Ignored. A release that is not there
// is a fault.Invalid error naming it, its namespace and how to list the releases; an uninstalled
// one too, and a damaged or oversized record, named.
func Current(ctx context.Context, c client.Interface, namespace, name string, drivers []string) (*Release, error) {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return nil, fault.Invalidf("--helm-release %q: not a valid release name (%s)", name, errs[0])
	}
	sel := labels.Set{"owner": "helm", "name": name}.AsSelector().String()
	var ignored []string
	for _, d := range drivers {
		revs, bad, err := list(ctx, c, d, namespace, sel)
		if err != nil {
			return nil, err
		}
		ignored = append(ignored, bad...)
		kind := strings.TrimSuffix(d, "s")
		if err := oneDeployed(revs, kind, namespace, name); err != nil {
			return nil, err
		}
		for _, top := range byHelmRule(revs) {
			if why := gap(top, revs); why != "" {
				ignored = append(ignored, fmt.Sprintf("%s %s: %s", kind, top.name, why))
				continue
			}
			r, err := Decode([]byte(top.data))
			if err != nil {
				return nil, fault.Invalidf("helm release %s -n %s: %s %s: %v; the stored revision is damaged or not Helm's, check it with `helm history %s -n %s`",
					name, namespace, kind, top.name, err, name, namespace)
			}
			if why := mismatch(r, top, namespace, name); why != "" {
				ignored = append(ignored, fmt.Sprintf("%s %s: %s", kind, top.name, why))
				continue
			}
			r.Version, r.Namespace, r.Driver, r.Ignored, r.Newest = top.version, namespace, d, ignored, newest(revs)
			neutralise(r)
			if r.Info.Status == StatusUninstalled || r.Info.Status == StatusUninstalling {
				return nil, fault.Invalidf("helm release %s -n %s: revision %d is %s, so nothing is left to gate; install it again, or check `helm history %s -n %s`",
					name, namespace, r.Version, r.Info.Status, name, namespace)
			}
			return r, nil
		}
	}
	where := "Secrets"
	if len(drivers) == 1 && drivers[0] == "configmaps" {
		where = "ConfigMaps (HELM_DRIVER=configmap)"
	} else if len(drivers) == 2 {
		where = "Secrets or ConfigMaps"
	}
	extra := ""
	if len(ignored) > 0 {
		extra = fmt.Sprintf("; ignored, not Helm's: %s", strings.Join(ignored, "; "))
	}
	return nil, fault.Invalidf("helm release %s not found in namespace %s (no %s labelled owner=helm,name=%s%s); check the name and namespace with `helm list -n %s`, and that `helm upgrade --install` ran before the gate",
		name, namespace, where, name, extra, namespace)
}

// byHelmRule orders the revisions as Helm picks the current one: deployed and pending-* first,
// each group highest version first.
func byHelmRule(revs []stored) []stored {
	live := func(s stored) bool { return s.status == StatusDeployed || strings.HasPrefix(s.status, "pending-") }
	out := slices.Clone(revs)
	sort.SliceStable(out, func(i, j int) bool {
		if li, lj := live(out[i]), live(out[j]); li != lj {
			return li
		}
		return out[i].version > out[j].version
	})
	return out
}

// oneDeployed refuses a release with more than one revision labelled deployed: Helm supersedes
// the previous revision when it deploys the next, so a second one is a planted record (or a
// release Helm itself left broken), and either way the gate cannot tell which one is current.
func oneDeployed(revs []stored, kind, namespace, name string) error {
	var names []string
	for _, r := range revs {
		if r.status == StatusDeployed {
			names = append(names, r.name)
		}
	}
	if len(names) < 2 {
		return nil
	}
	sort.Strings(names)
	return fault.Invalidf("helm release %s -n %s: %d revisions are labelled deployed (%s %s); Helm keeps one, so all but one are not Helm's: compare them with `helm history %s -n %s` and delete the stray %s",
		name, namespace, len(names), kind, strings.Join(names, ", "), name, namespace, kind)
}

// gap says why a revision cannot be Helm's next one: Helm numbers each revision one above the
// highest stored, so a version more than one above the next lower revision was not written by it.
func gap(top stored, revs []stored) string {
	below := 0
	for _, r := range revs {
		if r.version < top.version {
			below = max(below, r.version)
		}
	}
	if below > 0 && top.version > below+1 {
		return fmt.Sprintf("version %d skips from version %d; Helm numbers revisions one after another", top.version, below)
	}
	return ""
}

// mismatch says how a decoded record disagrees with its object's name and labels or with the
// release asked for, "" when it agrees.
func mismatch(r *Release, s stored, namespace, name string) string {
	switch {
	case r.Name != name:
		return fmt.Sprintf("holds release %q, not %s", neutral(r.Name), name)
	case r.Namespace != "" && r.Namespace != namespace:
		return fmt.Sprintf("holds a release of namespace %q, not %s", neutral(r.Namespace), namespace)
	case r.Version != 0 && r.Version != s.version:
		return fmt.Sprintf("holds version %d but is labelled version %d", r.Version, s.version)
	case r.Info.Status != s.status:
		return fmt.Sprintf("holds status %q but is labelled status %q", neutral(r.Info.Status), s.status)
	}
	return ""
}

// list returns the stored revisions of one driver, and one line for each object that carries the
// release's labels but not Helm's conventions.
func list(ctx context.Context, c client.Interface, driver, namespace, sel string) ([]stored, []string, error) {
	var out []stored
	var bad []string
	opts := metav1.ListOptions{LabelSelector: sel}
	switch driver {
	case "secrets":
		l, err := c.CoreV1().Secrets(namespace).List(ctx, opts)
		if err != nil {
			return nil, nil, kube.Explain(err, fmt.Sprintf("list the Helm release Secrets -n %s -l %s", namespace, sel), "list", secretsGR)
		}
		for _, s := range l.Items {
			if s.Type != secretType {
				bad = append(bad, fmt.Sprintf("secret %s: type %q, not %s", neutral(s.Name), neutral(string(s.Type)), secretType))
				continue
			}
			if v, why := conventional(s.ObjectMeta); why != "" {
				bad = append(bad, "secret "+neutral(s.Name)+": "+why)
			} else {
				out = append(out, stored{name: s.Name, version: v, status: s.Labels["status"], data: string(s.Data["release"])})
			}
		}
	case "configmaps":
		l, err := c.CoreV1().ConfigMaps(namespace).List(ctx, opts)
		if err != nil {
			return nil, nil, kube.Explain(err, fmt.Sprintf("list the Helm release ConfigMaps -n %s -l %s", namespace, sel), "list", configMapsGR)
		}
		for _, cm := range l.Items {
			if v, why := conventional(cm.ObjectMeta); why != "" {
				bad = append(bad, "configmap "+neutral(cm.Name)+": "+why)
			} else {
				out = append(out, stored{name: cm.Name, version: v, status: cm.Labels["status"], data: cm.Data["release"]})
			}
		}
	default:
		return nil, nil, fmt.Errorf("unknown Helm storage driver %q", driver)
	}
	return out, bad, nil
}

// conventional is the revision number of a stored object, from its version label, checked against
// its name (sh.helm.release.v1.NAME.vN) and its status label (one of Helm's statuses); why says
// what is wrong with an object that is not Helm's own.
func conventional(m metav1.ObjectMeta) (int, string) {
	v, err := strconv.Atoi(m.Labels["version"])
	if err != nil || v <= 0 {
		return 0, fmt.Sprintf("version label %q is not a revision number", neutral(m.Labels["version"]))
	}
	if want := fmt.Sprintf("%s.%s.v%d", storageType, m.Labels["name"], v); m.Name != want {
		return 0, fmt.Sprintf("its name is not %s", want)
	}
	if !knownStatus[m.Labels["status"]] {
		return 0, fmt.Sprintf("status label %q is not one of Helm's", neutral(m.Labels["status"]))
	}
	return v, ""
}

var knownStatus = map[string]bool{
	StatusDeployed: true, StatusFailed: true, StatusSuperseded: true, StatusUninstalled: true, StatusUninstalling: true,
	StatusPendingInstall: true, StatusPendingUpgrade: true, StatusPendingRollback: true, "unknown": true,
}

// neutral makes a field of a stored release safe to print: control and format characters (escape
// sequences, bidi overrides) become "?", and it is cut short.
func neutral(s string) string {
	const maxLen = 128
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen]) + "…"
	}
	return s
}

// neutralise applies neutral to every field of a release that the gate may print.
func neutralise(r *Release) {
	r.Name, r.Namespace, r.Info.Status, r.Info.Description = neutral(r.Name), neutral(r.Namespace), neutral(r.Info.Status), neutral(r.Info.Description)
	for i := range r.Hooks {
		h := &r.Hooks[i]
		h.Name, h.Kind, h.Path, h.LastRun.Phase = neutral(h.Name), neutral(h.Kind), neutral(h.Path), neutral(h.LastRun.Phase)
		for j := range h.Events {
			h.Events[j] = neutral(h.Events[j])
		}
		for j := range h.DeletePolicies {
			h.DeletePolicies[j] = neutral(h.DeletePolicies[j])
		}
	}
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// errTooLarge is returned when the decompressed release passes MaxReleaseJSON.
var errTooLarge = fmt.Errorf("the release decompresses to more than %d MiB", MaxReleaseJSON>>20)

// Decode reads one stored revision's "release" value: base64 of gzip of the release's JSON, or
// base64 of the JSON itself for releases stored before Helm compressed them.
func Decode(data []byte) (*Release, error) {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(raw, bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	raw = raw[:n]
	if bytes.HasPrefix(raw, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		raw, err = io.ReadAll(io.LimitReader(zr, MaxReleaseJSON+1))
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
	}
	if len(raw) > MaxReleaseJSON {
		return nil, errTooLarge
	}
	var r Release
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("parse the release JSON: %w", err)
	}
	if r.Name == "" {
		return nil, errors.New("the release has no name")
	}
	if n := documents(&r); n > MaxDocuments {
		return nil, fmt.Errorf("the release holds more than %d YAML documents (%d); no chart renders that many", MaxDocuments, n)
	}
	return &r, nil
}

// documents counts the YAML documents of the manifest and the hooks, as their separators.
func documents(r *Release) int {
	n := 1 + strings.Count(r.Manifest, "---")
	for _, h := range r.Hooks {
		n += 1 + strings.Count(h.Manifest, "---")
	}
	return n
}
