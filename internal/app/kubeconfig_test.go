package app

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

// tokenKubeconfig is a self-contained kubeconfig for server, with a token.
func tokenKubeconfig(server, token string) string {
	return "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: '" + server + "', insecure-skip-tls-verify: true}}]\n" +
		"contexts: [{name: c, context: {cluster: c, user: ci-deployer}}]\ncurrent-context: c\nusers: [{name: ci-deployer, user: {token: " + token + "}}]\n"
}

// execKubeconfig is a kubeconfig whose user runs command for its credentials.
func execKubeconfig(server, command string) string {
	return "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: '" + server + "', insecure-skip-tls-verify: true}}]\n" +
		"contexts: [{name: c, context: {cluster: c, user: eks-user}}]\ncurrent-context: c\n" +
		"users: [{name: eks-user, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: '" + command + "', args: [eks, get-token, --cluster-name, prod], " +
		"env: [{name: AWS_SECRET_ACCESS_KEY, value: wJalrXUtnFEMIK7MDENG}], interactiveMode: Never}}}]\n"
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Each way the kubeconfig can be missing has its own message: which file, where its name came
// from, and what to do; in the container action, a runner path says that the container cannot
// see it and gives the two ways out.
func TestKubeconfigFileMessages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good"), tokenKubeconfig("https://127.0.0.1:1", "t0ken"))
	empty := writeFile(t, filepath.Join(dir, "empty"), "")
	missing := filepath.Join(dir, "missing")
	actions := map[string]string{"GITHUB_ACTIONS": "true"}
	tests := []struct {
		name        string
		o           Options
		env         map[string]string
		inContainer bool
		want        []string // in the message; nil: no error
		notWant     []string
	}{
		{"flag, missing", Options{Kubeconfig: missing}, nil, false,
			[]string{"kubeconfig from --kubeconfig: " + missing + " does not exist", "give the path of the kubeconfig file"}, []string{"container"}},
		{"input, empty", Options{Kubeconfig: empty}, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_KUBECONFIG": empty}, false,
			[]string{"kubeconfig from the kubeconfig input: " + empty + " is empty", "an unset secret"}, nil},
		{"flag, a folder", Options{Kubeconfig: dir}, nil, false, []string{dir + " is a folder"}, nil},
		{"$KUBECONFIG list with one good file", Options{}, map[string]string{"KUBECONFIG": missing + ":" + good}, false, nil, nil},
		{"$KUBECONFIG, all missing", Options{}, map[string]string{"KUBECONFIG": missing + ":" + missing + "2"}, false,
			[]string{"kubeconfig from $KUBECONFIG: " + missing + " does not exist; " + missing + "2 does not exist", "set KUBECONFIG to"}, nil},
		{"default path", Options{}, map[string]string{"HOME": dir}, false,
			[]string{"kubeconfig from the default path (~/.kube/config; no --kubeconfig and no $KUBECONFIG): " + filepath.Join(dir, ".kube", "config") + " does not exist", "kubeconfig-data"}, nil},
		{"default path missing in a pod: its ServiceAccount, as kubectl", Options{}, map[string]string{"HOME": dir, "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, false, nil, nil},
		{"container: runner path from $KUBECONFIG", Options{}, map[string]string{"GITHUB_ACTIONS": "true", "KUBECONFIG": "/home/runner/.kube/config"}, true,
			[]string{"kubeconfig from $KUBECONFIG: /home/runner/.kube/config does not exist in the container action: it is a runner path",
				"${{ runner.temp }}/kubeconfig", "rollout-gate/rollout-gate/setup@v1"}, nil},
		{"container: old runner's RUNNER_TEMP path", Options{Kubeconfig: "/home/runner/work/_temp/kubeconfig"}, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_KUBECONFIG": "/home/runner/work/_temp/kubeconfig"}, true,
			[]string{"kubeconfig from the kubeconfig input: /home/runner/work/_temp/kubeconfig does not exist in the container action: it is a runner path"}, nil},
		{"container: missing under RUNNER_TEMP is only missing", Options{Kubeconfig: "/github/runner_temp/kubeconfig"}, actions, true,
			[]string{"/github/runner_temp/kubeconfig does not exist"}, []string{"runner path"}},
		{"kubeconfig-data needs no file", Options{KubeconfigData: "x"}, nil, false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &credentials{getenv: envOf(tt.env), inContainer: tt.inContainer}
			err := c.checkFiles(c.source(&tt.o))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || fault.Code(err) != fault.ExitInvalid {
				t.Fatalf("err %v (exit %d), want exit 2", err, fault.Code(err))
			}
			wantMessage(t, err, tt.want, tt.notWant)
		})
	}
}

// wantMessage checks that the error err tells the user every one of want and none of notWant:
// the file and the preflight messages are held to the same words both ways.
func wantMessage(t *testing.T, err error, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message lacks %q:\n%s", w, err)
		}
	}
	for _, w := range notWant {
		if strings.Contains(err.Error(), w) {
			t.Errorf("message has %q:\n%s", w, err)
		}
	}
}

