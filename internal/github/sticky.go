package github

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// DefaultCommentKey names the deploy target a comment belongs to: the kubeconfig context and
// the namespace. It leaves out the workloads on purpose: a pull request that adds a workload
// deploys to the same target, and its run must edit the comment the last run left, not start
// another one. The marker adds the repository, workflow and job (see marker); deploys of one
// job to several targets in the same namespace and context need the comment-key input.
func DefaultCommentKey(r *report.Report) string {
	if r.Context == "" {
		return r.Namespace
	}
	return r.Context + "/" + r.Namespace
}

// marker is the hidden last line that identifies the gate's comment for this target: the
// repository, the workflow file, the job and the key. A run of another workflow or job (or of
// another repository's workflow with the same bot) has another marker and never edits this
// comment. The key comes last, so a key with commas or '=' cannot pose as the other fields.
func (s *session) marker(r *report.Report) string {
	key := s.CommentKey
	if key == "" {
		key = DefaultCommentKey(r)
	}
	field := func(v string) string { return strings.NewReplacer(",", "_", "=", "_").Replace(v) }
	return report.Marker("repo=" + field(s.getenv("GITHUB_REPOSITORY")) + ",workflow=" + field(workflowID(s.getenv)) +
		",job=" + field(s.getenv("GITHUB_JOB")) + ",key=" + key)
}

// workflowID is the workflow's file in its repository (".github/workflows/deploy.yml"), from
// GITHUB_WORKFLOW_REF without the repository and the ref: the ref differs between a pull
// request's run and a push's, the file does not. Without it, the workflow's name.
func workflowID(getenv func(string) string) string {
	ref := getenv("GITHUB_WORKFLOW_REF")
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if repo := getenv("GITHUB_REPOSITORY"); repo != "" {
		ref = strings.TrimPrefix(ref, repo+"/")
	}
	if ref != "" {
		return ref
	}
	return getenv("GITHUB_WORKFLOW")
}

// endsWithMarker reports whether body is a comment the gate wrote for marker: the gate writes
// the marker as its last line, and cluster text inside can never form one (report neutralises
// "<!--"). GitHub may hand the body back with CRLF line ends.
func endsWithMarker(body, marker string) bool {
	body = strings.TrimRight(strings.ReplaceAll(body, "\r\n", "\n"), "\n ")
	return strings.HasSuffix(body, "\n"+marker) || body == marker
}

// stateLine is a hidden line above the marker with the verdict and the commit, so that a later
// run can say which commit fixed what this comment reported.
func stateLine(v report.Verdict, commit string) string {
	if !isSHA(commit) {
		commit = ""
	}
	return "<!-- rollout-gate-run:verdict=" + string(v) + ",commit=" + commit + " -->"
}

var stateRE = regexp.MustCompile(`(?m)^<!-- rollout-gate-run:verdict=([a-z]+),commit=([0-9a-f]*) -->$`)

type runState struct{ verdict, commit string }

// lastRun reads the state line of a comment the gate wrote. A comment from before the state
// line was written says its verdict only in its heading.
func lastRun(body string) runState {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if m := stateRE.FindAllStringSubmatch(body, -1); len(m) > 0 {
		last := m[len(m)-1]
		return runState{verdict: last[1], commit: last[2]}
	}
	if strings.HasPrefix(body, "## ✅") {
		return runState{verdict: string(report.VerdictHealthy)}
	}
	return runState{verdict: "unknown"}
}

// fixedNote says the failure this comment showed is over, and which commit ended it.
func fixedNote(now, before string) string {
	switch {
	case isSHA(now) && isSHA(before):
		return fmt.Sprintf("Fixed by commit %s: the rollout is healthy again. This comment reported a failure at commit %s before.", short(now), short(before))
	case isSHA(now):
		return fmt.Sprintf("Fixed by commit %s: the rollout is healthy again; the failure this comment reported before is resolved.", short(now))
	}
	return "The rollout is healthy again; the failure this comment reported before is resolved."
}

func isSHA(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// runInfo is what the comment says it judged, from the runner's variables: the commit, the
// run's page for this attempt ($GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/ID/attempts/N),
// the job and the environment.
func (s *session) runInfo(ev event) *report.Run {
	server := strings.TrimRight(s.getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		server = ""
	}
	repo := s.getenv("GITHUB_REPOSITORY")
	run := &report.Run{Commit: s.commit(ev), RunID: s.getenv("GITHUB_RUN_ID"), Attempt: s.getenv("GITHUB_RUN_ATTEMPT"),
		Job: s.getenv("GITHUB_JOB"), Environment: s.Environment}
	if run.Environment == "" && ev.Deployment != nil {
		run.Environment = ev.Deployment.Environment
	}
	if !isSHA(run.Commit) {
		run.Commit = ""
	}
	if server != "" && repo != "" {
		if run.Commit != "" {
			run.CommitURL = server + "/" + repo + "/commit/" + run.Commit
		}
		if isDigits(run.RunID) {
			run.URL = server + "/" + repo + "/actions/runs/" + run.RunID
			if isDigits(run.Attempt) {
				run.URL += "/attempts/" + run.Attempt
			}
		}
	}
	return run
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
