package watch

import "testing"

// The messages are the kubelet's, the scheduler's, the API server's and the cluster autoscaler's
// as they arrive in a waiting state, a PodScheduled condition or a ReplicaFailure condition.
func TestClassifyMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
		want finality
	}{
		// Final: only a change clears them.
		{"image tag not found", `rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.99.99": failed to resolve reference "docker.io/library/nginx:1.99.99": docker.io/library/nginx:1.99.99: not found`, final},
		{"manifest unknown", `failed to pull and unpack image "127.0.0.1:5000/api:v9": failed to resolve reference "127.0.0.1:5000/api:v9": 127.0.0.1:5000/api:v9: not found: manifest unknown: manifest unknown`, final},
		{"unauthorized", `failed to pull and unpack image "ghcr.io/acme/api:v2": failed to resolve reference "ghcr.io/acme/api:v2": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token: 401 Unauthorized`, final},
		{"denied", `failed to pull and unpack image "registry.example.com/api:v2": failed to resolve reference: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`, final},
		{"registry host does not resolve", `failed to pull and unpack image "registry.invalid/api:v2": failed to resolve reference "registry.invalid/api:v2": failed to do request: Head "https://registry.invalid/v2/api/manifests/v2": dial tcp: lookup registry.invalid on 10.200.0.1:53: no such host`, final},
		{"invalid reference", `Failed to apply default image tag "Registry/API:v2": couldn't parse image name "Registry/API:v2": invalid reference format: repository name must be lowercase`, final},
		{"LimitRange", `pods "api-7d4b9c-x2k9p" is forbidden: maximum memory usage per Container is 256Mi, but limit is 1Gi`, final},
		{"LimitRange ratio", `pods "api-7d4b9c-x2k9p" is forbidden: memory max limit to request ratio per Container is 2, but provided ratio is 4.000000`, final},
		{"PodSecurity", `pods "api-7d4b9c-x2k9p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`, final},
		{"admission webhook", `admission webhook "validate.kyverno.svc-fail" denied the request: resource Pod/production/api-7d4b9c-x2k9p was blocked`, final},
		{"missing PVC", `0/1 nodes are available: persistentvolumeclaim "claims-data" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`, final},
		{"unknown StorageClass", `storageclass.storage.k8s.io "fast-ssd" not found`, final},
		{"autoscaler will not add a node", `pod didn't trigger scale-up: 2 node(s) didn't match Pod's node affinity/selector, 1 max node group size reached`, final},

		// Transient: a retry, another rollout ending or a new node may clear them.
		{"registry timeout", `failed to pull and unpack image "registry.example.com/api:v2": failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://registry.example.com/v2/...": dial tcp 10.0.0.7:443: i/o timeout`, transient},
		{"DNS timeout is not a missing host", `failed to do request: Head "https://registry.example.com/v2/api/manifests/v2": dial tcp: lookup registry.example.com on 10.200.0.1:53: read udp 10.200.0.1:41234->10.200.0.1:53: i/o timeout`, transient},
		{"registry refused", `failed to do request: Head "https://127.0.0.1:5000/v2/api/manifests/v2": dial tcp 127.0.0.1:5000: connect: connection refused`, transient},
		{"registry 5xx", `failed to resolve reference "registry.example.com/api:v2": unexpected status from HEAD request to https://registry.example.com/v2/api/manifests/v2: 503 Service Unavailable`, transient},
		{"rate limit", `failed to pull and unpack image "docker.io/library/nginx:1.27": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:0a1b: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.`, transient},
		{"quota", `pods "api-7d4b9c-x2k9p" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1800m, limited: requests.cpu=2`, transient},
		{"autoscaler adding a node", `pod triggered scale-up: [{eks-workers-2c1 2->3 (max: 10)}]`, transient},
		{"Secret cache syncing", `failed to sync secret cache: timed out waiting for the condition`, transient},

		// Undecided: the rule's own default (the grace).
		{"insufficient cpu", `0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`, undecided},
		{"missing ServiceAccount may be applied next", `pods "api-7d4b9c-x2k9p" is forbidden: error looking up service account production/api: serviceaccount "api" not found`, undecided},
		{"sandbox error", `failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name`, undecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, why := classifyMessage(tt.msg)
			if got != tt.want {
				t.Errorf("classifyMessage = %s (%s), want %s", got, why, tt.want)
			}
			if got != undecided && why == "" {
				t.Errorf("a decided message says no why")
			}
		})
	}
}
