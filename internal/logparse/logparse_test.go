package logparse

import (
	"strings"
	"testing"
	"time"
)

func TestDialErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		log  string
		host string
		port string
		ip   string
		kind string
	}{
		{"runbook: host on the line before the errno", "Error: unable to connect to PostgreSQL at postgres-service.production.svc.cluster.local:5432\ndial tcp 10.0.1.45:5432: connect: connection refused",
			"postgres-service.production.svc.cluster.local", "5432", "10.0.1.45", "connection refused"},
		{"Go DNS failure: the DNS server's port is not the dependency's", "dial tcp: lookup postgres on 10.96.0.10:53: no such host", "postgres", "", "", "no such host"},
		{"Go timeout", "dial tcp 10.96.12.7:6379: i/o timeout", "10.96.12.7", "6379", "10.96.12.7", "i/o timeout"},
		{"psycopg2: host and port on the following line", "psycopg2.OperationalError: could not connect to server: Connection refused\n\tIs the server running on host \"db\" (10.0.0.5) and accepting\n\tTCP/IP connections on port 5432?",
			"db", "5432", "10.0.0.5", "connection refused"},
		{"psycopg2: name does not resolve", `psycopg2.OperationalError: could not translate host name "pg.data" to address: Name or service not known`, "pg.data", "", "", "no such host"},
		{"Node", "Error: connect ECONNREFUSED 10.96.1.2:5432", "10.96.1.2", "5432", "10.96.1.2", "connection refused"},
		{"Node DNS", "Error: getaddrinfo ENOTFOUND rabbitmq", "rabbitmq", "", "", "no such host"},
		{"Java", "java.net.UnknownHostException: kafka.streaming.svc.cluster.local", "kafka.streaming.svc.cluster.local", "", "", "no such host"},
		{"redis-py", "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.", "redis", "6379", "", "connection refused"},
		{"busybox nc", "nc: bad address 'postgres'", "postgres", "", "", "no such host"},
		{"URL", `Get "http://inventory:8080/items": dial tcp 10.96.3.3:8080: connect: connection refused`, "inventory", "8080", "10.96.3.3", "connection refused"},
		{"timestamps are not host:port", "08:15:33 connect timeout while dialing mq:5672", "mq", "5672", "", "i/o timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ds := DialErrors(strings.Split(tc.log, "\n"))
			if len(ds) == 0 {
				t.Fatalf("no dial error found in %q", tc.log)
			}
			d := ds[0]
			if d.Host != tc.host || d.Port != tc.port || d.IP != tc.ip || d.Kind != tc.kind {
				t.Errorf("got host %q port %q ip %q kind %q, want %q %q %q %q", d.Host, d.Port, d.IP, d.Kind, tc.host, tc.port, tc.ip, tc.kind)
			}
		})
	}
	if ds := DialErrors([]string{"request timed out after 30s", "INFO connected to postgres:5432"}); len(ds) != 0 {
		t.Errorf("no connection failure in these lines, got %+v", ds)
	}
}

func TestConfigProblem(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_PORT": "abc", "LOG_LEVEL": "verbose", "Mode": "x"}
	tests := []struct {
		line string
		want string
	}{
		{`FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)`, "DATABASE_PORT"},
		{"panic: DATABASE_URL environment variable is not set", "DATABASE_URL"},
		{"KeyError: 'REDIS_URL'", "REDIS_URL"},
		{"Error: Missing required environment variable FEATURE_FLAGS_URL", "FEATURE_FLAGS_URL"},
		{`strconv.Atoi: parsing "abc": invalid syntax`, "DATABASE_PORT"},
		{"unsupported value for LOG_LEVEL, want one of debug,info,warn", "LOG_LEVEL"},
		{"ERROR: relation \"users\" does not exist", ""},
		{"ModuleNotFoundError: No module named 'utils.auth'", ""},
		{"FATAL ERROR: out of memory", ""},
	}
	for _, tc := range tests {
		name, _, ok := ConfigProblem([]string{"starting", tc.line}, env)
		if name != tc.want || ok != (tc.want != "") {
			t.Errorf("ConfigProblem(%q) = %q, %t; want %q", tc.line, name, ok, tc.want)
		}
	}
}

func TestCrashSignature(t *testing.T) {
	t.Parallel()
	tests := []struct {
		log, kind, line string
	}{
		{"Traceback (most recent call last):\n  File \"/app/main.py\", line 14, in <module>\n    from utils.auth import verify_token\nModuleNotFoundError: No module named 'utils.auth'",
			"missing Python module", "ModuleNotFoundError: No module named 'utils.auth'"},
		{"Traceback (most recent call last):\n  File \"x.py\", line 1\nZeroDivisionError: division by zero", "Python exception", "ZeroDivisionError: division by zero"},
		{"/app/server: error while loading shared libraries: libssl.so.3: cannot open shared object file", "missing shared library", "/app/server: error while loading shared libraries: libssl.so.3: cannot open shared object file"},
		{"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n\ngoroutine 1 [running]:\npanic: again", "Go panic", "panic: runtime error: invalid memory address or nil pointer dereference"},
		{"exec /app/server: exec format error", "binary built for another CPU architecture", "exec /app/server: exec format error"},
		{`Exception in thread "main" java.lang.IllegalStateException: boom`, "Java exception", `Exception in thread "main" java.lang.IllegalStateException: boom`},
		{"Error: Cannot find module 'express'", "missing Node.js module", "Error: Cannot find module 'express'"},
	}
	for _, tc := range tests {
		lines := strings.Split(tc.log, "\n")
		sig, ok := SignatureOf(lines)
		if !ok || sig.Kind != tc.kind || lines[sig.Line] != tc.line {
			t.Errorf("SignatureOf(%q) = %+v %t, want %q at %q", tc.log, sig, ok, tc.kind, tc.line)
		}
	}
	if _, ok := SignatureOf([]string{"INFO all good", "INFO shutting down"}); ok {
		t.Error("no signature in a clean log")
	}
}

func TestStartupAndListen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want time.Duration
	}{
		{"2026-04-04T08:15:33Z INFO server listening on :8080 after 22s startup", 22 * time.Second},
		{"Started DemoApplication in 22.345 seconds (process running for 23.1)", 22345 * time.Millisecond},
		{"ready in 850ms", 850 * time.Millisecond},
		{"server started, startup took 2m", 2 * time.Minute},
	}
	for _, tc := range tests {
		got, _, ok := StartupTime([]string{tc.line})
		if !ok || got != tc.want {
			t.Errorf("StartupTime(%q) = %v %t, want %v", tc.line, got, ok, tc.want)
		}
	}
	if _, _, ok := StartupTime([]string{"loading"}); ok {
		t.Error("no start-up time in 'loading'")
	}
	for line, port := range map[string]string{
		"INFO server listening on :8080":     "8080",
		"Listening on port 3000":             "3000",
		"serving HTTP on 0.0.0.0:9090":       "9090",
		"accepting connections":              "",
		"Tomcat started on port 8081 (http)": "",
	} {
		idx, p := ListenLine([]string{"x", line})
		if port == "" && idx < 0 && !strings.Contains(line, "accepting") {
			continue
		}
		if idx != 1 || p != port {
			t.Errorf("ListenLine(%q) = %d %q, want 1 %q", line, idx, p, port)
		}
	}
}
