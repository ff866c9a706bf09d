# rollout-gate. `make test` is what CI runs (.ci/run): unit tests, then the e2e suite on a local
# cluster, then cluster-down. The e2e tests carry the `e2e` build tag, so `go test ./...` skips them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Go is preinstalled at /usr/local/go on the CI machines, not always on PATH.
export PATH := $(PATH)$(if $(shell command -v go),,:/usr/local/go/bin)

E2E_TIMEOUT ?= 60m
# The e2e tests mostly wait on the cluster: run more of them at once than there are cores (the
# probe scenarios run one batch of a dozen at a time).
E2E_FLAGS ?= -parallel 12

.PHONY: help cluster-up cluster-down images test test-unit test-e2e test-versions fuzz

help:
	@echo "make cluster-up    bring up the e2e cluster (kind if Docker works, else local; needs root); prints the kubeconfig last"
	@echo "make cluster-down  tear it down (safe to repeat)"
	@echo "make images        build the test app and pause images (docker-archive tarballs)"
	@echo "make test-unit     go build ./..., go test ./... and make fuzz"
	@echo "make fuzz          each fuzz target for about 5 s of inputs (FUZZTIME=60s for longer) on top of its corpus"
	@echo "make test-e2e      cluster-up, then go test -tags e2e ./e2e/... with KUBECONFIG set"
	@echo "make test          test-unit, test-e2e, then cluster-down whatever happened; keeps the tests' exit status"
	@echo "make test-versions the probe and diagnose e2e scenarios on each other Kubernetes version (KUBE_VERSIONS,"
	@echo "                   default v1.37.2): swaps the cluster to it under the e2e lock, then back to v1.34.4"
	@echo "make demo        SCENARIO=bad-env|missing-secret|oom|liveness|dependency|init|image: a broken v2 and the gate"
	@echo "make bench        gate latency and apply → verdict over 10 crash loops, against kubectl rollout status"
	@echo "make bench-healthy the gate and kubectl rollout status side by side on healthy Deployments (no probes,"
	@echo "                   fast probes, the API's default probes); RUNS=2, LOAD=1 with every core busy"
	@echo "make bench-startup process start → first progress line and → exit (RUNS=20)"
	@echo "make bench-peers   rollout-gate, kubedog, helm --wait and kubectl rollout status side by side on the same"
	@echo "                   rollouts (PEERS_SCENARIOS=a,b PEERS_TIMEOUT=180s); writes the table to docs/benchmarks.md"
	@echo "make kwok-up       10 simulated kwok nodes (room for 11,000 pods) on the cluster; idempotent"
	@echo "make kwok-down     delete the kwok nodes and their pods, stop kwok (never touches the real node)"
	@echo "make bench-scale   W=1000 R=10 N=20: W Deployments × R replicas over N namespaces on the kwok nodes,"
	@echo "                   one gate run: verdict latency healthy and crash-looping, diagnosis, RSS, CPU, API requests"

cluster-up:
	@hack/cluster-up.sh

cluster-down:
	@hack/cluster-down.sh

images:
	@hack/images.sh

test-unit:
	@hack/test-packages.sh
	go build ./...
	go test ./...
	$(MAKE) --no-print-directory fuzz

