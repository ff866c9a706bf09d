// Package githubtest is the test kit for everything that talks to GitHub Actions: a fake GitHub
// REST API in the style of cli/cli's pkg/httpmock (a registry of stubs that fails the test on a
// request no stub matches and on a stub never used, and can assert request bodies), and the
// runner's side of a step (the event payload and the GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files,
// parsed back as the runner reads them). The unit tests of internal/github and the e2e tests
// share it; only tests may import it (internal/contract holds that).
package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
)

// TB is the part of testing.TB the kit needs; its own tests pass a recorder.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Prefix is the API root path the fake serves under, as GitHub Enterprise Server has it and as
// the runner sets GITHUB_API_URL there: it proves the client keeps the root of the URL it is given.
const Prefix = "/api/v3"

// API is a fake GitHub REST API. Each stub matches one request by method, path (without the API
// root) and, optionally, query, and is used once; stubs for the same request answer in the order
// they were registered. Every request must carry the token as a bearer. A request no stub matches
// fails the test (and gets a 501), as does a stub still unused when the test ends.
type API struct {
	t     TB
	srv   *httptest.Server
	token string

	mu    sync.Mutex
	stubs []*Stub
	calls []Call
}

// Call is one request the fake received, its path without the API root.
type Call struct {
	Method, Path, Query, Auth, Body string
}

// String is "METHOD /path", as tests list the calls they expect.
func (c Call) String() string { return c.Method + " " + c.Path }

// Stub is one expected request and its reply.
type Stub struct {
	method, path string
	query        url.Values
	wantJSON     string
	check        func(t TB, body []byte)

	status int
	header http.Header
	body   string
	used   bool
}

// NewAPI starts a fake API that expects token on every request; it stops, and checks that every
// stub was used, when the test ends.
func NewAPI(t TB, token string) *API {
	t.Helper()
	a := &API{t: t, token: token}
	a.srv = httptest.NewServer(a)
	t.Cleanup(func() {
		a.srv.Close()
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, s := range a.stubs {
			if !s.used {
				t.Errorf("GitHub API stub never used: %s %s", s.method, strings.TrimPrefix(s.path, Prefix))
			}
		}
	})
	return a
}

// URL is GITHUB_API_URL for the fake: its address with the API root.
func (a *API) URL() string { return a.srv.URL + Prefix }

// Host is the fake's address without the API root, for clients that add it themselves.
func (a *API) Host() string { return a.srv.URL }

// Client is an HTTP client for the fake.
func (a *API) Client() *http.Client { return a.srv.Client() }

// On registers a stub for method and path (without the API root); by default it answers 200
// with no body.
func (a *API) On(method, path string) *Stub {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &Stub{method: method, path: Prefix + path, status: http.StatusOK, header: http.Header{}}
	a.stubs = append(a.stubs, s)
	return s
}

// Calls returns the requests received so far, in order.
func (a *API) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Call(nil), a.calls...)
}

// Bodies returns the bodies of the requests received so far.
func (a *API) Bodies() []string {
	var out []string
	for _, c := range a.Calls() {
		out = append(out, c.Body)
	}
	return out
}

// WantCalls checks the fake got exactly these requests ("METHOD /path"), in order, and returns
// them.
func (a *API) WantCalls(t TB, want ...string) []Call {
	t.Helper()
	calls := a.Calls()
	got := make([]string, len(calls))
	for i, c := range calls {
		got[i] = c.String()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("GitHub API calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	return calls
}

// WithQuery makes the stub match only a request with exactly this query ("page=2&per_page=100").
func (s *Stub) WithQuery(q string) *Stub {
	v, err := url.ParseQuery(q)
	if err != nil {
		panic(fmt.Sprintf("githubtest: bad query %q: %v", q, err))
	}
	s.query = v
	return s
}

// WantBody asserts the request's body is the JSON js (compared as JSON values, not as text).
func (s *Stub) WantBody(js string) *Stub {
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		panic(fmt.Sprintf("githubtest: WantBody %q is not JSON: %v", js, err))
	}
	s.wantJSON = js
	return s
}

// CheckBody runs fn on the request's body. fn runs in the server's goroutine: it must report
// with Errorf, never Fatal.
func (s *Stub) CheckBody(fn func(t TB, body []byte)) *Stub { s.check = fn; return s }

// Reply sets the status, the body and headers given as name, value pairs.
func (s *Stub) Reply(status int, body string, header ...string) *Stub {
	s.status, s.body = status, body
	for i := 0; i+1 < len(header); i += 2 {
		s.header.Set(header[i], header[i+1])
	}
	return s
}

// ReplyJSON is Reply with v encoded as JSON.
func (s *Stub) ReplyJSON(status int, v any, header ...string) *Stub {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("githubtest: ReplyJSON: %v", err))
	}
	return s.Reply(status, string(b), header...)
}

func (s *Stub) matches(r *http.Request) bool {
	return !s.used && s.method == r.Method && s.path == r.URL.Path && (s.query == nil || reflect.DeepEqual(s.query, r.URL.Query()))
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := Call{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, Prefix), Query: r.URL.RawQuery,
		Auth: r.Header.Get("Authorization"), Body: string(body)}
	a.mu.Lock()
	a.calls = append(a.calls, c)
	var found *Stub
	for _, s := range a.stubs {
		if s.matches(r) {
			found, s.used = s, true
			break
		}
	}
	a.mu.Unlock()
	if found == nil {
		a.t.Errorf("GitHub API request no stub matches: %s?%s %s", c, c.Query, body)
		http.Error(w, `{"message":"no stub"}`, http.StatusNotImplemented)
		return
	}
	if want := "Bearer " + a.token; c.Auth != want {
		a.t.Errorf("%s: Authorization %q, want %q", c, c.Auth, want)
	}
	if found.wantJSON != "" {
		var got, want any
		_ = json.Unmarshal([]byte(found.wantJSON), &want)
		if err := json.Unmarshal(body, &got); err != nil || !reflect.DeepEqual(got, want) {
			a.t.Errorf("%s: body %s, want %s", c, body, found.wantJSON)
		}
	}
	if found.check != nil {
		found.check(a.t, body)
	}
	for k, v := range found.header {
		w.Header()[k] = v
	}
	if found.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(found.status)
	_, _ = io.WriteString(w, found.body)
}

// CommentBody decodes the body of a create or edit comment request, {"body": "..."}.
func CommentBody(t TB, b []byte) string {
	t.Helper()
	var c struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Body == nil {
		t.Errorf(`comment request body is not {"body": ...}: %v: %s`, err, b) // not Fatal: this may run in the server's goroutine
		return ""
	}
	return *c.Body
}

// Silent starts a server that accepts every request and never answers, until the request is
// given up: a hung GitHub API. It stops when the test ends.
func Silent(t TB) *httptest.Server {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	return srv
}
