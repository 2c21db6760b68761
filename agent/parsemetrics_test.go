package agent

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMetrics(t *testing.T) {
	const ready = "# TYPE hsds_node_ready gauge\nhsds_node_ready 1\n"
	tests := []struct {
		name       string
		body       string
		want       MetricsSample
		wantReason string
	}{
		{
			name: "fixture",
			body: string(readFixture(t, "metrics_sn.txt")),
			want: MetricsSample{
				Responses:   map[string]float64{"200": 100, "201": 5, "503": 12},
				Ready:       true,
				TasksActive: known(37), TasksMax: known(100), DNCount: known(4),
				Version: "1.0.1",
			},
		},
		{
			name: "only readiness, untyped",
			body: "hsds_node_ready 0\n",
			want: MetricsSample{Responses: map[string]float64{}},
		},
		{
			name: "newest exporter: hsds_active_dns and hsds_internal_requests_total",
			body: ready + "hsds_active_dns 3\nhsds_internal_requests_total{method=\"GET\",status=\"200\"} 9\n" +
				"hsds_internal_requests_total{method=\"GET\",status=\"503\"} 2\nhsds_internal_requests_total{method=\"PUT\",status=\"503\"} 1\n" +
				"hsds_internal_requests_total{method=\"GET\",status=\"error\"} 4\n",
			want: MetricsSample{Responses: map[string]float64{}, Ready: true, DNCount: known(3),
				Internal: map[string]float64{"200": 9, "503": 3, "error": 4}},
		},
		{
			name:       "internal requests with a bad status",
			body:       ready + "hsds_internal_requests_total{method=\"GET\",status=\"oops\"} 1\n",
			wantReason: ReadErrorInvalid,
		},
		{name: "empty", body: "", wantReason: ReadErrorInvalid},
		{name: "garbage", body: "<html>\n", wantReason: ReadErrorParse},
		{name: "truncated line", body: ready + "hsds_tasks_active{", wantReason: ReadErrorParse},
		{name: "expfmt panics", body: "{}0", wantReason: ReadErrorParse},
		{name: "NaN", body: ready + "hsds_tasks_active NaN\n", wantReason: ReadErrorInvalid},
		{name: "+Inf", body: ready + "hsds_tasks_max +Inf\n", wantReason: ReadErrorInvalid},
		{name: "negative", body: ready + "hsds_tasks_active -3\n", wantReason: ReadErrorInvalid},
		{name: "zero limit", body: ready + "hsds_tasks_max 0\n", wantReason: ReadErrorInvalid},
		{name: "ready is 2", body: "hsds_node_ready 2\n", wantReason: ReadErrorInvalid},
		{name: "two series", body: ready + "hsds_tasks_active{a=\"1\"} 1\nhsds_tasks_active{a=\"2\"} 1\n", wantReason: ReadErrorInvalid},
		{
			name:       "bad status",
			body:       ready + "hsds_http_requests_total{method=\"GET\",status=\"oops\"} 1\n",
			wantReason: ReadErrorInvalid,
		},
		{
			name:       "duplicate series",
			body:       ready + "hsds_http_requests_total{method=\"GET\",status=\"200\"} 1\nhsds_http_requests_total{method=\"GET\",status=\"200\"} 1\n",
			wantReason: ReadErrorInvalid, // expfmt keeps both samples; summing them would double-count
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMetrics([]byte(tc.body))
			if tc.wantReason != "" {
				var se *ScrapeError
				if !errors.As(err, &se) || se.Reason != tc.wantReason {
					t.Fatalf("parseMetrics() error = %v, want reason %s", err, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseMetrics() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseMetrics() (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseMetrics: no panic; a sample without error holds only finite, non-negative numbers.
func FuzzParseMetrics(f *testing.F) {
	f.Add(readFixture(f, "metrics_sn.txt"))
	f.Add(readFixture(f, "metrics_dn.txt"))
	f.Add([]byte("hsds_node_ready 1\nhsds_tasks_active 5\n"))
	f.Add([]byte("hsds_http_requests_total{method=\"GET\",status=\"503\"} 1e3\nhsds_node_ready 0\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseMetrics(body)
		if err != nil {
			if r := ReadErrorOf(err); r != ReadErrorParse && r != ReadErrorInvalid {
				t.Fatalf("reason %q", r)
			}
			return
		}
		vals := []float64{s.TasksActive.Value, s.TasksMax.Value, s.DNCount.Value}
		for code, v := range s.Responses {
			if len(code) != 3 || strings.Trim(code, "0123456789") != "" {
				t.Fatalf("bad code %q", code)
			}
			vals = append(vals, v)
		}
		for _, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("bad value %g in %+v", v, s)
			}
		}
	})
}