# make fuzz: each fuzz target on top of its checked-in corpus (testdata/fuzz/), for a number of
# inputs sized to about 5 s here (targets differ a thousandfold in speed). A count, not a duration:
# with -fuzztime 5s, Go 1.26's fuzz coordinator can fail a run with a bare "context deadline
# exceeded" when a worker is mid-input at the deadline (go.dev/issue/75804, fixed in Go 1.27).
# FUZZTIME=60s (or 100000x) sets one budget for every target. Findings land in
# testdata/fuzz/<Target>/ and fail the run: commit them with the fix.
FUZZTIME ?=
FUZZ_TARGETS := \
	./internal/diagnose:FuzzFixCommands:300x \
	./internal/mask:FuzzMasker:100000x \
	./internal/report:FuzzMarkdown:3000x \
	./internal/report:FuzzText:8000x \
	./internal/target:FuzzManifest:4000x

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${FUZZTIME:-$${rest#*:}}; \
		echo "go test -run '^$$' -fuzz '^$$name\$$' -fuzztime $$budget $$pkg"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget $$pkg || exit 1; \
	done

# The Helm tests run a real Helm 4, and the Argo Rollouts tests the real rollouts-controller, each
# built once into the cache by hack/tools.sh (a few minutes the first time, nothing after).
test-e2e:
	@hack/test-packages.sh; \
	kubeconfig=$$(hack/cluster-up.sh | tail -n1); \
	helm=$$(hack/tools.sh helm); \
	argo=$$(nice -n 10 hack/tools.sh argo-rollouts); \
	echo "KUBECONFIG=$$kubeconfig ROLLOUT_GATE_HELM=$$helm ROLLOUT_GATE_ARGO_ROLLOUTS=$$argo go test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) $(E2E_FLAGS) ./e2e/..."; \
	KUBECONFIG=$$kubeconfig ROLLOUT_GATE_HELM=$$helm ROLLOUT_GATE_ARGO_ROLLOUTS=$$argo go test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) $(E2E_FLAGS) ./e2e/...

# make test-versions [KUBE_VERSIONS="v1.37.2 v1.36.3"]: make test runs the default version
# (hack/cluster-lib.sh); this runs the probe and diagnose scenarios on the others, swapping the
# shared cluster under the e2e lock and always back (hack/test-versions.sh).
test-versions:
	@hack/test-versions.sh

# The first failure's exit status wins; cluster-down runs even when a test step failed.
test:
	@rc=0; \
	$(MAKE) --no-print-directory test-unit || rc=$$?; \
	$(MAKE) --no-print-directory test-e2e || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	$(MAKE) --no-print-directory cluster-down || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	exit $$rc

SCENARIO ?= bad-env
ACTIONLINT ?= go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: demo lint bench bench-healthy bench-startup bench-peers kwok-up kwok-down bench-scale

# make demo [SCENARIO=bad-env|missing-secret|oom|liveness|dependency|init|image]: cluster-up, shop-api
# v1, a broken v2, the gate with --rollback; writes report.md and report.json here.
demo:
	@SCENARIO=$(SCENARIO) hack/demo.sh

# actionlint checks the workflows and, through `uses: ./`, action.yml's inputs and branding (and
# the run: scripts with shellcheck when it is on PATH); then go vet.
lint:
	$(ACTIONLINT)
	go vet ./...

# make test checks the workflows first.
test: lint


# make bench: gate latency and apply → verdict over 10 crash-loop runs, side by side with
# `kubectl rollout status` on the same manifest (that run lasts the 600 s progress deadline).
bench:
	@kubeconfig=$$($(MAKE) --no-print-directory -s cluster-up | tail -n1) && \
	go run ./e2e/cmd/bench -kubeconfig "$$kubeconfig"

# make bench-healthy [RUNS=2 LOAD=1]: the gate and `kubectl rollout status` started together on
# healthy Deployments of 2 replicas, with no probes, fast probes and the API's default probes
# (hack/bench-healthy.sh); prints the table of issue 24. Not part of make test.
bench-healthy:
	@kubeconfig=$${KUBECONFIG:-$$($(MAKE) --no-print-directory -s cluster-up | tail -n1)} && \
	KUBECONFIG=$$kubeconfig hack/bench-healthy.sh

# make bench-startup [RUNS=20]: process start → first progress line and → exit of the gate on a
# healthy Deployment, min/median/p90 (hack/bench-startup.sh; pass binaries to compare builds).
bench-startup:
	@kubeconfig=$${KUBECONFIG:-$$($(MAKE) --no-print-directory -s cluster-up | tail -n1)} && \
	KUBECONFIG=$$kubeconfig hack/bench-startup.sh

# make bench-peers: rollout-gate, `kubedog rollout track`, `helm upgrade --install --wait` and
# `kubectl rollout status`, each with its defaults and the same timeout, at the same time on the
# same rollouts (e2e/cmd/peers); kubedog and Helm are built once into the cache by hack/tools.sh.
# Prints the table and writes it to docs/benchmarks.md. Not part of make test.
PEERS_TIMEOUT ?= 180s
PEERS_SCENARIOS ?=
bench-peers:
	@kubeconfig=$$($(MAKE) --no-print-directory -s cluster-up | tail -n1) && \
	kubedog=$$(hack/tools.sh kubedog) && helm=$$(hack/tools.sh helm) && \
	go run ./e2e/cmd/peers -kubeconfig "$$kubeconfig" -kubedog "$$kubedog" -helm "$$helm" \
		-timeout $(PEERS_TIMEOUT) -scenarios "$(PEERS_SCENARIOS)" -out docs/benchmarks.md

# make kwok-up / kwok-down: simulated nodes for bench-scale (hack/kwok.sh): kwok, built once into
# the cache, runs in the background against the cluster of $KUBECONFIG (else the local cluster's).
kwok-up:
	@hack/kwok.sh up

kwok-down:
	@hack/kwok.sh down

# make bench-scale [W=1000 R=10 N=20]: W Deployments × R replicas over N namespaces on the kwok
# nodes, one gate run over all of them, healthy then with a share crash-looping (e2e/cmd/scale).
# Prints figures; not part of make test. Needs make kwok-up.
W ?= 1000
R ?= 10
N ?= 20
bench-scale: kwok-up
	@KUBECONFIG=$${KUBECONFIG:-/var/lib/rollout-gate-cluster/admin.kubeconfig} && \
	go run ./e2e/cmd/scale -kubeconfig "$$KUBECONFIG" -workloads $(W) -replicas $(R) -namespaces $(N)
