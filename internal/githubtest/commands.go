package githubtest

import "strings"

// Command is one workflow command as the Actions runner reads it from a step's stdout or stderr.
type Command struct {
	Line       string
	Legacy     bool   // the "##[name]" form, which the runner still honours
	Name       string // "error", "add-mask", "stop-commands"; "resume" for the end of a stop-commands block
	Properties string // "file=a.yaml,line=3", "" when there are none
	Message    string // after the "::" that ends the properties; for the legacy form, all after "##["
}

// Commands reads output line by line as the runner does: "::name props::message" when a trimmed
// line starts with "::", else "##[name" anywhere in the line; between "::stop-commands::TOKEN"
// and "::TOKEN::" nothing is a command.
func Commands(out string) []Command {
	var cmds []Command
	stopToken := ""
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
		trimmed := strings.TrimSpace(line)
		if stopToken != "" {
			if trimmed == "::"+stopToken+"::" {
				stopToken = ""
				cmds = append(cmds, Command{Line: line, Name: "resume"})
			}
			continue
		}
		if strings.HasPrefix(trimmed, "::") {
			body := trimmed[2:]
			end := strings.Index(body, "::")
			if end < 0 {
				continue
			}
			name, props, _ := strings.Cut(body[:end], " ")
			c := Command{Line: line, Name: name, Properties: props, Message: body[end+2:]}
			if name == "stop-commands" {
				stopToken = c.Message
			}
			cmds = append(cmds, c)
			continue
		}
		if i := strings.Index(line, "##["); i >= 0 {
			body := line[i+3:]
			name := body
			if j := strings.IndexAny(body, "] "); j >= 0 {
				name = body[:j]
			}
			cmds = append(cmds, Command{Line: line, Legacy: true, Name: name, Message: body})
		}
	}
	return cmds
}
