package logparse

import (
	"strings"
	"testing"
)

func TestSelfReportedError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		log   string
		line  string // the line found; "" for none
		level int
	}{
		{"exits itself", "starting worker pool size=4\nworker pool exhausted, exiting", "worker pool exhausted, exiting", ExitsItself},
		{"FATAL level", "loading config\nFATAL cannot open /data/db: read-only file system", "FATAL cannot open /data/db: read-only file system", explicitError},
		{"ERROR level after a timestamp", "2026-04-04T08:15:33Z INFO starting\n2026-04-04T08:15:34Z ERROR license expired", "2026-04-04T08:15:34Z ERROR license expired", explicitError},
		{"error: prefix", "error: unknown shorthand flag: 'x' in -x", "error: unknown shorthand flag: 'x' in -x", explicitError},
		{"git-style fatal: prefix after the program name", "cloning repository\ngit: fatal: could not read Username", "git: fatal: could not read Username", explicitError},
		{"logfmt level", `time=2026-04-04T08:15:33Z level=error msg="quota exceeded"`, `time=2026-04-04T08:15:33Z level=error msg="quota exceeded"`, explicitError},
		{"JSON level", `{"level":"fatal","msg":"no leader"}`, `{"level":"fatal","msg":"no leader"}`, explicitError},
		{"glog error", "I0404 08:15:33.1 1 main.go:10] start\nE0404 08:15:34.2 1 main.go:22] sync failed", "E0404 08:15:34.2 1 main.go:22] sync failed", explicitError},
		{"nginx emerg", `2026/04/04 08:15:33 [emerg] 1#1: host not found in upstream "api"`, `2026/04/04 08:15:33 [emerg] 1#1: host not found in upstream "api"`, explicitError},
		{"exception line under its stack frames", "java.lang.IllegalStateException: pool closed\n\tat com.acme.Pool.get(Pool.java:12)\n\tat com.acme.Main.main(Main.java:5)",
			"java.lang.IllegalStateException: pool closed", explicitError},
		{"the first explicit line names the cause, not the exiting one", "ERROR: schema version 12 is newer than this binary\nERROR: startup failed, exiting", "ERROR: schema version 12 is newer than this binary", explicitError},
		{"an explicit line beats a later bare exit", "FATAL no tenant configured\nexiting", "FATAL no tenant configured", explicitError},
		{"error words in the last lines", "connecting\ncannot open /var/lib/app/state.db", "cannot open /var/lib/app/state.db", errorWords},
		{"a bare exiting line", "processed 12 jobs\nExiting.", "Exiting.", errorWords},
		{"0 errors is not an error", "INFO batch done\nprocessed 120 jobs, 0 errors", "", notAnError},
		{"counts of zero are not errors", "summary: failed=0 errors: 0 error_count=0\ndone", "", notAnError},
		{"no failures is not an error", "all checks passed with no failures", "", notAnError},
		{"info lines that mention errors", "INFO retrying after error\nlevel=info msg=\"error budget fine\"", "", notAnError},
		{"warnings are not errors", "WARN cache miss failed, using origin", "", notAnError},
		{"a clean log", "INFO serving on :8080\nINFO stopped", "", notAnError},
		{"error words far from the end do not count", "cannot reach cache\nok 1\nok 2\nok 3\nok 4\nok 5", "", notAnError},
		{"an explicit line within the window counts", "ERROR disk full\nok 1\nok 2\nok 3\nok 4", "ERROR disk full", explicitError},
		{"Go panic frames are skipped", "FATAL lost lease\ngoroutine 1 [running]:\nmain.run(0xc000010000)\n\t/app/main.go:22 +0x5a\ncreated by main.main\n\t/app/main.go:9 +0x1d", "FATAL lost lease", explicitError},
		{"Python traceback lines are skipped", "Traceback (most recent call last):\n  File \"/app/w.py\", line 3, in <module>\n    run()\nRuntimeError: pool exhausted", "RuntimeError: pool exhausted", explicitError},
		{"an indented message is not a frame", "  token rejected, exiting  ", "  token rejected, exiting  ", ExitsItself},
		{"empty", "", "", notAnError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lines := strings.Split(tc.log, "\n")
			i, level := SelfReportedError(lines)
			got := ""
			if i >= 0 {
				got = lines[i]
			}
			if got != tc.line || level != tc.level {
				t.Errorf("SelfReportedError(%q) = %q level %d, want %q level %d", tc.log, got, level, tc.line, tc.level)
			}
		})
	}
}