// kubeconfig-data is read plain or base64, and a bad one never echoes its content.
func TestParseKubeconfigData(t *testing.T) {
	t.Parallel()
	kc := tokenKubeconfig("https://k8s.example:6443", "sekrit-token-123")
	b64 := base64.StdEncoding.EncodeToString([]byte(kc))
	tests := []struct {
		name, data, wantErr string
	}{
		{"plain", kc, ""},
		{"base64", b64, ""},
		{"base64 wrapped at 76 columns", b64[:76] + "\n" + b64[76:] + "\n", ""},
		{"not YAML, quoting a secret", "users: [sekrit-token-123: {\n", "not a kubeconfig (it is not valid YAML at line"},
		{"YAML, not a kubeconfig", "hello: world\n", "names no cluster or no context"},
	}
	for _, tt := range tests {
		cfg, err := parseKubeconfigData(tt.data)
		if tt.wantErr == "" {
			if err != nil || cfg.AuthInfos["ci-deployer"].Token != "sekrit-token-123" {
				t.Errorf("%s: %v, want the token kubeconfig", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s: err %v, want %q and no secret", tt.name, err, tt.wantErr)
		}
	}
	got := KubeconfigSecrets(b64)
	if len(got) != 2 || got[0] != b64 || got[1] != "sekrit-token-123" {
		t.Errorf("KubeconfigSecrets = %q, want the content and the token", got)
	}
}

// A plugin that is not installed is named with its user entry, and the fix depends on where the
// gate runs.
func TestMissingPluginMessage(t *testing.T) {
	t.Parallel()
	cfg := &rest.Config{Host: "https://eks.example", ExecProvider: &clientcmdapi.ExecConfig{Command: "aws", Args: []string{"eks", "get-token"}}}
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	for _, tt := range []struct {
		inContainer bool
		want        []string
	}{
		{false, []string{`the kubeconfig's user "eks-user" gets its credentials from the exec plugin "aws" (` + "`aws eks get-token`" + `)`, "not installed on this machine", "ServiceAccount token"}},
		{true, []string{`exec plugin "aws"`, "does not exist inside the container action", "rollout-gate/rollout-gate/setup@v1", "kubeconfig-data"}},
	} {
		c := &credentials{getenv: envOf(nil), lookPath: notFound, inContainer: tt.inContainer}
		err := c.checkPlugin(cfg, "eks-user")
		if fault.Code(err) != fault.ExitInvalid {
			t.Fatalf("err %v, want exit 2", err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("container=%v: message lacks %q:\n%s", tt.inContainer, w, err)
			}
		}
	}
	found := &credentials{lookPath: func(string) (string, error) { return "/usr/bin/aws", nil }}
	if err := found.checkPlugin(cfg, "eks-user"); err != nil {
		t.Errorf("installed plugin: %v", err)
	}
}

// The first request tells credentials and permissions from the network, against a real HTTP
// server and client-go's own exec plugin runner.
func TestPreflightMessages(t *testing.T) {
	t.Parallel()
	status := func(code int, reason string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"` + reason + `","code":` + strconv.Itoa(code) + `}`))
		}
	}
	unauthorized := httptest.NewTLSServer(status(401, "Unauthorized"))
	t.Cleanup(unauthorized.Close)
	forbidden := httptest.NewTLSServer(status(403, "Forbidden"))
	t.Cleanup(forbidden.Close)
	ok := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"major":"1","minor":"37"}`))
	}))
	t.Cleanup(ok.Close)

	dir := t.TempDir()
	failing := writeFile(t, filepath.Join(dir, "bin", "aws"), "#!/bin/sh\n"+
		"echo \"An error occurred (ExpiredToken) when calling the AssumeRole operation; key $AWS_SECRET_ACCESS_KEY\" >&2\n"+
		"echo 'token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlc2ln' >&2\nexit 255\n")
	silent := writeFile(t, filepath.Join(dir, "bin", "silent"), "#!/bin/sh\necho '{}'\n")

	tests := []struct {
		name, kubeconfig string
		code             int
		want             []string
		notWant          []string
	}{
		{"good token", tokenKubeconfig(ok.URL, "t0ken"), 0, nil, nil},
		{"401 is credentials", tokenKubeconfig(unauthorized.URL, "t0ken"), fault.ExitCannotEvaluate,
			[]string{"credentials: the API server at " + unauthorized.URL + ` rejected the credentials of the kubeconfig's user "ci-deployer" (401 Unauthorized)`, "not a network problem", "kubectl create token"},
			[]string{"cannot reach"}},
		{"403 is permissions", tokenKubeconfig(forbidden.URL, "t0ken"), fault.ExitCannotEvaluate,
			[]string{`permissions: the API server at ` + forbidden.URL + ` knows the kubeconfig's user "ci-deployer"`, "403 Forbidden", "deploy/rbac.yaml"},
			[]string{"cannot reach"}},
		{"failing plugin shows its stderr, masked", execKubeconfig(ok.URL, failing), fault.ExitCannotEvaluate,
			[]string{`credentials: the exec plugin "` + failing + `" of the kubeconfig's user "eks-user"`, "exit code 255", "no request reached the API server",
				"An error occurred (ExpiredToken) when calling the AssumeRole operation; key [secret env AWS_SECRET_ACCESS_KEY redacted]",
				"token: [secret", "aws-actions/configure-aws-credentials"},
			[]string{"wJalrXUtnFEMIK7MDENG", "eyJhbGciOiJSUzI1NiJ9", "cannot reach"}},
		{"plugin without a credential", execKubeconfig(ok.URL, silent), fault.ExitCannotEvaluate,
			[]string{`the exec plugin "` + silent + `"`, "failed", "it wrote nothing on stderr"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, filepath.Join(t.TempDir(), "config"), tt.kubeconfig)
			c, err := Connect(&Options{Kubeconfig: path}, envOf(map[string]string{"PATH": os.Getenv("PATH")}))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Preflight(context.Background())
			if fault.Code(err) != tt.code {
				t.Fatalf("err %v (exit %d), want exit %d", err, fault.Code(err), tt.code)
			}
			wantMessage(t, err, tt.want, tt.notWant)
		})
	}
}

