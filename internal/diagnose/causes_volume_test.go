package diagnose

import "testing"

// The kubelet's FailedMount messages, as v1.34 writes them, read against the volumes of the
// missing-volume fixture: tmp (emptyDir), tls (secret web-tls, items tls.crt and tls.key), cfg
// (configMap app-config, item app.yaml), creds (projected: token, secret db-creds, configMap
// ca-bundle).
func TestParseMountFailure(t *testing.T) {
	t.Parallel()
	fx := loadFixture(t, "missing-volume")
	tests := []struct {
		msg   string
		field string // the source found; "" when the message is not about a missing object or key
		kind  string
		name  string
		key   string
	}{
		{`MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found`, "spec.volumes[1]", kindSecret, "web-tls", ""},
		{`MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found`, "spec.volumes[2]", kindConfigMap, "app-config", ""},
		{`MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found`, "spec.volumes[3].projected.sources[1]", kindSecret, "db-creds", ""},
		{`MountVolume.SetUp failed for volume "creds" : configmap "ca-bundle" not found`, "spec.volumes[3].projected.sources[2]", kindConfigMap, "ca-bundle", ""},
		{`MountVolume.SetUp failed for volume "creds" : [secret "db-creds" not found, configmap "ca-bundle" not found]`, "spec.volumes[3].projected.sources[1]", kindSecret, "db-creds", ""},
		{`MountVolume.SetUp failed for volume "tls" : references non-existent secret key: tls.key`, "spec.volumes[1]", kindSecret, "web-tls", "tls.key"},
		{`MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: app.yaml`, "spec.volumes[2]", kindConfigMap, "app-config", "app.yaml"},
		{`MountVolume.SetUp failed for volume "tls" : couldn't find key tls.key in Secret production/web-tls`, "spec.volumes[1]", kindSecret, "web-tls", "tls.key"},
		{`pod api-6c9f8-k2x7p: a volume cannot be mounted for more than 8s: MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found`, "spec.volumes[1]", kindSecret, "web-tls", ""},
		// Not a missing object or key, or not a volume that has one.
		{`MountVolume.SetUp failed for volume "cfg" : failed to sync configmap cache: timed out waiting for the condition`, "", "", "", ""},
		{`Unable to attach or mount volumes: unmounted volumes=[tls], unattached volumes=[tmp tls cfg creds]: timed out waiting for the condition`, "", "", "", ""},
		{`MountVolume.SetUp failed for volume "tmp" : mkdir /var/lib/kubelet/pods/x: no space left on device`, "", "", "", ""},
		{`MountVolume.SetUp failed for volume "tls" : secret "other" not found`, "", "", "", ""},
		{`MountVolume.SetUp failed for volume "data" : secret "web-tls" not found`, "", "", "", ""},
	}
	for _, tc := range tests {
		ev := &evidence{Namespace: "production"}
		p, _, ok := parseMountFailure(ev, &fx.pods[0], tc.msg)
		if ok != (tc.field != "") {
			t.Errorf("parseMountFailure(%q) ok = %t, want %t", tc.msg, ok, tc.field != "")
			continue
		}
		if ok && (p.Src.field() != tc.field || p.Src.Kind != tc.kind || p.Src.Name != tc.name || p.Key != tc.key) {
			t.Errorf("parseMountFailure(%q) = %s %s %s key %q, want %s %s %s key %q", tc.msg, p.Src.field(), p.Src.Kind, p.Src.Name, p.Key, tc.field, tc.kind, tc.name, tc.key)
		}
	}
}
