package provider_test

import (
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"context"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	cmclient "k8s.io/metrics/pkg/client/custom_metrics"
	testclock "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/internal/fakeagent"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	agentschema "github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func restMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Version: "v1"}, {Group: "apps", Version: "v1"}})
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	return m
}

// TestRealClient scrapes fake agents with the real collector, serves the store through the
// custom-metrics-apiserver, and reads it back with the client the HPA controller uses.
func TestRealClient(t *testing.T) {
	clk := testclock.NewFakeClock(t0)
	st := store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 5 * time.Second})
	client := collector.NewHTTPClient(time.Second)
	t.Cleanup(client.CloseIdleConnections)
	coll := &collector.Collector{Sink: st, Clock: clk, Workers: 2, Path: "/metrics",
		Scraper: &collector.Scraper{Client: client, Timeout: time.Second, MaxBodyBytes: 1 << 20}}
	agents := map[string]*fakeagent.Agent{}
	for i, name := range []string{"hsds-5d8f-a", "hsds-5d8f-b", "hsds-5d8f-dead"} {
		a := fakeagent.New(fakeagent.Default())
		srv := httptest.NewServer(a)
		t.Cleanup(srv.Close)
		host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		p, _ := strconv.Atoi(port)
		agents[name] = a
		st.UpsertPod(store.PodMeta{Namespace: "hsds", Name: name, UID: types.UID(strconv.Itoa(i)), Phase: heuristics.PodRunning,
			Labels: map[string]string{"app": "hsds"}, IP: host, Port: p, Deployment: "hsds"})
	}
	st.UpsertPod(store.PodMeta{Namespace: "hsds", Name: "hsds-5d8f-pending", UID: "p", Phase: heuristics.PodPending,
		Labels: map[string]string{"app": "hsds"}, Deployment: "hsds"})
	for i := 0; i < 11; i++ {
		agents["hsds-5d8f-a"].Update(func(s *fakeagent.State) {
			s.OK += 20
			s.Rejected[agentschema.CauseOverload] += 3
			s.Rejected[agentschema.CauseNotReady] += 1
			s.InFlight = 80
		})
		agents["hsds-5d8f-b"].Update(func(s *fakeagent.State) { s.OK += 5; s.InFlight = 10 })
		if i == 10 {
			agents["hsds-5d8f-dead"].Update(func(s *fakeagent.State) { s.Raw = "hsds_agent_up 1\nhsds_agent_in_flight NaN\n" })
		}
		clk.Step(time.Second)
		coll.Round(context.Background())
	}

	ts := serve(t, &provider.Provider{Source: st, Clock: clk})
	cfg := &rest.Config{Host: ts.URL}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The generic server also answers aggregated discovery, which lists only groups it installed
	// itself; kube-apiserver merges APIServices for real clients, so ask for the legacy form here.
	disc.UseLegacyDiscovery = true
	multi := cmclient.NewForConfig(cfg, restMapper(), cmclient.NewAvailableAPIsGetter(disc))
	v1beta2, err := cmclient.NewForVersionForConfig(cfg, restMapper(), schema.GroupVersion{Group: "custom.metrics.k8s.io", Version: "v1beta2"})
	if err != nil {
		t.Fatal(err)
	}
	for name, cm := range map[string]cmclient.CustomMetricsClient{"discovered": multi, "v1beta2": v1beta2} {
		t.Run(name, func(t *testing.T) { checkClient(t, cm) })
	}
}

func checkClient(t *testing.T, cm cmclient.CustomMetricsClient) {
	pods := schema.GroupKind{Kind: "Pod"}
	sel := labels.SelectorFromSet(labels.Set{"app": "hsds"})

	type row struct {
		Pod    string
		Milli  int64
		Window int64
		Time   time.Time
	}
	list := func(t *testing.T, metric string, msel labels.Selector) []row {
		t.Helper()
		l, err := cm.NamespacedMetrics("hsds").GetForObjects(pods, sel, metric, msel)
		if err != nil {
			t.Fatalf("GetForObjects(%s): %v", metric, err)
		}
		var out []row
		for _, it := range l.Items {
			out = append(out, row{it.DescribedObject.Name, it.Value.MilliValue(), *it.WindowSeconds, it.Timestamp.UTC()})
		}
		return out
	}
	last := t0.Add(11 * time.Second)
	tests := []struct {
		metric string
		msel   labels.Selector
		want   []row
	}{
		// The dead pod (NaN) and the Pending pod are absent, never zero.
		{provider.Metric503Rate, labels.Everything(), []row{{"hsds-5d8f-a", 4000, 10, last}, {"hsds-5d8f-b", 0, 10, last}}},
		{provider.Metric503Rate, labels.SelectorFromSet(labels.Set{"cause": "overload"}), []row{{"hsds-5d8f-a", 3000, 10, last}, {"hsds-5d8f-b", 0, 10, last}}},
		{provider.MetricInFlight, labels.Everything(), []row{{"hsds-5d8f-a", 80000, 10, last}, {"hsds-5d8f-b", 10000, 10, last}}},
		{provider.MetricUtilization, labels.Everything(), []row{{"hsds-5d8f-a", 800, 10, last}, {"hsds-5d8f-b", 100, 10, last}}},
		{provider.MetricRequestRate, labels.Everything(), []row{{"hsds-5d8f-a", 20000, 10, last}, {"hsds-5d8f-b", 5000, 10, last}}},
		{provider.MetricOfferedLoad, labels.Everything(), []row{{"hsds-5d8f-a", 24000, 10, last}, {"hsds-5d8f-b", 5000, 10, last}}},
	}
	for _, tt := range tests {
		t.Run(tt.metric+" "+tt.msel.String(), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(t, tt.metric, tt.msel)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	one, err := cm.NamespacedMetrics("hsds").GetForObject(pods, "hsds-5d8f-a", provider.Metric503Rate, labels.Everything())
	if err != nil || one.Value.MilliValue() != 4000 {
		t.Errorf("GetForObject(pod a) = %v, %v; want 4", one, err)
	}
	if _, err := cm.NamespacedMetrics("hsds").GetForObject(pods, "hsds-5d8f-dead", provider.Metric503Rate, labels.Everything()); err == nil {
		t.Error("GetForObject(dead pod) succeeded; want not found")
	}
	dep, err := cm.NamespacedMetrics("hsds").GetForObject(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "hsds", provider.MetricUtilization, labels.Everything())
	if err != nil {
		t.Fatalf("GetForObject(deployment): %v", err)
	}
	if got := dep.Value.MilliValue(); got != 450 { // (80+10)/(100+100)
		t.Errorf("deployment utilization = %dm, want 450m", got)
	}
}
