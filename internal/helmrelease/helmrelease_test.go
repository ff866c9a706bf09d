package helmrelease

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// encode writes a release as Helm's encodeRelease does: JSON, gzip, base64.
func encode(t *testing.T, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return gz(t, js)
}

func gz(t *testing.T, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func rel(name string, version int, status string) map[string]any {
	return map[string]any{
		"name": name, "namespace": "shop", "version": version,
		"info":     map[string]any{"status": status, "description": "Upgrade complete"},
		"manifest": "---\n# Source: shop/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n",
		"hooks": []any{map[string]any{"name": "migrate", "kind": "Job", "path": "shop/templates/migrate.yaml",
			"events": []string{"pre-upgrade"}, "last_run": map[string]any{"phase": "Succeeded"}}},
		"chart": map[string]any{"metadata": map[string]any{"name": "shop"}},
	}
}

func TestDecode(t *testing.T) {
	good := rel("shop", 3, StatusDeployed)
	plain, _ := json.Marshal(good)
	// Spaces compress about a thousand times: a few dozen KiB that would inflate past the bound.
	bomb := gz(t, bytes.Repeat([]byte(" "), MaxReleaseJSON+1))
	for _, tc := range []struct {
		name, data string
		wantErr    string
		wantHook   bool
	}{
		{name: "gzip, as Helm stores it", data: encode(t, good), wantHook: true},
		{name: "plain JSON, stored before Helm compressed", data: base64.StdEncoding.EncodeToString(plain), wantHook: true},
		{name: "corrupt base64", data: "H4sI!!!not-base64", wantErr: "decode base64"},
		{name: "gzip header, corrupt body", data: base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7}), wantErr: "gunzip"},
		{name: "gzip bomb", data: bomb, wantErr: "decompresses to more than"},
		{name: "not JSON", data: gz(t, []byte("apiVersion: v1")), wantErr: "parse the release JSON"},
		{name: "no name", data: encode(t, map[string]any{"version": 1}), wantErr: "no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decode([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != "shop" || r.Version != 3 || r.Info.Status != StatusDeployed || !strings.Contains(r.Manifest, "# Source: shop/templates/deploy.yaml") {
				t.Fatalf("decoded %+v", r)
			}
			if tc.wantHook && (len(r.Hooks) != 1 || r.Hooks[0].Path != "shop/templates/migrate.yaml" || !r.Hooks[0].Ran()) {
				t.Fatalf("hooks %+v", r.Hooks)
			}
		})
	}
}

func secret(t *testing.T, name string, version int, status string, data string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, version), Namespace: "shop",
			Labels: map[string]string{"owner": "helm", "name": name, "status": status, "version": strconv.Itoa(version)}},
		Type: "helm.sh/release.v1",
		// The API's JSON carries this base64 again; Data holds it decoded once, as Helm wrote it.
		Data: map[string][]byte{"release": []byte(data)},
	}
}

func configMap(t *testing.T, name string, version int, status string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, version), Namespace: "shop",
			Labels: map[string]string{"owner": "helm", "name": name, "status": status, "version": strconv.Itoa(version)}},
		Data: map[string]string{"release": encode(t, rel(name, version, status))},
	}
}

