package kube

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
)

// DebugAPIEnv turns on the count of API requests: with ROLLOUT_GATE_DEBUG_API=1 the gate prints
// its requests by verb and resource on stderr at exit, to show that they grow with namespaces
// and kinds, not with pods (make bench-scale reads the table).
const DebugAPIEnv = "ROLLOUT_GATE_DEBUG_API"

// RequestCounter counts the requests that pass through the round-trippers it wraps.
type RequestCounter struct {
	mu     sync.Mutex
	counts map[requestKey]int
}

type requestKey struct{ verb, resource string }

// NewRequestCounter returns an empty counter.
func NewRequestCounter() *RequestCounter {
	return &RequestCounter{counts: map[requestKey]int{}}
}

// Wrap counts each request before passing it on; it has the shape of rest.Config.Wrap's argument.
func (c *RequestCounter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		verb, resource := describe(r.Method, r.URL.Path, r.URL.Query().Get("watch"))
		c.mu.Lock()
		c.counts[requestKey{verb, resource}]++
		c.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// WriteTable writes the counts, most frequent first, with their total.
func (c *RequestCounter) WriteTable(w io.Writer) {
	c.mu.Lock()
	keys := make([]requestKey, 0, len(c.counts))
	total := 0
	for k, n := range c.counts {
		keys = append(keys, k)
		total += n
	}
	counts := func(k requestKey) int { return c.counts[k] }
	slices.SortFunc(keys, func(a, b requestKey) int {
		if d := counts(b) - counts(a); d != 0 {
			return d
		}
		return strings.Compare(a.verb+" "+a.resource, b.verb+" "+b.resource)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "API requests\tverb\tresource\t\n")
	for _, k := range keys {
		fmt.Fprintf(tw, "%d\t%s\t%s\t\n", counts(k), k.verb, k.resource)
	}
	fmt.Fprintf(tw, "%d\ttotal\t\t\n", total)
	c.mu.Unlock()
	_ = tw.Flush()
}

// describe names a request as the API server's audit log would: its verb (get, list, watch,
// create, update, patch, delete) and its resource (group/resource[/subresource]), from the URL
// path alone: /api/v1/namespaces/NS/pods/NAME/log, /apis/apps/v1/deployments, ...
func describe(method, path, watch string) (verb, resource string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return strings.ToLower(method), path // discovery (/api, /apis, /version)
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		parts = parts[2:] // a namespaced resource, not the namespace itself
	}
	if len(parts) == 0 {
		return strings.ToLower(method), "discovery " + group
	}
	resource = parts[0]
	named := len(parts) >= 2
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	if group != "" {
		resource = group + "/" + resource
	}
	switch {
	case method == http.MethodGet && (watch == "true" || watch == "1"):
		verb = "watch"
	case method == http.MethodGet && named:
		verb = "get"
	case method == http.MethodGet:
		verb = "list"
	case method == http.MethodPost:
		verb = "create"
	case method == http.MethodPut:
		verb = "update"
	case method == http.MethodPatch:
		verb = "patch"
	case method == http.MethodDelete:
		verb = "delete"
	default:
		verb = strings.ToLower(method)
	}
	return verb, resource
}
