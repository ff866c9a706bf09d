package report

import "strings"

// Run is what a comment says it judged and where: the commit, the workflow run (with its
// attempt), the job and the environment. The GitHub publisher fills it from the runner's
// variables; the JSON report does not carry it, and outside Actions there is none.
type Run struct {
	Commit    string // the full SHA; shown as its first 7 characters
	CommitURL string // the commit's page
	URL       string // the run's page for this attempt
	RunID     string
	Attempt   string
	Job       string
	// Environment is the deployment environment, when the event or the environment input names one.
	Environment string
	// Version is the gate's version, for the footer; empty leaves it out.
	Version string
}

// runLine says what was judged: "commit abc1234 · run 42, attempt 2 · job deploy · environment
// production". The URLs come from the runner (GITHUB_SERVER_URL), never from the cluster, but
// are linked only when they are plain http(s) URLs.
func runLine(run *Run) string {
	if run == nil {
		return ""
	}
	var parts []string
	if c := hexPrefix(run.Commit); c != "" {
		parts = append(parts, "commit "+link("`"+c+"`", run.CommitURL))
	}
	if run.RunID != "" {
		text := "run " + mdText(run.RunID, maxCell)
		if run.Attempt != "" && run.Attempt != "1" {
			text += ", attempt " + mdText(run.Attempt, maxCell)
		}
		parts = append(parts, link(text, run.URL))
	}
	if run.Job != "" {
		parts = append(parts, "job "+mdName(run.Job))
	}
	if run.Environment != "" {
		parts = append(parts, "environment "+mdName(run.Environment))
	}
	if len(parts) == 0 {
		return ""
	}
	return "<sub>" + strings.Join(parts, " · ") + "</sub>"
}

// hexPrefix is the first 7 characters of a commit SHA, or "" when it is not hexadecimal.
func hexPrefix(sha string) string {
	if len(sha) < 7 {
		return ""
	}
	for _, c := range sha {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return ""
		}
	}
	return sha[:7]
}

func link(text, url string) string {
	if !(strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) || strings.ContainsAny(url, " ()<>\"'`\n") {
		return text
	}
	return "[" + text + "](" + url + ")"
}
