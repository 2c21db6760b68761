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

// TestGateWatch walks an SN through the /info samples the real server gives (docs/hsds.md,
// "Measured on the real HSDS 0.9.4") and checks what each step counts.
func TestGateWatch(t *testing.T) {
	type poll struct {
		at        time.Duration
		cur       InfoSample
		want      map[RespKey]float64
		inFlight  Gauge
		wantReset bool
	}
	ready := func(req, warn, tasks float64) InfoSample {
		return InfoSample{State: schema.StateReady, Requests: req, Warnings: warn, NumTasks: tasks, StartTime: 5}
	}
	zero := map[RespKey]float64{kOver: 0, kNotReady: 0, kOther: 0}
	d := func(over, notReady, other float64) map[RespKey]float64 {
		return map[RespKey]float64{kOver: over, kNotReady: notReady, kOther: other}
	}
	tests := []struct {
		name  string
		polls []poll
	}{
		{"first sample only creates the series; no arrival yet, no in-flight", []poll{
			{0, ready(100, 10, 65), zero, Gauge{}, false},
		}},
		{"404s on an idle SN: WARNs without an over-limit sample are never 503s (measured: 2 WARN per 404)", []poll{
			{0, ready(0, 0, 4), zero, Gauge{}, false},
			{250 * time.Millisecond, ready(10, 20, 4), d(0, 0, 10), known(4), false},
		}},
		{"DN down: 500s log WARNs, tasks stay low: not overload", []poll{
			{0, ready(0, 0, 4), zero, Gauge{}, false},
			{250 * time.Millisecond, ready(40, 80, 5), d(0, 0, 40), known(5), false},
		}},
		{"gate burst: over-limit sample, WARNs bounded by requests are overload", []poll{
			{0, ready(20, 20, 4), zero, Gauge{}, false},
			{250 * time.Millisecond, ready(120, 113, 62), d(93, 0, 7), known(62), false},
			// the burst's last admitted request sampled 7 tasks: the gate still counts as busy
			// within the hold (1 s), so the burst's tail is overload too
			{500 * time.Millisecond, ready(320, 306, 7), d(193, 0, 7), known(7), false},
			// idle: no arrival; in-flight honest (absent) once the sample is older than 1 s
			{time.Second, ready(320, 306, 7), zero, known(7), false},
			{2 * time.Second, ready(320, 306, 7), zero, Gauge{}, false},
			// 404s after the hold: not overload
			{3 * time.Second, ready(321, 308, 4), d(0, 0, 1), known(4), false},
		}},
		{"not READY: WARNs are not_ready 503s (not in req_count)", []poll{
			{0, ready(10, 0, 4), zero, Gauge{}, false},
			{250 * time.Millisecond, InfoSample{State: schema.StateWaiting, Requests: 10, Warnings: 30, NumTasks: 4, StartTime: 5}, d(0, 30, 0), Gauge{}, false},
		}},
		{"restart (start_time): counts since the restart, evidence forgotten", []poll{
			{0, ready(100, 10, 4), zero, Gauge{}, false},
			{250 * time.Millisecond, ready(200, 100, 50), d(90, 0, 10), known(50), false},
			{500 * time.Millisecond, InfoSample{State: schema.StateReady, Requests: 3, Warnings: 6, NumTasks: 4, StartTime: 9}, d(0, 0, 3), known(4), true},
		}},
		{"counter decrease is a restart too", []poll{
			{0, ready(100, 10, 4), zero, Gauge{}, false},
			{250 * time.Millisecond, ready(7, 1, 4), d(0, 0, 7), known(4), true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := gateWatch{limit: 10, hold: time.Second}
			for i, p := range tc.polls {
				now := t0.Add(p.at)
				st := g.observe(now, p.cur)
				if st.restarted != p.wantReset {
					t.Errorf("poll %d: restarted = %t, want %t", i, st.restarted, p.wantReset)
				}
				got := infoDeltas(st)
				if diff := cmp.Diff(p.want, got); diff != "" {
					t.Errorf("poll %d: infoDeltas() (-want +got):\n%s", i, diff)
				}
				for k, v := range got {
					if v < 0 {
						t.Errorf("poll %d: negative delta %v=%g", i, k, v)
					}
				}
				if inf := g.inFlight(now, time.Second); inf != p.inFlight {
					t.Errorf("poll %d: inFlight = %+v, want %+v", i, inf, p.inFlight)
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
			"1.x with hsds_internal_requests_total: DN 503s and errors explain that many 503s as upstream",
			&nodeView{sn: MetricsSample{Ready: true, TasksActive: known(100), TasksMax: known(100),
				Responses: map[string]float64{"200": 10, "503": 4}, Internal: map[string]float64{"200": 50, "503": 1, "error": 0}}},
			nodeView{sn: MetricsSample{Ready: true, TasksActive: known(120), TasksMax: known(100),
				Responses: map[string]float64{"200": 15, "503": 14}, Internal: map[string]float64{"200": 60, "503": 3, "error": 1}}},
			map[RespKey]float64{k200: 5, kOver: 7, {Code: "503", Cause: schema.CauseUpstream}: 3},
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
	tests := []struct {
		name      string
		readiness int32
		gateBusy  bool
		want      string
	}{
		{"not ready", readinessNotReady, false, schema.CauseNotReady},
		{"not ready, gate busy", readinessNotReady, true, schema.CauseNotReady},
		{"ready, gate busy", readinessReady, true, schema.CauseOverload},
		{"ready, gate idle: the next poll decides", readinessReady, false, ""},
		{"unknown, gate busy", readinessUnknown, true, schema.CauseOverload},
		{"unknown, gate idle", readinessUnknown, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifyProxy503(tc.readiness, tc.gateBusy); got != tc.want {
				t.Errorf("classifyProxy503() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSettleCause(t *testing.T) {
	tests := []struct {
		name                         string
		read, ready, before, busyNow bool
		want                         string
	}{
		{"SN left READY in the interval", true, false, false, false, schema.CauseNotReady},
		{"not READY beats a busy gate", true, false, true, true, schema.CauseNotReady},
		{"gate busy at the end: a burst's first 503s", true, true, false, true, schema.CauseOverload},
		{"gate busy at the start: a burst's tail", true, true, true, false, schema.CauseOverload},
		{"gate never near the limit: passed on from a DN", true, true, false, false, schema.CauseUpstream},
		{"SN unreadable, gate was busy", false, false, true, false, schema.CauseOverload},
		{"SN unreadable, no evidence", false, false, false, false, schema.CauseUpstream},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := settleCause(tc.read, tc.ready, tc.before, tc.busyNow); got != tc.want {
				t.Errorf("settleCause() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIdleConnsFor(t *testing.T) {
	for limit, want := range map[int]int{1: 1, 4: 1, 7: 1, 8: 2, 10: 2, 100: 25, 1000: 250} {
		if got := IdleConnsFor(limit); got != want {
			t.Errorf("IdleConnsFor(%d) = %d, want %d", limit, got, want)
		}
	}
}
