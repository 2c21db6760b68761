package scrape

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const agentText = `# TYPE hsds_agent_responses_total counter
hsds_agent_responses_total{cause="",code="200"} 120
hsds_agent_responses_total{cause="overload",code="503"} 7
hsds_agent_responses_total{cause="not_ready",code="503"} 3
hsds_agent_responses_total{cause="upstream",code="503"} 0
# TYPE hsds_agent_in_flight gauge
hsds_agent_in_flight 12
# TYPE hsds_agent_in_flight_limit gauge
hsds_agent_in_flight_limit 40
# TYPE hsds_agent_node_state gauge
hsds_agent_node_state{node="sn",state="READY"} 1
hsds_agent_node_state{node="dn",state="READY"} 0
# TYPE hsds_agent_up gauge
hsds_agent_up 1
`

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

func TestParseAgent(t *testing.T) {
	got, err := ParseAgent([]byte(agentText))
	if err != nil {
		t.Fatal(err)
	}
	want := Agent{Responses: map[string]float64{"200": 120, "503/overload": 7, "503/not_ready": 3, "503/upstream": 0},
		InFlight: 12, Limit: 40, SNReady: 1, Up: true}
	if diff := cmp.Diff(want, got, nanEqual); diff != "" {
		t.Errorf("ParseAgent (-want +got):\n%s", diff)
	}
}

func TestParseAgentAbsentGauges(t *testing.T) {
	got, err := ParseAgent([]byte("# TYPE hsds_agent_up gauge\nhsds_agent_up 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Agent{Responses: map[string]float64{}, InFlight: math.NaN(), Limit: math.NaN(), SNReady: math.NaN()}
	if diff := cmp.Diff(want, got, nanEqual); diff != "" {
		t.Errorf("ParseAgent (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for _, body := range []string{
		"hsds_agent_up{ 1\n",
		"# TYPE hsds_agent_responses_total counter\nhsds_agent_responses_total{code=\"200\"} -1\n",
		"# TYPE hsds_agent_responses_total counter\nhsds_agent_responses_total{code=\"200\"} NaN\n",
		"{}0",
	} {
		if _, err := ParseAgent([]byte(body)); err == nil {
			t.Errorf("ParseAgent(%q): no error", body)
		}
	}
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

func TestRates(t *testing.T) {
	got := Rates(map[string]float64{"200": 10, "503/overload": 5, "gone": 1}, map[string]float64{"200": 30, "503/overload": 2, "new": 9}, 2)
	want := map[string]float64{"200": 10}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Rates (-want +got):\n%s", diff)
	}
	if got := Rates(map[string]float64{"a": 1}, map[string]float64{"a": 2}, 0); len(got) != 0 {
		t.Errorf("Rates over 0 s = %v, want empty", got)
	}
}

func FuzzParseAgent(f *testing.F) {
	f.Add([]byte(agentText))
	f.Add([]byte("{}0"))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAgent(body)
		if err != nil {
			return
		}
		for k, v := range a.Responses {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Errorf("accepted response %s = %g", k, v)
			}
		}
	})
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

func BenchmarkParseAgent(b *testing.B) {
	body := []byte(agentText)
	for b.Loop() {
		if _, err := ParseAgent(body); err != nil {
			b.Fatal(err)
		}
	}
}