func TestCurrent(t *testing.T) {
	for _, tc := range []struct {
		name       string
		objects    func(t *testing.T) []runtime.Object
		helmDriver string
		release    string
		forbid     string // a resource whose list is forbidden
		wantVer    int
		wantStatus string
		wantDriver string
		wantCode   int
		wantErr    []string
		// wantIgnored is part of the warning about an ignored record; wantHookEvent the first
		// hook's first event as the gate will print it.
		wantIgnored, wantHookEvent string
	}{
		{name: "highest revision wins over older deployed ones", release: "shop", wantVer: 3, wantStatus: StatusDeployed, wantDriver: "secrets",
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{
					secret(t, "shop", 1, StatusSuperseded, encode(t, rel("shop", 1, StatusSuperseded))),
					secret(t, "shop", 3, StatusDeployed, encode(t, rel("shop", 3, StatusDeployed))),
					secret(t, "shop", 2, StatusSuperseded, encode(t, rel("shop", 2, StatusSuperseded))),
					secret(t, "other", 9, StatusDeployed, encode(t, rel("other", 9, StatusDeployed))),
				}
			}},
		{name: "a pending upgrade is the current revision", release: "shop", wantVer: 2, wantStatus: StatusPendingUpgrade, wantDriver: "secrets",
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{
					secret(t, "shop", 1, StatusDeployed, encode(t, rel("shop", 1, StatusDeployed))),
					secret(t, "shop", 2, StatusPendingUpgrade, encode(t, rel("shop", 2, StatusPendingUpgrade))),
				}
			}},
		{name: "objects that are not Helm's are ignored", release: "shop", wantVer: 1, wantStatus: StatusDeployed, wantDriver: "secrets",
			wantIgnored: "secret not-helms: its name is not sh.helm.release.v1.shop.v7\nsecret sh.helm.release.v1.shop.v8: type \"Opaque\"",
			objects: func(t *testing.T) []runtime.Object {
				forged := secret(t, "shop", 7, StatusDeployed, encode(t, rel("shop", 7, StatusDeployed)))
				forged.Name = "not-helms"
				opaque := secret(t, "shop", 8, StatusDeployed, encode(t, rel("shop", 8, StatusDeployed)))
				opaque.Type = corev1.SecretTypeOpaque
				return []runtime.Object{forged, opaque, secret(t, "shop", 1, StatusDeployed, encode(t, rel("shop", 1, StatusDeployed)))}
			}},
		{name: "ConfigMap driver, found without HELM_DRIVER", release: "shop", wantVer: 2, wantStatus: StatusDeployed, wantDriver: "configmaps",
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{configMap(t, "shop", 1, StatusSuperseded), configMap(t, "shop", 2, StatusDeployed)}
			}},
		{name: "HELM_DRIVER=configmap reads ConfigMaps only", release: "shop", helmDriver: "configmap", forbid: "secrets", wantVer: 1, wantStatus: StatusDeployed, wantDriver: "configmaps",
			objects: func(t *testing.T) []runtime.Object { return []runtime.Object{configMap(t, "shop", 1, StatusDeployed)} }},
		{name: "HELM_DRIVER=secret does not look in ConfigMaps", release: "shop", helmDriver: "secret", wantCode: fault.ExitInvalid,
			wantErr: []string{"helm release shop not found in namespace shop", "helm list -n shop"},
			objects: func(t *testing.T) []runtime.Object { return []runtime.Object{configMap(t, "shop", 1, StatusDeployed)} }},
		{name: "unknown release", release: "nope", wantCode: fault.ExitInvalid,
			wantErr: []string{"helm release nope not found in namespace shop", "owner=helm,name=nope", "`helm list -n shop`"},
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 1, StatusDeployed, encode(t, rel("shop", 1, StatusDeployed)))}
			}},
		{name: "uninstalled", release: "shop", wantCode: fault.ExitInvalid, wantErr: []string{"revision 2 is uninstalled"},
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 2, StatusUninstalled, encode(t, rel("shop", 2, StatusUninstalled)))}
			}},
		{name: "corrupt current revision", release: "shop", wantCode: fault.ExitInvalid,
			wantErr: []string{"secret sh.helm.release.v1.shop.v2", "decode base64", "helm history shop -n shop"},
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{
					secret(t, "shop", 1, StatusSuperseded, encode(t, rel("shop", 1, StatusSuperseded))),
					secret(t, "shop", 2, StatusDeployed, "%%%"),
				}
			}},
		{name: "a revision holding another release", release: "shop", wantCode: fault.ExitInvalid, wantErr: []string{`holds release "evil"`},
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 1, StatusDeployed, encode(t, rel("evil", 1, StatusDeployed)))}
			}},
		// Issue 20: records planted by whoever can create a Secret in the namespace.
		{name: "a planted v6 whose release is another namespace's is ignored", release: "shop", wantVer: 5, wantStatus: StatusDeployed, wantDriver: "secrets",
			wantIgnored: "sh.helm.release.v1.shop.v6: holds a release of namespace \"kube-system\"",
			objects: func(t *testing.T) []runtime.Object {
				planted := rel("shop", 6, StatusPendingUpgrade)
				planted["namespace"] = "kube-system"
				return []runtime.Object{secret(t, "shop", 5, StatusDeployed, encode(t, rel("shop", 5, StatusDeployed))),
					secret(t, "shop", 6, StatusPendingUpgrade, encode(t, planted))}
			}},
		{name: "a planted v999 that skips revisions is ignored", release: "shop", wantVer: 5, wantStatus: StatusPendingUpgrade, wantDriver: "secrets",
			wantIgnored: "version 999 skips from version 5",
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 4, StatusDeployed, encode(t, rel("shop", 4, StatusDeployed))),
					secret(t, "shop", 5, StatusPendingUpgrade, encode(t, rel("shop", 5, StatusPendingUpgrade))),
					secret(t, "shop", 999, StatusPendingUpgrade, encode(t, rel("shop", 999, StatusPendingUpgrade)))}
			}},
		{name: "a planted second deployed revision stops the gate", release: "shop", wantCode: fault.ExitInvalid,
			wantErr: []string{"2 revisions are labelled deployed", "sh.helm.release.v1.shop.v5", "sh.helm.release.v1.shop.v6"},
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 5, StatusDeployed, encode(t, rel("shop", 5, StatusDeployed))),
					secret(t, "shop", 6, StatusDeployed, encode(t, rel("shop", 6, StatusDeployed)))}
			}},
		{name: "labels that disagree with the release are ignored", release: "shop", wantVer: 1, wantStatus: StatusSuperseded, wantDriver: "secrets",
			wantIgnored: "holds status \"failed\" but is labelled status \"deployed\"",
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 1, StatusSuperseded, encode(t, rel("shop", 1, StatusSuperseded))),
					secret(t, "shop", 2, StatusDeployed, encode(t, rel("shop", 2, StatusFailed)))}
			}},
		{name: "a failed first install is still current", release: "shop", wantVer: 1, wantStatus: StatusFailed, wantDriver: "secrets",
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 1, StatusFailed, encode(t, rel("shop", 1, StatusFailed)))}
			}},
		{name: "deployed wins over a higher failed revision", release: "shop", wantVer: 2, wantStatus: StatusDeployed, wantDriver: "secrets",
			objects: func(t *testing.T) []runtime.Object {
				return []runtime.Object{secret(t, "shop", 2, StatusDeployed, encode(t, rel("shop", 2, StatusDeployed))),
					secret(t, "shop", 3, StatusFailed, encode(t, rel("shop", 3, StatusFailed)))}
			}},
		{name: "a record of a million documents is refused, named", release: "shop", wantCode: fault.ExitInvalid,
			wantErr: []string{"secret sh.helm.release.v1.shop.v1", "more than 10000 YAML documents"},
			objects: func(t *testing.T) []runtime.Object {
				bomb := rel("shop", 1, StatusDeployed)
				bomb["manifest"] = strings.Repeat("---\n", 1<<20)
				return []runtime.Object{secret(t, "shop", 1, StatusDeployed, encode(t, bomb))}
			}},
		{name: "an escape sequence in a release field is neutralised", release: "shop", wantVer: 1, wantStatus: StatusDeployed, wantDriver: "secrets",
			wantHookEvent: "pre-upgrade?[2J",
			objects: func(t *testing.T) []runtime.Object {
				r := rel("shop", 1, StatusDeployed)
				r["hooks"].([]any)[0].(map[string]any)["events"] = []string{"pre-upgrade\x1b[2J"}
				return []runtime.Object{secret(t, "shop", 1, StatusDeployed, encode(t, r))}
			}},
		{name: "Secrets forbidden", release: "shop", forbid: "secrets", wantCode: fault.ExitCannotEvaluate, wantErr: []string{"secrets"},
			objects: func(t *testing.T) []runtime.Object { return nil }},
		{name: "sql driver", release: "shop", helmDriver: "sql", wantCode: fault.ExitInvalid, wantErr: []string{`HELM_DRIVER="sql"`, "secret or configmap"},
			objects: func(t *testing.T) []runtime.Object { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset(tc.objects(t)...)
			if tc.forbid != "" {
				cs.PrependReactor("list", tc.forbid, func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: tc.forbid}, "", fmt.Errorf("RBAC"))
				})
			}
			r, err := func() (*Release, error) {
				drivers, err := Drivers(tc.helmDriver)
				if err != nil {
					return nil, err
				}
				return Current(context.Background(), kubetest.Wrap(cs), "shop", tc.release, drivers)
			}()
			if tc.wantCode != 0 {
				if err == nil {
					t.Fatalf("got release %+v, want an error", r)
				}
				if got := fault.Code(err); got != tc.wantCode {
					t.Errorf("exit code %d, want %d (%v)", got, tc.wantCode, err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != tc.wantVer || r.Info.Status != tc.wantStatus || r.Driver != tc.wantDriver || r.Namespace != "shop" {
				t.Fatalf("got version %d status %s driver %s ns %s, want %d %s %s", r.Version, r.Info.Status, r.Driver, r.Namespace, tc.wantVer, tc.wantStatus, tc.wantDriver)
			}
			if got := strings.Join(r.Ignored, "\n"); (tc.wantIgnored == "") != (got == "") || !strings.Contains(got, tc.wantIgnored) {
				t.Errorf("ignored %q, want it to say %q", got, tc.wantIgnored)
			}
			if tc.wantHookEvent != "" && r.Hooks[0].Events[0] != tc.wantHookEvent {
				t.Errorf("hook event %q, want %q", r.Hooks[0].Events[0], tc.wantHookEvent)
			}
		})
	}
}
