//go:build e2e

package e2e

import (
	"testing"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
