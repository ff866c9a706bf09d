package fault_test

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/rollout-gate/rollout-gate/internal/fault"
)

func TestCode(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		err  error
		want int
	}{
		"nil":                     {nil, fault.ExitHealthy},
		"plain failure":           {errors.New("deployment/api failed"), fault.ExitFailed},
		"invalid":                 {fault.Invalidf("--timeout: bad"), fault.ExitInvalid},
		"wrapped invalid":         {fmt.Errorf("parse: %w", fault.Invalidf("bad")), fault.ExitInvalid},
		"cannot evaluate":         {fault.CannotEvaluatef("not found"), fault.ExitCannotEvaluate},
		"wrapped cannot evaluate": {fmt.Errorf("watch: %w", fault.CannotEvaluate(errors.New("forbidden"))), fault.ExitCannotEvaluate},
		"network":                 {&net.OpError{Op: "dial", Err: errors.New("connection refused")}, fault.ExitCannotEvaluate},
	} {
		if got := fault.Code(tt.err); got != tt.want {
			t.Errorf("%s: Code = %d, want %d", name, got, tt.want)
		}
	}
}
