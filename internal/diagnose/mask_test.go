package diagnose

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func secretRef(name, key string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}
}

func TestMasker(t *testing.T) {
	t.Parallel()
	pem := "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
	spec := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Env: []corev1.EnvVar{{Name: "MIGRATE_TOKEN", ValueFrom: secretRef("init", "token")}}}},
		Containers: []corev1.Container{{
			Name: "api",
			Env: []corev1.EnvVar{
				{Name: "DB_PASSWORD", ValueFrom: secretRef("db", "password")},
				{Name: "PIN", ValueFrom: secretRef("db", "pin")},
				{Name: "UNREADABLE", ValueFrom: secretRef("forbidden", "x")},
				{Name: "LOG_LEVEL", Value: "debug"},
			},
			EnvFrom: []corev1.EnvFromSource{{Prefix: "APP_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "tokens"}}}},
		}},
		Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls"}}}},
	}
	secrets := map[string]*corev1.Secret{
		"db":     {ObjectMeta: metav1.ObjectMeta{Name: "db"}, Data: map[string][]byte{"password": []byte("s3cur3P@ss!"), "pin": []byte("ab"), "unused": []byte("not-referenced-by-key")}},
		"tokens": {ObjectMeta: metav1.ObjectMeta{Name: "tokens"}, Data: map[string][]byte{"API_KEY": []byte("tok_live_9f8e7d")}},
		"tls":    {ObjectMeta: metav1.ObjectMeta{Name: "tls"}, StringData: map[string]string{"tls.key": pem}},
		"init":   {ObjectMeta: metav1.ObjectMeta{Name: "init"}, Data: map[string][]byte{"token": []byte("init-token-123")}},
	}
	m := newMasker(spec, secrets)
	tests := []struct{ in, want string }{
		{"login with s3cur3P@ss! failed", "login with [secret DB_PASSWORD redacted] failed"},
		{"auth czNjdXIzUEBzcyE=", "auth [secret DB_PASSWORD redacted]"}, // base64 of the password
		{"key tok_live_9f8e7d", "key [secret APP_API_KEY redacted]"},    // envFrom, with its prefix
		{"DB_PASSWORD=s3cur3P@ss! PIN=ab", "DB_PASSWORD=[secret DB_PASSWORD redacted] PIN=[secret PIN redacted]"},
		{`invalid value for PIN: "ab"`, `invalid value for PIN: [secret PIN redacted]`},
		{"ab is too short to mask on its own: about, cab", "ab is too short to mask on its own: about, cab"},
		{"UNREADABLE=hunter2", "UNREADABLE=[secret UNREADABLE redacted]"}, // value unknown: masked by name
		{"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "[secret tls.key redacted]"}, // one line of a PEM
		{"migrating with init-token-123", "migrating with [secret MIGRATE_TOKEN redacted]"},
		{"LOG_LEVEL=debug", "LOG_LEVEL=debug"}, // literal config is not a secret
		{"DB_PASSWORD is not set", "DB_PASSWORD is not set"},
		{"already [secret DB_PASSWORD redacted]", "already [secret DB_PASSWORD redacted]"},
	}
	for _, tc := range tests {
		if got := m.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	if got := m.Mask("not-referenced-by-key"); got != "not-referenced-by-key" {
		t.Errorf("a key no env var reads is not received by the pod through env: got %q", got)
	}
	var nilMasker *masker
	if nilMasker.Mask("x") != "x" {
		t.Error("nil masker must pass text through")
	}
}

func TestMaskerLongestFirst(t *testing.T) {
	t.Parallel()
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{
		{Name: "SHORT", ValueFrom: secretRef("s", "a")},
		{Name: "LONG", ValueFrom: secretRef("s", "b")},
	}}}}
	m := newMasker(spec, map[string]*corev1.Secret{"s": {Data: map[string][]byte{"a": []byte("secret"), "b": []byte("secret-extended")}}})
	if got := m.Mask("x secret-extended y"); got != "x [secret LONG redacted] y" {
		t.Errorf("got %q: the longer value must be masked whole", got)
	}
	if strings.Contains(m.Mask("secret"), "secret ") && !strings.Contains(m.Mask("secret"), "[secret SHORT redacted]") {
		t.Errorf("short value not masked: %q", m.Mask("secret"))
	}
}
