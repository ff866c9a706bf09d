package fault

import (
	"errors"
	"fmt"
	"net"
	"testing"
)

func TestCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitHealthy},
		{"plain failure", errors.New("deployment/api failed"), ExitFailed},
		{"invalid", Invalidf("--timeout: bad"), ExitInvalid},
		{"wrapped invalid", fmt.Errorf("parse: %w", Invalidf("bad")), ExitInvalid},
		{"cannot evaluate", CannotEvaluatef("not found"), ExitCannotEvaluate},
		{"wrapped cannot evaluate", fmt.Errorf("watch: %w", CannotEvaluate(errors.New("forbidden"))), ExitCannotEvaluate},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ExitCannotEvaluate},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("%s: Code = %d, want %d", tt.name, got, tt.want)
		}
	}
}
