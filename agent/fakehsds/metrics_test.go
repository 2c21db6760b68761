package fakehsds

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

func scrape(t *testing.T, h http.Handler) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	rec := do(h, "GET", "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", rec.Code)
	}
	text := rec.Body.String()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs, text
}

// docs/hsds.md "What HSDS exposes": 1.0.x serves /metrics on SN and DN, also when not READY, with
// hsds_http_requests_total{method,status} (every response, 503s included),
// hsds_http_request_duration_seconds (histogram), hsds_tasks_active, hsds_tasks_max,
// hsds_node_ready, hsds_active_dn_count, hsds_info{node_type,node_id,version}
// (hsds/metrics.py also has hsds_start_time_seconds and hsds_log_events_total).
func TestMetrics_NamesTypesAndServedWhenNotReady(t *testing.T) {
	p, clk := newTestPod(t, nil)
	held := inflight(p.SN(), "GET", "/datasets/d1/value")
	waitTasks(t, p, 17)
	mustSetState(t, p, "sn", schema.StateWaiting)
	do(p.SN(), "GET", "/groups/g1") // not READY 503

	mfs, _ := scrape(t, p.SN())
	want := map[string]dto.MetricType{
		"hsds_http_requests_total":           dto.MetricType_COUNTER,
		"hsds_http_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"hsds_tasks_active":                  dto.MetricType_GAUGE,
		"hsds_tasks_max":                     dto.MetricType_GAUGE,
		"hsds_node_ready":                    dto.MetricType_GAUGE,
		"hsds_active_dn_count":               dto.MetricType_GAUGE,
		"hsds_info":                          dto.MetricType_GAUGE,
		"hsds_start_time_seconds":            dto.MetricType_GAUGE,
		"hsds_log_events_total":              dto.MetricType_COUNTER,
	}
	got := map[string]dto.MetricType{}
	for name, mf := range mfs {
		got[name] = mf.GetType()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metric families (-want +got):\n%s", diff)
	}
	values := map[string]float64{
		"hsds_tasks_active": 17, "hsds_tasks_max": 100, "hsds_node_ready": 0, "hsds_active_dn_count": 1,
	}
	for name, v := range values {
		if g := mfs[name].GetMetric()[0].GetGauge().GetValue(); g != v {
			t.Errorf("%s = %v, want %v", name, g, v)
		}
	}
	if got := counterByLabels(mfs["hsds_http_requests_total"]); got[`GET 503`] != 1 {
		t.Errorf("hsds_http_requests_total = %v, want GET 503 counted once", got)
	}
	clk.Step(DefaultServiceTime)
	<-held
}

func counterByLabels(mf *dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range mf.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetValue())
		}
		out[strings.Join(ls, " ")] = m.GetCounter().GetValue()
	}
	return out
}

// The whole 1.x exposition, SN and DN, after one request of each kind of outcome.
func TestMetrics_Golden(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.ServiceTime = Fixed(0); c.MaxTaskCount = 0 })
	do(p.SN(), "GET", "/datasets/d1/value")
	do(p.SN(), "POST", "/groups")
	do(p.SN(), "GET", "/groups/g1?fail=upstream")
	do(p.SN(), "GET", "/info")
	mustSetState(t, p, "dn", schema.StateTerminating)
	do(p.DN(), "PUT", "/datasets/d1/value")
	_, sn := scrape(t, p.SN())
	_, dn := scrape(t, p.DN())
	golden(t, "metrics-sn.txt", []byte(sn))
	golden(t, "metrics-dn.txt", []byte(dn))
}

// docs/hsds.md: "0.9.x has no /metrics" (no route: 404, not gated, whatever the state).
func TestMetrics_Absent09x(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.Version = Version09; c.Metrics = false; c.InitialState = schema.StateWaiting })
	for _, h := range []http.Handler{p.SN(), p.DN()} {
		if got := do(h, "GET", "/metrics").Code; got != http.StatusNotFound {
			t.Errorf("0.9.x /metrics: status %d, want 404", got)
		}
	}
	if got := do(p.SN(), "GET", "/about").Body.String(); !strings.Contains(got, `"hsds_version": "0.9.4"`) {
		t.Errorf("/about %s: want hsds_version 0.9.4", got)
	}
}

// Restart starts /metrics counters again from zero, as a new process does.
func TestMetrics_RestartResetsCounters(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.RescaleSettle = 0; c.ServiceTime = Fixed(0) })
	do(p.SN(), "GET", "/groups/g1")
	p.Restart()
	mfs, _ := scrape(t, p.SN())
	if got := counterByLabels(mfs["hsds_http_requests_total"]); len(got) != 0 {
		t.Errorf("hsds_http_requests_total after restart = %v, want no series", got)
	}
}

// promtool accepts the exposition (names, types, help) the fake serves. Its one lint finding is
// HSDS's own name hsds_active_dn_count ("_count" suffix on a gauge), which the fake must keep.
func TestMetrics_PromtoolCheck(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is required on CI: %v", err)
		}
		t.Skip("promtool not installed")
	}
	for _, name := range []string{"metrics-sn.txt", "metrics-dn.txt"} {
		text, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "check", "metrics")
		cmd.Stdin = bytes.NewReader(text)
		out, _ := cmd.CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" && !strings.HasPrefix(line, `hsds_active_dn_count non-histogram and non-summary metrics should not have "_count" suffix`) {
				t.Errorf("promtool check metrics %s: %s", name, line)
			}
		}
	}
}
