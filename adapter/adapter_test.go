package adapter_test

import (
	"context"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/clock"
	testclock "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/discovery"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/internal/fakeagent"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/promsource"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// TestAdapterEndToEnd: informers find the pod, the loop scrapes its agent, the store has figures,
// the probes follow.
func TestAdapterEndToEnd(t *testing.T) {
	agent := fakeagent.New(fakeagent.Default())
	srv := httptest.NewServer(agent)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "hsds", Name: "hsds-0", UID: "u0", Labels: map[string]string{"app": "hsds"},
			Annotations: map[string]string{discovery.AgentPortAnnotation: port}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1"},
	}
	clk := testclock.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	reg := prometheus.NewRegistry()
	o := adapter.NewOptions()
	o.Namespaces = []string{"hsds"}
	a, err := adapter.New(*o, fake.NewClientset(pod), reg, clk)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Loop.Ready(); err == nil {
		t.Error("ready before the first round")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); a.Wait() })
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "first round", func() bool { return a.Loop.Ready() == nil })
	sel := labels.SelectorFromSet(labels.Set{"app": "hsds"})
	if got := a.Store.PodSamples("hsds", sel, clk.Now()); len(got) != 1 || got[0].Known {
		t.Fatalf("after one round want one pod, not yet known (one reading has no rate): %+v", got)
	}
	agent.Update(func(s *fakeagent.State) { s.OK = 30; s.InFlight = 12 })
	testwait.For(t, "loop waiting", clk.HasWaiters)
	clk.Step(1500 * time.Millisecond)
	testwait.For(t, "second round", func() bool { return a.Loop.Rounds() >= 2 })
	got := a.Store.PodSamples("hsds", sel, clk.Now())[0]
	if !got.Known || got.RequestRate != 20 || got.InFlight != 12 {
		t.Errorf("sample = %+v, want known, 20 req/s, 12 in flight", got)
	}
	if err := a.Loop.Live(); err != nil {
		t.Errorf("Live() = %v", err)
	}
	if v, err := testutil.GatherAndCount(reg, "hsds_adapter_pods"); err != nil || v != 1 {
		t.Errorf("hsds_adapter_pods series = %d, %v", v, err)
	}
}

// TestNewRounderPrometheusNamespaces: in Prometheus mode the round reads only the namespaces the
// service watches (--hsds-namespaces), so pods of other namespaces never reach the store.
func TestNewRounderPrometheusNamespaces(t *testing.T) {
	for _, namespaces := range [][]string{nil, {"data", "hsds"}} {
		o := adapter.NewOptions()
		o.PrometheusURL, o.Namespaces = "http://127.0.0.1:9", namespaces
		m, err := collector.NewMetrics(prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		r, err := adapter.NewRounder(*o, store.New(store.Config{}), clock.RealClock{}, m)
		if err != nil {
			t.Fatal(err)
		}
		src, ok := r.(*promsource.Source)
		if !ok {
			t.Fatalf("NewRounder with --prometheus-url = %T, want *promsource.Source", r)
		}
		if !slices.Equal(src.Namespaces, namespaces) || src.NamespaceLabel != "namespace" {
			t.Errorf("source reads namespaces %q by label %q, want %q by namespace", src.Namespaces, src.NamespaceLabel, namespaces)
		}
	}
}