// kubeconfig-data reaches the server with its token; with a file as well, it is refused.
func TestConnectWithKubeconfigData(t *testing.T) {
	t.Parallel()
	var auth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		_, _ = w.Write([]byte(`{"major":"1"}`))
	}))
	defer srv.Close()
	data := base64.StdEncoding.EncodeToString([]byte(tokenKubeconfig(srv.URL, "data-token")))
	c, err := Connect(&Options{KubeconfigData: data}, envOf(nil))
	if err != nil || c.Namespace != "default" {
		t.Fatalf("Connect: %v (cluster %+v)", err, c)
	}
	if err := c.Preflight(context.Background()); err != nil || auth != "Bearer data-token" {
		t.Errorf("preflight %v, Authorization %q", err, auth)
	}
	_, err = Connect(&Options{KubeconfigData: data, Kubeconfig: "/x"}, envOf(nil))
	if fault.Code(err) != fault.ExitInvalid || !strings.Contains(err.Error(), "give one") {
		t.Errorf("both given: %v", err)
	}
	_, err = Connect(&Options{KubeconfigData: "users: [x"}, envOf(map[string]string{"GITHUB_ACTIONS": "true", "INPUT_KUBECONFIG-DATA": "users: [x"}))
	if fault.Code(err) != fault.ExitInvalid || !strings.Contains(err.Error(), "the kubeconfig-data input: not a kubeconfig") {
		t.Errorf("bad data: %v", err)
	}
}
