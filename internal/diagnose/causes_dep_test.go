package diagnose

import "testing"

func TestResolveHost(t *testing.T) {
	t.Parallel()
	ips := map[string]string{"10.96.0.45": "production/postgres"}
	tests := []struct{ host, where, ns, name string }{
		{"postgres", hostService, "production", "postgres"},
		{"postgres.data", hostService, "data", "postgres"},
		{"postgres.data.svc", hostService, "data", "postgres"},
		{"postgres.data.svc.cluster.local", hostService, "data", "postgres"},
		{"postgres.data.svc.corp.internal.", hostService, "data", "postgres"},
		{"10.96.0.45", hostService, "production", "postgres"},
		{"10.1.2.3", hostExternal, "", ""},
		{"db.example.com", hostExternal, "", ""},
		{"api.github.com", hostExternal, "", ""},
		{"example.com", hostExternal, "", ""},
		{"localhost", hostLocal, "", ""},
		{"127.0.0.1", hostLocal, "", ""},
	}
	for _, tc := range tests {
		where, ns, name := resolveHost(tc.host, "production", ips)
		if where != tc.where || ns != tc.ns || name != tc.name {
			t.Errorf("resolveHost(%q) = %s %s/%s, want %s %s/%s", tc.host, where, ns, name, tc.where, tc.ns, tc.name)
		}
	}
}
