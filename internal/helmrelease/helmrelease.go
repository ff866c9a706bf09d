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
	"sort"
	"strconv"
	"strings"

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
const MaxReleaseJSON = 64 << 20

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
	data    string
}

// Current reads the release's current revision: the highest version among its stored
// revisions, whatever its status (the caller decides what a pending or failed one means).
// A release that is not there is a fault.Invalid error naming it, its namespace and how to list
// the releases; an uninstalled one too.
func Current(ctx context.Context, c client.Interface, namespace, name string, drivers []string) (*Release, error) {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return nil, fault.Invalidf("--helm-release %q: not a valid release name (%s)", name, errs[0])
	}
	sel := labels.Set{"owner": "helm", "name": name}.AsSelector().String()
	for _, d := range drivers {
		revs, err := list(ctx, c, d, namespace, sel)
		if err != nil {
			return nil, err
		}
		if len(revs) == 0 {
			continue
		}
		top := revs[0]
		r, err := Decode([]byte(top.data))
		if err != nil {
			return nil, fault.Invalidf("helm release %s -n %s: %s %s: %v; the stored revision is damaged, check it with `helm history %s -n %s`",
				name, namespace, strings.TrimSuffix(d, "s"), top.name, err, name, namespace)
		}
		if r.Name != name {
			return nil, fault.Invalidf("helm release %s -n %s: %s %s holds release %q; it is not one of Helm's revisions of %s",
				name, namespace, strings.TrimSuffix(d, "s"), top.name, r.Name, name)
		}
		if r.Version == 0 {
			r.Version = top.version
		}
		if r.Namespace == "" {
			r.Namespace = namespace
		}
		r.Driver = d
		if r.Info.Status == StatusUninstalled || r.Info.Status == StatusUninstalling {
			return nil, fault.Invalidf("helm release %s -n %s: revision %d is %s, so nothing is left to gate; install it again, or check `helm history %s -n %s`",
				name, namespace, r.Version, r.Info.Status, name, namespace)
		}
		return r, nil
	}
	where := "Secrets"
	if len(drivers) == 1 && drivers[0] == "configmaps" {
		where = "ConfigMaps (HELM_DRIVER=configmap)"
	} else if len(drivers) == 2 {
		where = "Secrets or ConfigMaps"
	}
	return nil, fault.Invalidf("helm release %s not found in namespace %s (no %s labelled owner=helm,name=%s); check the name and namespace with `helm list -n %s`, and that `helm upgrade --install` ran before the gate",
		name, namespace, where, name, namespace)
}

// list returns the stored revisions of one driver, highest version first.
func list(ctx context.Context, c client.Interface, driver, namespace, sel string) ([]stored, error) {
	var out []stored
	opts := metav1.ListOptions{LabelSelector: sel}
	switch driver {
	case "secrets":
		l, err := c.CoreV1().Secrets(namespace).List(ctx, opts)
		if err != nil {
			return nil, kube.Explain(err, fmt.Sprintf("list the Helm release Secrets -n %s -l %s", namespace, sel), "list", secretsGR)
		}
		for _, s := range l.Items {
			if s.Type != secretType {
				continue
			}
			if v, ok := version(s.ObjectMeta); ok {
				out = append(out, stored{name: s.Name, version: v, data: string(s.Data["release"])})
			}
		}
	case "configmaps":
		l, err := c.CoreV1().ConfigMaps(namespace).List(ctx, opts)
		if err != nil {
			return nil, kube.Explain(err, fmt.Sprintf("list the Helm release ConfigMaps -n %s -l %s", namespace, sel), "list", configMapsGR)
		}
		for _, cm := range l.Items {
			if v, ok := version(cm.ObjectMeta); ok {
				out = append(out, stored{name: cm.Name, version: v, data: cm.Data["release"]})
			}
		}
	default:
		return nil, fmt.Errorf("unknown Helm storage driver %q", driver)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version > out[j].version })
	return out, nil
}

// version is the revision number of a stored object, from its version label, checked against
// its name (sh.helm.release.v1.NAME.vN): objects that are not Helm's own are ignored.
func version(m metav1.ObjectMeta) (int, bool) {
	v, err := strconv.Atoi(m.Labels["version"])
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, m.Name == fmt.Sprintf("%s.%s.v%d", storageType, m.Labels["name"], v)
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
	return &r, nil
}
