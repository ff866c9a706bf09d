// Command execcred is a client-go exec credential plugin for the e2e tests: it prints an
// ExecCredential holding the ServiceAccount token in -token-file, the way `aws eks get-token` or
// `gke-gcloud-auth-plugin` print theirs; with -fail it fails as an expired cloud login does.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	tokenFile := flag.String("token-file", "", "file holding the bearer token")
	fail := flag.String("fail", "", "write this on stderr and exit 1, as a plugin whose login expired")
	flag.Parse()
	if *fail != "" {
		fmt.Fprintln(os.Stderr, *fail)
		os.Exit(1)
	}
	// client-go passes the request in KUBERNETES_EXEC_INFO; answer in its API version.
	var info struct {
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal([]byte(os.Getenv("KUBERNETES_EXEC_INFO")), &info); err != nil || info.APIVersion == "" {
		fmt.Fprintln(os.Stderr, "execcred: KUBERNETES_EXEC_INFO is not set: run me as a kubeconfig exec plugin")
		os.Exit(1)
	}
	token, err := os.ReadFile(*tokenFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "execcred: %v\n", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{
		"apiVersion": info.APIVersion,
		"kind":       "ExecCredential",
		"status":     map[string]string{"token": strings.TrimSpace(string(token))},
	})
	fmt.Println(string(out))
}
