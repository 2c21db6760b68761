package frontier

import (
	"testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// The measured costs are the simulator's: no failures without load, more failures with more
// load per pod, and a replica change costs failures in both directions (the not-ready window).
func TestMeasureCosts(t *testing.T) {
	c, err := MeasureCosts(sim.DefaultScenario(), 1)
	if err != nil {
		t.Fatalf("MeasureCosts: %v", err)
	}
	t.Logf("costs %+v", c)
	if c.FailedFraction[0] != 0 || c.Failed(0) != 0 {
		t.Errorf("failed at no load %g, want 0", c.FailedFraction[0])
	}
	last := len(c.FailedFraction) - 1
	if !(c.FailedFraction[last] > c.FailedFraction[last/4]) {
		t.Errorf("curve %v: not rising with load", c.FailedFraction)
	}
	if !(c.UpFailures > 0) || !(c.DownFailures > 0) {
		t.Errorf("change costs up %g, down %g: want both > 0", c.UpFailures, c.DownFailures)
	}
	if c.StepSeconds != 15 || c.StartupSeconds != 30 {
		t.Errorf("step %g, start-up %g: want the scenario's 15, 30", c.StepSeconds, c.StartupSeconds)
	}
}
