package github

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
	"testing"
)

// apiMock is a fake GitHub API in the style of cli/cli's httpmock: a list of stubs, each matching
// one request by method, path and (optionally) query, each used once, in order. Every request is
// checked (auth header, JSON body); a request no stub matches and a stub never used fail the test.
type apiMock struct {
	t      *testing.T
	srv    *httptest.Server
	prefix string // the API root path, "/api/v3" like GitHub Enterprise Server
	token  string

	mu    sync.Mutex
	stubs []*stub
}

type stub struct {
	method, path string
	query        url.Values
	wantJSON     string
	check        func(t *testing.T, body []byte)

	status int
	header http.Header
	body   string
	used   bool
}

func newAPI(t *testing.T) *apiMock {
	t.Helper()
	m := &apiMock{t: t, prefix: "/api/v3", token: testToken}
	m.srv = httptest.NewServer(m)
	t.Cleanup(func() {
		m.srv.Close()
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, s := range m.stubs {
			if !s.used {
				t.Errorf("stub never used: %s %s", s.method, s.path)
			}
		}
	})
	return m
}

// URL is GITHUB_API_URL for this fake server.
func (m *apiMock) URL() string { return m.srv.URL + m.prefix }

// on registers a stub for method and path (without the API root).
func (m *apiMock) on(method, path string) *stub {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &stub{method: method, path: m.prefix + path, status: 200, header: http.Header{}}
	m.stubs = append(m.stubs, s)
	return s
}

func (s *stub) withQuery(q string) *stub {
	v, err := url.ParseQuery(q)
	if err != nil {
		panic(err)
	}
	s.query = v
	return s
}

// wantBody asserts the request's JSON body equals js (as JSON values, not text).
func (s *stub) wantBody(js string) *stub { s.wantJSON = js; return s }

// checkBody runs fn on the request body.
func (s *stub) checkBody(fn func(t *testing.T, body []byte)) *stub { s.check = fn; return s }

func (s *stub) reply(status int, body string, header ...string) *stub {
	s.status, s.body = status, body
	for i := 0; i+1 < len(header); i += 2 {
		s.header.Set(header[i], header[i+1])
	}
	return s
}

func (s *stub) replyJSON(status int, v any, header ...string) *stub {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return s.reply(status, string(b), header...)
}

func (m *apiMock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	var found *stub
	for _, s := range m.stubs {
		if !s.used && s.method == r.Method && s.path == r.URL.Path && (s.query == nil || reflect.DeepEqual(s.query, r.URL.Query())) {
			found = s
			s.used = true
			break
		}
	}
	m.mu.Unlock()
	if found == nil {
		m.t.Errorf("unexpected request: %s %s?%s %s", r.Method, r.URL.Path, r.URL.RawQuery, body)
		http.Error(w, `{"message":"no stub"}`, http.StatusNotImplemented)
		return
	}
	if got, want := r.Header.Get("Authorization"), "Bearer "+m.token; got != want {
		m.t.Errorf("%s %s: Authorization %q, want %q", r.Method, r.URL.Path, got, want)
	}
	if found.wantJSON != "" {
		var got, want any
		if err := json.Unmarshal(body, &got); err != nil {
			m.t.Errorf("%s %s: body is not JSON: %v: %s", r.Method, r.URL.Path, err, body)
		}
		if err := json.Unmarshal([]byte(found.wantJSON), &want); err != nil {
			panic(fmt.Sprintf("bad wantBody %q: %v", found.wantJSON, err))
		}
		if !reflect.DeepEqual(got, want) {
			m.t.Errorf("%s %s: body %s, want %s", r.Method, r.URL.Path, body, found.wantJSON)
		}
	}
	if found.check != nil {
		found.check(m.t, body)
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

// commentBody decodes the body of a create or edit comment request.
func commentBody(t *testing.T, b []byte) string {
	t.Helper()
	var c struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Errorf("comment request body: %v", err) // not Fatal: this runs in the server's goroutine
	}
	return c.Body
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}
