package workload

import "testing"

func TestDropRepeatedTail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`0/1 nodes are available: persistentvolumeclaim "claims-data" not found. not found`,
			`0/1 nodes are available: persistentvolumeclaim "claims-data" not found.`},
		{`persistentvolumeclaim "claims-data" not found. not found.`, `persistentvolumeclaim "claims-data" not found.`},
		{`Back-off restarting failed container api in pod api-1`, `Back-off restarting failed container api in pod api-1`},
		{`0/3 nodes are available: 3 Insufficient cpu.`, `0/3 nodes are available: 3 Insufficient cpu.`},
		{`requested: pods=1, used: pods=1, limited: pods=1 1`, `requested: pods=1, used: pods=1, limited: pods=1 1`},
		{``, ``},
		{"line one\nsays x. says x.", "line one\nsays x."},
	}
	for _, tt := range tests {
		if got := DropRepeatedTail(tt.in); got != tt.want {
			t.Errorf("DropRepeatedTail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
