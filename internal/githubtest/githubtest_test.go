package githubtest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is a TB that records failures instead of failing, so the kit's own failures can be
// tested. Fatalf panics with fatal, which run recovers.
type recorder struct {
	t        *testing.T
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

type fatal struct{}

func (r *recorder) Helper()         {}
func (r *recorder) TempDir() string { return r.t.TempDir() }
func (r *recorder) Cleanup(f func()) {
	r.cleanups = append(r.cleanups, f)
}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); panic(fatal{}) }

// end runs the cleanups, as the end of a test does, and returns every failure.
func (r *recorder) end() []string {
	for _, f := range slices.Backward(r.cleanups) {
		f()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errors
}

func do(t *testing.T, a *API, method, path, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, a.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAPI(t *testing.T) {
	t.Parallel()
	const token = "ghs_kit"
	tests := []struct {
		name       string
		stub       func(a *API)
		run        func(t *testing.T, a *API)
		wantErrors []string // substrings, one per failure, in order
	}{
		{
			name: "a matched stub answers and passes",
			stub: func(a *API) { a.On("GET", "/user").ReplyJSON(200, map[string]string{"login": "bot"}) },
			run: func(t *testing.T, a *API) {
				if code := do(t, a, "GET", "/user", token, ""); code != 200 {
					t.Errorf("status %d", code)
				}
			},
		},
		{
			name:       "a request no stub matches fails and gets 501",
			run:        func(t *testing.T, a *API) { _ = do(t, a, "DELETE", "/repos/o/r", token, "") },
			wantErrors: []string{"no stub matches: DELETE /repos/o/r"},
		},
		{
			name:       "a stub never used fails when the test ends",
			stub:       func(a *API) { a.On("POST", "/repos/o/r/issues/1/comments") },
			wantErrors: []string{"stub never used: POST /repos/o/r/issues/1/comments"},
		},
		{
			name:       "a wrong token fails",
			stub:       func(a *API) { a.On("GET", "/user") },
			run:        func(t *testing.T, a *API) { _ = do(t, a, "GET", "/user", "other", "") },
			wantErrors: []string{`Authorization "Bearer other", want "Bearer ghs_kit"`},
		},
		{
			name: "a body equal as JSON passes, a different one fails",
			stub: func(a *API) {
				a.On("PATCH", "/c/1").WantBody(`{"body": "x", "n": 1}`)
				a.On("PATCH", "/c/1").WantBody(`{"body": "x"}`)
			},
			run: func(t *testing.T, a *API) {
				_ = do(t, a, "PATCH", "/c/1", token, `{"n":1,"body":"x"}`)
				_ = do(t, a, "PATCH", "/c/1", token, `{"body":"y"}`)
			},
			wantErrors: []string{`PATCH /c/1: body {"body":"y"}, want {"body": "x"}`},
		},
		{
			name: "stubs of one request answer in order; a query must match exactly",
			stub: func(a *API) {
				a.On("GET", "/l").WithQuery("per_page=100").Reply(500, "")
				a.On("GET", "/l").WithQuery("per_page=100").Reply(200, "[]")
			},
			run: func(t *testing.T, a *API) {
				got := []int{do(t, a, "GET", "/l?per_page=100", token, ""), do(t, a, "GET", "/l?per_page=100", token, ""),
					do(t, a, "GET", "/l?page=2&per_page=100", token, "")}
				if !slices.Equal(got, []int{500, 200, 501}) {
					t.Errorf("statuses %v", got)
				}
				a.WantCalls(t, "GET /l", "GET /l", "GET /l")
			},
			wantErrors: []string{"no stub matches: GET /l?page=2&per_page=100"},
		},
		{
			name: "CheckBody sees the body",
			stub: func(a *API) {
				a.On("POST", "/c").CheckBody(func(t TB, b []byte) {
					if got := CommentBody(t, b); got != "hello" {
						t.Errorf("comment %q", got)
					}
				})
			},
			run:        func(t *testing.T, a *API) { _ = do(t, a, "POST", "/c", token, `{"body":"bye"}`) },
			wantErrors: []string{`comment "bye"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{t: t}
			a := NewAPI(rec, token)
			if tc.stub != nil {
				tc.stub(a)
			}
			if tc.run != nil {
				tc.run(t, a)
			}
			got := rec.end()
			if len(got) != len(tc.wantErrors) {
				t.Fatalf("failures %q, want %d like %q", got, len(tc.wantErrors), tc.wantErrors)
			}
			for i, w := range tc.wantErrors {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %d = %q, want it to say %q", i, got[i], w)
				}
			}
		})
	}
}

func TestParseOutputs(t *testing.T) {
	t.Parallel()
	d1, d2 := "ghadelimiter_"+strings.Repeat("A", 26), "ghadelimiter_"+strings.Repeat("B", 26)
	tests := []struct {
		name      string
		file      string
		want      map[string]string
		wantFatal bool
		wantError string
	}{
		{name: "empty", file: "", want: map[string]string{}},
		{name: "two blocks, a multi-line value and an empty one",
			file: "verdict<<" + d1 + "\nfailed\nnot<<EOF\n" + d1 + "\ncause<<" + d2 + "\n\n" + d2 + "\n",
			want: map[string]string{"verdict": "failed\nnot<<EOF", "cause": ""}},
		{name: "name=value is refused", file: "verdict=failed\n", wantFatal: true},
		{name: "a guessable delimiter is refused", file: "verdict<<EOF\nfailed\nEOF\n", wantFatal: true},
		{name: "an unclosed block is refused", file: "verdict<<" + d1 + "\nfailed\n", wantFatal: true},
		{name: "a delimiter used twice fails", file: "a<<" + d1 + "\n1\n" + d1 + "\nb<<" + d1 + "\n2\n" + d1 + "\n",
			want: map[string]string{"a": "1", "b": "2"}, wantError: "used twice"},
		{name: "a name set twice fails", file: "a<<" + d1 + "\n1\n" + d1 + "\na<<" + d2 + "\n2\n" + d2 + "\n",
			want: map[string]string{"a": "2"}, wantError: "sets a twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{t: t}
			var got map[string]string
			fataled := func() (f bool) {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(fatal); !ok {
							panic(r)
						}
						f = true
					}
				}()
				got = ParseOutputs(rec, tc.file)
				return false
			}()
			errs := rec.end()
			switch {
			case fataled != tc.wantFatal:
				t.Errorf("fatal = %v, want %v (failures %q)", fataled, tc.wantFatal, errs)
			case tc.wantFatal:
			case tc.wantError == "" && len(errs) > 0, tc.wantError != "" && (len(errs) != 1 || !strings.Contains(errs[0], tc.wantError)):
				t.Errorf("failures %q, want %q", errs, tc.wantError)
			case fmt.Sprint(got) != fmt.Sprint(tc.want):
				t.Errorf("outputs %q, want %q", got, tc.want)
			}
		})
	}
}

// Not parallel: it sets a variable of this process's environment.
func TestRunnerFiles(t *testing.T) {
	r := NewRunner(t, "pull_request", `{"number":7}`)
	if got := r.Summary(t); got != "" {
		t.Errorf("summary %q, want the empty file the runner creates", got)
	}
	if got := r.Outputs(t); len(got) != 0 {
		t.Errorf("outputs %q, want none", got)
	}
	t.Setenv("GITHUB_TOKEN", "from-the-test's-own-ci")
	env := r.Environ()
	if slices.Contains(env, "GITHUB_TOKEN=from-the-test's-own-ci") || !slices.Contains(env, "GITHUB_EVENT_NAME=pull_request") {
		t.Errorf("environ %q: want the step's variables and none of the test's own", env)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	out := "::add-mask::x\n  ::warning file=a.yaml::w\nplain ##[error]e\n::stop-commands::tok\n::error::hidden\n##[warning]hidden\n::tok::\n::notice::n\nno ::command\n"
	var got []string
	for _, c := range Commands(out) {
		got = append(got, fmt.Sprintf("%s|%s|%s|%v", c.Name, c.Properties, c.Message, c.Legacy))
	}
	want := []string{"add-mask||x|false", "warning|file=a.yaml|w|false", "error||error]e|true", "stop-commands||tok|false",
		"resume|||false", "notice||n|false"}
	if !slices.Equal(got, want) {
		t.Errorf("commands\n%q\nwant\n%q", got, want)
	}
}
