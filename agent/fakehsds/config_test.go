package fakehsds

import (
	"strings"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

func TestConfig_ValidateReportsEveryError(t *testing.T) {
	cfg := Config{MaxTaskCount: -1, InitialState: "SCALING", RescaleSettle: -time.Second,
		BackgroundTasks: -1, LoopCost: 2 * time.Second, Roster: "docker"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate: no error")
	}
	for _, want := range []string{"max task count", "dn count", "service time", "version", "initial state", "rescale settle",
		"background tasks", "loop cost", "roster"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q lacks %q", err, want)
		}
	}
	if _, err := New(Config{InitialState: "SCALING"}); err == nil {
		t.Error("New with a bad state: no error")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig invalid: %v", err)
	}
	if err := Measured094().Validate(); err != nil {
		t.Errorf("Measured094 invalid: %v", err)
	}
}

// New fills the fields whose zero value means nothing; MaxTaskCount 0 disables the gate as in HSDS.
func TestNew_CompletesZeroConfig(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatalf("New(Config{}): %v", err)
	}
	in := infoOf(t, p.SN())
	if in.Node.State != schema.StateReady || in.Node.NodeCount != 1 || in.Node.ID != "sn-fake" {
		t.Errorf("zero config: node %+v, want READY, node_count 1, id sn-fake", in.Node)
	}
	if p.cfg.Metrics || p.cfg.MaxTaskCount != 0 || p.cfg.RescaleSettle != 0 {
		t.Errorf("zero config changed meaningful zeros: %+v", p.cfg)
	}
}

func TestMetricsByDefault(t *testing.T) {
	for v, want := range map[string]bool{"1.0.1": true, "0.9.4": false, "": false, "2.0.0": true} {
		if got := MetricsByDefault(v); got != want {
			t.Errorf("MetricsByDefault(%q) = %v, want %v", v, got, want)
		}
	}
}
