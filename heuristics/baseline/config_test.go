package baseline

import (
	"strings"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

func TestBaselineConfigsValidate(t *testing.T) {
	if err := DefaultHPAConfig().Validate(); err != nil {
		t.Errorf("DefaultHPAConfig: %v", err)
	}
	if err := DefaultKEDAConfig().Validate(); err != nil {
		t.Errorf("DefaultKEDAConfig: %v", err)
	}
	if err := DefaultKPAConfig().Validate(); err != nil {
		t.Errorf("DefaultKPAConfig: %v", err)
	}
	h := DefaultHPAConfig()
	h.MinReplicas, h.Tolerance = 0, 2
	h.Behavior.ScaleUp.Policies = append(h.Behavior.ScaleUp.Policies, HPAScalingPolicy{Type: "Bogus", Value: 0, PeriodSeconds: 15})
	err := h.Validate()
	for _, f := range []string{"minReplicas:", "tolerance:", "behavior.scaleUp.policies[2].type:", "behavior.scaleUp.policies[2].value:"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("HPAConfig.Validate does not name %s: %v", f, err)
		}
	}
	k := DefaultKPAConfig()
	k.MaxScaleDownRate, k.StableWindow = 1, heuristics.D(0)
	err = k.Validate()
	for _, f := range []string{"maxScaleDownRate:", "stableWindow:"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("KPAConfig.Validate does not name %s: %v", f, err)
		}
	}
	e := DefaultKEDAConfig()
	e.RateThreshold, e.CooldownPeriod = 0, heuristics.D(-time.Second)
	err = e.Validate()
	for _, f := range []string{"rateThreshold:", "cooldownPeriod:"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("KEDAConfig.Validate does not name %s: %v", f, err)
		}
	}
}
