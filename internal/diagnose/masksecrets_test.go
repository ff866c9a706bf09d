package diagnose

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/mask"
	"github.com/rollout-gate/rollout-gate/internal/report"
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
	m := newMasker([]*corev1.PodSpec{spec}, secrets)
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
		// A second pass over an assignment it masked leaves it whole (seen on the cluster as
		// "UNREADABLE=[secret UNREADABLE redacted] UNREADABLE redacted]").
		{"UNREADABLE=[secret UNREADABLE redacted]", "UNREADABLE=[secret UNREADABLE redacted]"},
		{`UNREADABLE: "[secret UNREADABLE redacted]"`, `UNREADABLE: "[secret UNREADABLE redacted]"`},
		{"UNREADABLE=[secret-ish hunter2", "UNREADABLE=[secret UNREADABLE redacted] hunter2"},
	}
	for _, tc := range tests {
		if got := m.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range tests {
		if once, twice := m.Mask(tc.in), m.Mask(m.Mask(tc.in)); once != twice {
			t.Errorf("Mask is not idempotent on %q: %q then %q", tc.in, once, twice)
		}
	}
	if got := m.Mask("not-referenced-by-key"); got != "not-referenced-by-key" {
		t.Errorf("a key no env var reads is not received by the pod through env: got %q", got)
	}
	var nilMasker *mask.Masker
	if nilMasker.Mask("x") != "x" {
		t.Error("nil masker must pass text through")
	}
}

// tokenMasker masks one Secret value, received by env TOKEN.
func tokenMasker(value []byte) *mask.Masker {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "TOKEN", ValueFrom: secretRef("s", "k")}}}}}
	return newMasker([]*corev1.PodSpec{spec}, map[string]*corev1.Secret{"s": {Data: map[string][]byte{"k": value}}})
}

// A Secret only the live pod names (injected by a webhook) is masked too.
func TestMaskerLivePodSpec(t *testing.T) {
	t.Parallel()
	template := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}
	live := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "VAULT_TOKEN", ValueFrom: secretRef("injected", "t")}}}}}
	m := newMasker([]*corev1.PodSpec{template, live}, map[string]*corev1.Secret{"injected": {Data: map[string][]byte{"t": []byte("hvs.injected-123")}}})
	if got := m.Mask("token hvs.injected-123"); got != "token [secret VAULT_TOKEN redacted]" {
		t.Errorf("got %q", got)
	}
}

// Credential-named literals are masked by value, as both template diffs mask them.
func TestMaskerSensitiveLiteral(t *testing.T) {
	t.Parallel()
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "literal-pw-1"}, {Name: "MODE", Value: "literal-mode"}}}}}
	m := newMasker([]*corev1.PodSpec{spec}, nil)
	if got := m.Mask("pw literal-pw-1 mode literal-mode"); got != "pw [secret DB_PASSWORD redacted] mode literal-mode" {
		t.Errorf("got %q", got)
	}
}

// sealed is res as a report shows it: through the report boundary with its own masker, as
// package app applies it to the finished row.
func sealed(res Result) Result {
	w := report.Workload{Pods: res.Pods, Findings: res.Findings, Changes: res.Changes, Events: res.Events, Timeline: res.Timeline}
	report.Redact(&w, res.Mask)
	res.Pods, res.Findings, res.Changes, res.Events, res.Timeline = w.Pods, w.Findings, w.Changes, w.Events, w.Timeline
	return res
}

// TestCutLogLineMasksTheSecretsStart is issue 20's leak: the log read stopped inside a secret
// (its byte limit), and the fragment left at the line's end was shown. The masker sees the
// secret's first characters at the end of the cut line; a line that was not cut keeps its text.
func TestCutLogLineMasksTheSecretsStart(t *testing.T) {
	t.Parallel()
	m := tokenMasker([]byte("s3cr3t-Pa55word"))
	tests := []struct {
		name, raw string
		want      []string
	}{
		{name: "cut inside the secret", raw: "2026-04-04T08:15:01Z starting\n2026-04-04T08:15:02Z password s3cr3t-Pa55w",
			want: []string{"starting", "password [secret TOKEN redacted]"}},
		{name: "cut after four characters", raw: "login s3cr", want: []string{"login [secret TOKEN redacted]"}},
		{name: "three characters are not a secret's start", raw: "login s3c", want: []string{"login s3c"}},
		{name: "a whole line is not cut", raw: "password s3cr3t-Pa55w\n", want: []string{"password s3cr3t-Pa55w"}},
		{name: "whole values are masked everywhere", raw: "a s3cr3t-Pa55word b\npassword s3cr3t-Pa55word",
			want: []string{"a [secret TOKEN redacted] b", "password [secret TOKEN redacted]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := &evidence{mask: m, Logs: map[string]logTail{"api": parseLog([]byte(tt.raw), true, 50)}}
			maskLogs(ev)
			if got := ev.Logs["api"].Lines; strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
		})
	}
}
