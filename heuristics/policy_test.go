package heuristics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultPolicyValid(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("DefaultPolicy invalid: %v", err)
	}
	if _, err := NewHSDS(DefaultPolicy()); err != nil {
		t.Fatalf("NewHSDS(DefaultPolicy()): %v", err)
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	p := DefaultPolicy()
	p.ShortWindow = D(0)
	p.OverloadSustain = D(2 * time.Minute)
	p.DwellUp = D(-time.Second)
	p.TargetUtilization = 0.9 // above scaleUpUtilization
	p.RetriableShare = 1.5
	p.FanoutShare = 1
	p.ClientRetries = -1
	p.PodCapacity = -3
	p.MaxStepUpFactor = 0.5
	p.MaxStepDownPercent = 120
	p.PanicFactor = 1
	p.CatchUpHorizon = D(-time.Minute)
	err := p.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad policy")
	}
	for _, field := range []string{"shortWindow:", "overloadSustain:", "dwellUp:",
		"targetUtilization:", "retriableShare:", "fanoutShare:", "clientRetries:", "podCapacity:",
		"maxStepUpFactor:", "maxStepDownPercent:", "panicFactor:", "catchUpHorizon:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
	if _, err := NewHSDS(p); err == nil {
		t.Error("NewHSDS accepted a bad policy")
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	p := DefaultPolicy()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"stabilizationWindow":"10m0s"`)) {
		t.Errorf("durations not written as strings: %s", b)
	}
	var got Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{`"45s"`, 45 * time.Second, false},
		{`"1m30s"`, 90 * time.Second, false},
		{`30`, 0, true},
		{`"soon"`, 0, true},
	}
	for _, tc := range tests {
		var d Duration
		err := json.Unmarshal([]byte(tc.in), &d)
		if (err != nil) != tc.wantErr || d.Duration != tc.want {
			t.Errorf("Unmarshal(%s) = %s, %v; want %s, error %v", tc.in, d.Duration, err, tc.want, tc.wantErr)
		}
	}
}

func TestNodeStateReadyMatchesSchema(t *testing.T) {
	// agent/schema.StateReady is "READY"; heuristics may not import it, so pin the copy.
	if nodeStateReady != "READY" {
		t.Errorf("nodeStateReady = %q, want READY", nodeStateReady)
	}
}
