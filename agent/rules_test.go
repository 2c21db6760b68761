package agent

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

var (
	kOver     = RespKey{Code: schema.Code503, Cause: schema.CauseOverload}
	kNotReady = RespKey{Code: schema.Code503, Cause: schema.CauseNotReady}
	kOther    = RespKey{Code: schema.CodeOther}
	k200      = RespKey{Code: "200"}
)

func TestInfoDeltas(t *testing.T) {
	base := InfoSample{Requests: 100, Warnings: 10, StartTime: 5}
	tests := []struct {
		name string
		prev *InfoSample
		cur  InfoSample
		want map[RespKey]float64
	}{
		{"first sample creates series", nil, base, map[RespKey]float64{kOver: 0, kOther: 0}},
		{"no change", &base, base, map[RespKey]float64{kOver: 0, kOther: 0}},
		{
			"warnings bound the 503s",
			&base, InfoSample{Requests: 150, Warnings: 13, StartTime: 5},
			map[RespKey]float64{kOver: 3, kOther: 47},
		},
		{
			"more warnings than requests: 503s bounded by requests",
			&base, InfoSample{Requests: 102, Warnings: 30, StartTime: 5},
			map[RespKey]float64{kOver: 2, kOther: 0},
		},
		{
			"counter decrease is a restart: counts since restart",
			&base, InfoSample{Requests: 7, Warnings: 1, StartTime: 5},
			map[RespKey]float64{kOver: 1, kOther: 6},
		},
		{
			"new start_time is a restart even if counters grew past the old values",
			&base, InfoSample{Requests: 120, Warnings: 12, StartTime: 9},
			map[RespKey]float64{kOver: 12, kOther: 108},
		},
		{
			"only WARN decreased",
			&base, InfoSample{Requests: 110, Warnings: 2, StartTime: 5},
			map[RespKey]float64{kOver: 2, kOther: 108},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := infoDeltas(tc.prev, tc.cur)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("infoDeltas() (-want +got):\n%s", diff)
			}
			for k, v := range got {
				if v < 0 {
					t.Errorf("negative delta %v=%g", k, v)
				}
			}
		})
	}
}

func view(ready bool, tasks, limit float64, resp map[string]float64) nodeView {
	return nodeView{sn: MetricsSample{Ready: ready, TasksActive: known(tasks), TasksMax: known(limit), Responses: resp}}
}

func TestCause503Metrics(t *testing.T) {
	dnDown := func(v nodeView) nodeView { v.dnReady = known(0); return v }
	noTasks := nodeView{sn: MetricsSample{Ready: true}}
	tests := []struct {
		name string
		a, b nodeView
		want string
	}{
		{"SN not ready at end", view(true, 0, 100, nil), view(false, 0, 100, nil), schema.CauseNotReady},
		{"SN not ready at start", view(false, 0, 100, nil), view(true, 200, 100, nil), schema.CauseNotReady},
		{"DN not ready", view(true, 200, 100, nil), dnDown(view(true, 200, 100, nil)), schema.CauseUpstream},
		{"tasks at limit at end", view(true, 10, 100, nil), view(true, 100, 100, nil), schema.CauseOverload},
		{"tasks above limit at start", view(true, 150, 100, nil), view(true, 3, 100, nil), schema.CauseOverload},
		{"ready, below limit", view(true, 99, 100, nil), view(true, 50, 100, nil), schema.CauseUpstream},
		{"task gauges absent", noTasks, noTasks, schema.CauseUpstream},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cause503Metrics(tc.a, tc.b); got != tc.want {
				t.Errorf("cause503Metrics() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMetricsDeltas(t *testing.T) {
	prev := view(true, 100, 100, map[string]float64{"200": 10, "503": 4})
	tests := []struct {
		name string
		prev *nodeView
		cur  nodeView
		want map[RespKey]float64
	}{
		{"first scrape creates series", nil, prev, map[RespKey]float64{k200: 0, kOver: 0}},
		{
			"overload interval",
			&prev, view(true, 120, 100, map[string]float64{"200": 15, "503": 9}),
			map[RespKey]float64{k200: 5, kOver: 5},
		},
		{
			"not ready interval, new code",
			&prev, view(false, 0, 100, map[string]float64{"200": 10, "503": 24, "404": 1}),
			map[RespKey]float64{k200: 0, kNotReady: 20, {Code: "404"}: 1},
		},
		{
			"restart: counts since restart",
			&prev, view(true, 100, 100, map[string]float64{"200": 3, "503": 1}),
			map[RespKey]float64{k200: 3, kOver: 1},
		},
		{
			"restart: a code vanished",
			&prev, view(true, 0, 100, map[string]float64{"200": 30}),
			map[RespKey]float64{k200: 30},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := metricsDeltas(tc.prev, tc.cur)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("metricsDeltas() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassifyProxy503(t *testing.T) {
	const cut = 2 * time.Millisecond
	tests := []struct {
		name      string
		readiness int32
		latency   time.Duration
		want      string
	}{
		{"not ready, fast", readinessNotReady, 0, schema.CauseNotReady},
		{"not ready, slow", readinessNotReady, time.Second, schema.CauseNotReady},
		{"ready, immediate", readinessReady, 300 * time.Microsecond, schema.CauseOverload},
		{"ready, after a DN round trip", readinessReady, 8 * time.Millisecond, schema.CauseUpstream},
		{"ready, exactly at cutoff", readinessReady, cut, schema.CauseUpstream},
		{"unknown, fast", readinessUnknown, 0, schema.CauseOverload},
		{"unknown, slow", readinessUnknown, time.Second, schema.CauseUpstream},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifyProxy503(tc.readiness, tc.latency, cut); got != tc.want {
				t.Errorf("classifyProxy503() = %q, want %q", got, tc.want)
			}
		})
	}
}
