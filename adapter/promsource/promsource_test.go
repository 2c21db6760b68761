package promsource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	testclock "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/promsource"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type series struct {
	labels map[string]string
	value  string
}

// fakeProm answers /api/v1/query like Prometheus answers promsource.Query: the series, and the
// scrape times labelled promsource.ScrapeTimeLabel.
type fakeProm struct {
	mu     sync.Mutex
	series []series
	times  map[string]float64 // pod -> scrape time (unix seconds)
	broken bool
	asked  []string // the queries received, in order
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r.Form.Get("query"))
	if f.broken {
		http.Error(w, `{"status":"error","errorType":"internal","error":"boom"}`, http.StatusInternalServerError)
		return
	}
	type result struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	var res []result
	for pod, ts := range f.times {
		res = append(res, result{map[string]string{promsource.ScrapeTimeLabel: promsource.ScrapeTimeValue, "namespace": "ns", "pod": pod}, [2]any{1e9, ftoa(ts)}})
	}
	for _, s := range f.series {
		res = append(res, result{s.labels, [2]any{1e9, s.value}})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": res}})
}

func ftoa(f float64) string { b, _ := json.Marshal(f); return string(b) }

// pod returns the series of one agent with the given 200 and overload-503 counts.
func pod(name, ok, overload string) []series {
	l := func(kv ...string) map[string]string {
		m := map[string]string{"namespace": "ns", "pod": name}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	return []series{
		{l("__name__", "hsds_agent_responses_total", "code", "200", "cause", ""), ok},
		{l("__name__", "hsds_agent_responses_total", "code", "503", "cause", "overload"), overload},
		{l("__name__", "hsds_agent_in_flight"), "42"},
		{l("__name__", "hsds_agent_in_flight_limit"), "100"},
		{l("__name__", "hsds_agent_node_state", "node", "sn", "state", "READY"), "1"},
		{l("__name__", "hsds_agent_up"), "1"},
		{l("__name__", "hsds_agent_info", "exact", "true", "source", "metrics", "version", "1.0.1"), "1"},
	}
}

func TestPromSource(t *testing.T) {
	fp := &fakeProm{}
	ts := httptest.NewServer(fp)
	t.Cleanup(ts.Close)
	c, err := api.NewClient(api.Config{Address: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	clk := testclock.NewFakeClock(t0)
	st := store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 40 * time.Second})
	for _, n := range []string{"a", "b"} {
		st.UpsertPod(store.PodMeta{Namespace: "ns", Name: n, UID: types.UID(n), Phase: heuristics.PodRunning, IP: "127.0.0.9", Port: 1})
	}
	m, err := collector.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	src := &promsource.Source{API: promv1.NewAPI(c), Sink: st, Clock: clk, Timeout: 2 * time.Second,
		PodLabel: "pod", NamespaceLabel: "namespace", Namespaces: []string{"ns"}, Metrics: m}
	sec := float64(t0.Unix())

	steps := []struct {
		ok, overload string
		scraped      float64 // seconds after t0
	}{
		{"100", "0", 0},
		{"100", "0", 0}, // same Prometheus scrape seen again: recorded once
		{"250", "15", 15},
		{"40", "3", 30}, // reset
	}
	for _, s := range steps {
		fp.mu.Lock()
		fp.series = pod("a", s.ok, s.overload)
		fp.times = map[string]float64{"a": sec + s.scraped}
		fp.mu.Unlock()
		clk.Step(time.Second)
		src.Round(context.Background())
	}
	got := st.PodSamples("ns", labels.Everything(), t0.Add(31*time.Second))
	a, b := got[0], got[1]
	// 150+15 then 40+3 (re-based) over 30 s.
	want := heuristics.PodSample{Name: "a", Phase: heuristics.PodRunning, Known: true, SampleTime: t0.Add(30 * time.Second),
		Window: 30 * time.Second, NodeState: "READY", InFlight: 42, Limit: 100, RequestRate: (165.0 + 43) / 30,
		Rejected503: heuristics.ByCause{Overload: 18.0 / 30}, Exact503: true,
		Exposed: heuristics.Exposition{Time: t0.Add(30 * time.Second), Responses: 43, Rejected503: heuristics.ByCause{Overload: 3},
			InFlight: 42, HasInFlight: true, Limit: 100}}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("pod a (-want +got):\n%s", diff)
	}
	if b.Known {
		t.Errorf("pod b has no series in Prometheus but is known: %+v", b)
	}
	q := promsource.Query("namespace", []string{"ns"})
	fp.mu.Lock()
	wantAsked := []string{q, q, q, q}
	if diff := cmp.Diff(wantAsked, fp.asked); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
	fp.mu.Unlock()
	if _, reason, _ := st.Health("ns", "b"); reason != promsource.ReadFailureMissing {
		t.Errorf("pod b reason = %q, want missing", reason)
	}

	fp.mu.Lock()
	fp.broken = true
	fp.mu.Unlock()
	src.Round(context.Background())
	if st.PodSamples("ns", labels.Everything(), t0.Add(31*time.Second))[0].Known {
		t.Error("pod a still known after a failed query")
	}
	if _, reason, _ := st.Health("ns", "a"); reason != promsource.ReadFailureQuery {
		t.Errorf("reason = %q, want query", reason)
	}
}

// TestQuery: with namespaces the query matches only their series (names quoted as regexp
// literals); without, every namespace. The real Prometheus runs it in TestRealPrometheus.
func TestQuery(t *testing.T) {
	const want = `{__name__=~"hsds_agent_responses_total|hsds_agent_in_flight|hsds_agent_in_flight_limit|hsds_agent_up|hsds_agent_info"%[1]s}` +
		` or hsds_agent_data_nodes{node="sn"%[1]s} or hsds_agent_node_state{node="sn"%[1]s} == 1` +
		` or label_replace(timestamp(hsds_agent_up%[2]s), "hsds_promsource", "scrape_time", "", "")`
	for _, tc := range []struct {
		label      string
		namespaces []string
		want       string
	}{
		{"namespace", nil, fmt.Sprintf(want, "", "")},
		{"namespace", []string{"data"}, fmt.Sprintf(want, `,namespace=~"data"`, `{namespace=~"data"}`)},
		{"kubernetes_namespace", []string{"a", "b.c"},
			fmt.Sprintf(want, `,kubernetes_namespace=~"a|b\\.c"`, `{kubernetes_namespace=~"a|b\\.c"}`)},
	} {
		if got := promsource.Query(tc.label, tc.namespaces); got != tc.want {
			t.Errorf("Query(%q, %q) =\n  %s\nwant\n  %s", tc.label, tc.namespaces, got, tc.want)
		}
	}
}
