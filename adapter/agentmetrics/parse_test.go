package agentmetrics_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/internal/fakeagent"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

func busy() fakeagent.State {
	s := fakeagent.Default()
	s.OK = 1000
	s.Other = map[string]float64{"404": 7}
	s.Rejected = map[string]float64{schema.CauseOverload: 30, schema.CauseNotReady: 2, schema.CauseUpstream: 1}
	s.InFlight = 87
	s.SNState = schema.StateWaiting
	return s
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    agentmetrics.Reading
		wantErr error
	}{
		{
			name: "busy agent",
			body: string(busy().Exposition()),
			want: agentmetrics.Reading{
				Responses: 1040, Rejected: [3]float64{30, 2, 1}, InFlight: 87, HasInFlight: true, Limit: 100, HasLimit: true,
				NodeState: schema.StateWaiting, NodeCount: 4, Up: true, Exact: true,
				Source: schema.SourceMetrics, Version: "1.0.1",
			},
		},
		{
			name: "minimal: no responses yet, no limit, no info",
			body: "hsds_agent_up 1\nhsds_agent_in_flight 3\n",
			want: agentmetrics.Reading{InFlight: 3, HasInFlight: true, Up: true},
		},
		{
			name: "agent down",
			body: "hsds_agent_up 0\nhsds_agent_in_flight 0\n",
			want: agentmetrics.Reading{HasInFlight: true},
		},
		{name: "NaN counter", body: "hsds_agent_up 1\nhsds_agent_in_flight 0\nhsds_agent_responses_total{code=\"200\"} NaN\n", wantErr: agentmetrics.ErrInvalid},
		{name: "Inf gauge", body: "hsds_agent_up 1\nhsds_agent_in_flight +Inf\n", wantErr: agentmetrics.ErrInvalid},
		{name: "negative limit", body: "hsds_agent_up 1\nhsds_agent_in_flight 1\nhsds_agent_in_flight_limit -5\n", wantErr: agentmetrics.ErrInvalid},
		{name: "NaN state", body: "hsds_agent_up 1\nhsds_agent_in_flight 1\nhsds_agent_node_state{node=\"sn\",state=\"READY\"} NaN\n", wantErr: agentmetrics.ErrInvalid},
		{name: "missing up", body: "hsds_agent_in_flight 1\n", wantErr: agentmetrics.ErrInvalid},
		{name: "no in_flight: unknown, not an error (0.9.x /info with a stale sample)", body: "hsds_agent_up 1\n", want: agentmetrics.Reading{Up: true}},
		{name: "expfmt panics on a bare label set", body: "#0\n{}", wantErr: agentmetrics.ErrParse},
		{name: "garbage", body: "<html>hello</html>\n", wantErr: agentmetrics.ErrParse},
		{name: "truncated", body: "hsds_agent_up{node=\"s", wantErr: agentmetrics.ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agentmetrics.NewParser().Parse(strings.NewReader(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParserReuse(t *testing.T) {
	p := agentmetrics.NewParser()
	if _, err := p.Parse(strings.NewReader("garbage{")); err == nil {
		t.Fatal("want an error for garbage")
	}
	got, err := p.Parse(strings.NewReader(string(busy().Exposition())))
	if err != nil {
		t.Fatal(err)
	}
	if got.InFlight != 87 {
		t.Errorf("InFlight after reuse = %v, want 87", got.InFlight)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(string(busy().Exposition()))
	f.Add("hsds_agent_up 1\nhsds_agent_in_flight 3\n")
	f.Add("hsds_agent_up NaN\n")
	f.Fuzz(func(t *testing.T, body string) {
		rd, err := agentmetrics.NewParser().Parse(strings.NewReader(body))
		if err != nil {
			if !errors.Is(err, agentmetrics.ErrParse) && !errors.Is(err, agentmetrics.ErrInvalid) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		for _, v := range append([]float64{rd.Responses, rd.InFlight, rd.Limit}, rd.Rejected[:]...) {
			if v < 0 || v != v {
				t.Fatalf("accepted a bad value: %+v", rd)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	body := busy().Exposition()
	p := agentmetrics.NewParser()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(strings.NewReader(string(body))); err != nil {
			b.Fatal(err)
		}
	}
}
