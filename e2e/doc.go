// Package e2e holds the end-to-end tests of rollout-gate. They need a real cluster and carry the
// `e2e` build tag: `make test-e2e` brings the local cluster up and runs
// `go test -tags e2e ./e2e/...` with KUBECONFIG set. See e2e/framework for the harness and
// e2e/testapp for the app the tests deploy.
package e2e
