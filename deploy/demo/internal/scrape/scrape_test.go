package scrape

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const scalerText = `# TYPE hsds_scaler_desired_replicas gauge
hsds_scaler_desired_replicas{target="default/hsds"} 4
# TYPE hsds_scaler_current_replicas gauge
hsds_scaler_current_replicas{target="default/hsds"} 2
# TYPE hsds_scaler_ready_replicas gauge
hsds_scaler_ready_replicas{target="default/hsds"} 2
# TYPE hsds_scaler_pending_replicas gauge
hsds_scaler_pending_replicas{target="default/hsds"} 0
# TYPE hsds_scaler_decisions_total counter
hsds_scaler_decisions_total{direction="none",reason="in-band",target="default/hsds"} 40
hsds_scaler_decisions_total{direction="up",reason="overload",target="default/hsds"} 1
# TYPE hsds_scaler_guard_active gauge
hsds_scaler_guard_active{guard="settling",target="default/hsds"} 1
hsds_scaler_guard_active{guard="bounds",target="default/hsds"} 0
hsds_scaler_guard_active{guard="pending-pods",target="default/hsds"} 1
`

var nanEqual = cmpopts.EquateNaNs()

func TestParseErrors(t *testing.T) {
	if _, err := ParseScaler([]byte("# TYPE hsds_scaler_decisions_total counter\nhsds_scaler_decisions_total{reason=\"x\"} +Inf\n")); err == nil {
		t.Error("ParseScaler accepted +Inf decisions")
	}
}

func TestParseScaler(t *testing.T) {
	got, err := ParseScaler([]byte(scalerText))
	if err != nil {
		t.Fatal(err)
	}
	want := Scaler{Desired: 4, Current: 2, Ready: 2, Pending: 0,
		Decisions: map[string]float64{"in-band/none": 40, "overload/up": 1}, Guards: []string{"pending-pods", "settling"}}
	if diff := cmp.Diff(want, got, nanEqual); diff != "" {
		t.Errorf("ParseScaler (-want +got):\n%s", diff)
	}
}

func TestLastDecision(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur map[string]float64
		want      string
	}{
		{"a hold", map[string]float64{"in-band/none": 1}, map[string]float64{"in-band/none": 2}, "in-band/none"},
		{"an action wins over holds", map[string]float64{"in-band/none": 1}, map[string]float64{"in-band/none": 3, "overload/up": 1}, "overload/up"},
		{"largest growth among holds", map[string]float64{}, map[string]float64{"a/none": 1, "b/none": 2}, "b/none"},
		{"nothing grew", map[string]float64{"a/none": 1}, map[string]float64{"a/none": 1}, ""},
		{"new series counts from 0", nil, map[string]float64{"panic/up": 1}, "panic/up"},
	}
	for _, tt := range tests {
		if got := LastDecision(tt.prev, tt.cur); got != tt.want {
			t.Errorf("%s: LastDecision = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzParseScaler(f *testing.F) {
	f.Add([]byte(scalerText))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseScaler(body)
		if err != nil {
			return
		}
		for k, v := range s.Decisions {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Errorf("accepted decision %s = %g", k, v)
			}
		}
	})
}
