package provider_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	testclock "k8s.io/utils/clock/testing"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// fakeSource serves fixed views.
type fakeSource []store.PodView

func (f fakeSource) Visit(_ string, _ labels.Selector, _ time.Time, _ store.Window, fn func(*store.PodView)) {
	for i := range f {
		v := f[i]
		fn(&v)
	}
}
func (f fakeSource) Get(_, name string, _ time.Time, _ store.Window) (store.PodView, bool) {
	for _, v := range f {
		if v.Name == name {
			return v, true
		}
	}
	return store.PodView{}, false
}
func (f fakeSource) ListDeployment(_, d string, _ time.Time, _ store.Window) []store.PodView {
	var out []store.PodView
	for _, v := range f {
		if v.Deployment == d {
			out = append(out, v)
		}
	}
	return out
}

func view(name string, known bool, t time.Time, window time.Duration, inFlight, limit, rate float64, c heuristics.ByCause) store.PodView {
	return store.PodView{Namespace: "ns", Deployment: "hsds", HasLimit: limit > 0, PodSample: heuristics.PodSample{
		Name: name, Known: known, SampleTime: t, Window: window, InFlight: inFlight, Limit: limit, RequestRate: rate, Rejected503: c}}
}

func src() fakeSource {
	return fakeSource{
		view("a", true, t0, 30*time.Second, 90, 100, 50, heuristics.ByCause{Overload: 10, NotReady: 1, Upstream: 0.5}),
		view("b", true, t0.Add(-time.Second), 29*time.Second, 10, 100, 10, heuristics.ByCause{}),
		view("nolimit", true, t0, 30*time.Second, 5, 0, 1, heuristics.ByCause{}),
		view("unknown", false, time.Time{}, 0, 0, 0, 0, heuristics.ByCause{}),
	}
}

func pods(m string) cmprovider.CustomMetricInfo {
	return cmprovider.CustomMetricInfo{GroupResource: provider.Pods, Namespaced: true, Metric: m}
}

func TestGetMetricBySelector(t *testing.T) {
	p := &provider.Provider{Source: src(), Clock: testclock.NewFakeClock(t0)}
	tests := []struct {
		metric   string
		sel      string
		want     map[string]int64 // pod -> milli value
		notFound bool
	}{
		{metric: provider.Metric503Rate, want: map[string]int64{"a": 11500, "b": 0, "nolimit": 0}},
		{metric: provider.Metric503Rate, sel: "cause=overload", want: map[string]int64{"a": 10000, "b": 0, "nolimit": 0}},
		{metric: provider.Metric503Rate, sel: "cause in (overload,upstream)", want: map[string]int64{"a": 10500, "b": 0, "nolimit": 0}},
		{metric: provider.Metric503Rate, sel: "cause!=not_ready,window=short", want: map[string]int64{"a": 10500, "b": 0, "nolimit": 0}},
		{metric: provider.Metric503Rate, sel: "cause=bogus", notFound: true},
		{metric: provider.MetricInFlight, sel: "cause=overload", notFound: true},
		{metric: provider.MetricInFlight, want: map[string]int64{"a": 90000, "b": 10000, "nolimit": 5000}},
		{metric: provider.MetricUtilization, want: map[string]int64{"a": 900, "b": 100}},
		{metric: provider.MetricRequestRate, want: map[string]int64{"a": 38500, "b": 10000, "nolimit": 1000}},
		{metric: provider.MetricOfferedLoad, want: map[string]int64{"a": 50000, "b": 10000, "nolimit": 1000}},
		{metric: "cpu", notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.metric+" "+tt.sel, func(t *testing.T) {
			sel, err := labels.Parse(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			l, err := p.GetMetricBySelector(context.Background(), "ns", labels.Everything(), pods(tt.metric), sel)
			if tt.notFound {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want a NotFound status error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, it := range l.Items {
				got[it.DescribedObject.Name] = it.Value.MilliValue()
				if it.DescribedObject.Name == "b" && (*it.WindowSeconds != 29 || !it.Timestamp.Time.Equal(t0.Add(-time.Second))) {
					t.Errorf("pod b window/time = %d %v, want 29 and its sample time", *it.WindowSeconds, it.Timestamp)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetMetricByName(t *testing.T) {
	p := &provider.Provider{Source: src(), Clock: testclock.NewFakeClock(t0)}
	dep := cmprovider.CustomMetricInfo{GroupResource: provider.Deployments, Namespaced: true}
	tests := []struct {
		name, object, metric string
		info                 cmprovider.CustomMetricInfo
		want                 int64
		wantWindow           int64
		notFound             bool
	}{
		{name: "pod", object: "a", info: pods(provider.Metric503Rate), want: 11500, wantWindow: 30},
		{name: "unknown pod is not found", object: "unknown", info: pods(provider.MetricInFlight), notFound: true},
		{name: "missing pod", object: "zzz", info: pods(provider.MetricInFlight), notFound: true},
		{name: "deployment 503 sums", object: "hsds", metric: provider.Metric503Rate, info: dep, want: 11500, wantWindow: 29},
		{name: "deployment utilization is sum/sum", object: "hsds", metric: provider.MetricUtilization, info: dep, want: 500, wantWindow: 29},
		{name: "deployment without pods", object: "other", metric: provider.MetricInFlight, info: dep, notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := tt.info
			if tt.metric != "" {
				info.Metric = tt.metric
			}
			v, err := p.GetMetricByName(context.Background(), types.NamespacedName{Namespace: "ns", Name: tt.object}, info, labels.Everything())
			if tt.notFound {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Value.MilliValue() != tt.want || *v.WindowSeconds != tt.wantWindow {
				t.Errorf("value %dm window %d, want %dm %d", v.Value.MilliValue(), *v.WindowSeconds, tt.want, tt.wantWindow)
			}
		})
	}
}

func TestListAllAndInstrumented(t *testing.T) {
	clk := testclock.NewFakeClock(t0)
	reg := prometheus.NewRegistry()
	ip, err := provider.NewInstrumented(&provider.Provider{Source: src(), Clock: clk}, clk, reg)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ip.ListAllMetrics()); got != 2*len(provider.Names) {
		t.Errorf("ListAllMetrics = %d entries, want %d", got, 2*len(provider.Names))
	}
	_, _ = ip.GetMetricBySelector(context.Background(), "ns", labels.Everything(), pods(provider.MetricInFlight), labels.Everything())
	_, _ = ip.GetMetricBySelector(context.Background(), "ns", labels.Everything(), pods("made_up"), labels.Everything())
	if n := testutil.CollectAndCount(reg, "hsds_adapter_api_request_duration_seconds"); n != 2 {
		t.Errorf("latency series = %d, want 2 (ok, and not_found under metric=other)", n)
	}
}

// TestProviderAnswersOnlyWatchedNamespaces: with Namespaces set, another namespace is "not
// found" for lists and single objects alike, even when the store would have an answer.
func TestProviderAnswersOnlyWatchedNamespaces(t *testing.T) {
	p := &provider.Provider{Source: src(), Clock: testclock.NewFakeClock(t0), Namespaces: []string{"ns", "other-hsds"}}
	ctx := context.Background()
	if l, err := p.GetMetricBySelector(ctx, "ns", labels.Everything(), pods(provider.MetricInFlight), labels.Everything()); err != nil || len(l.Items) == 0 {
		t.Fatalf("watched namespace: %v, %v; want items", l, err)
	}
	if _, err := p.GetMetricBySelector(ctx, "kube-system", labels.Everything(), pods(provider.MetricInFlight), labels.Everything()); !apierrors.IsNotFound(err) {
		t.Errorf("list in an unwatched namespace: err = %v, want NotFound", err)
	}
	if _, err := p.GetMetricByName(ctx, types.NamespacedName{Namespace: "ns", Name: "a"}, pods(provider.MetricInFlight), labels.Everything()); err != nil {
		t.Errorf("pod in a watched namespace: %v", err)
	}
	if _, err := p.GetMetricByName(ctx, types.NamespacedName{Namespace: "kube-system", Name: "a"}, pods(provider.MetricInFlight), labels.Everything()); !apierrors.IsNotFound(err) {
		t.Errorf("pod in an unwatched namespace: err = %v, want NotFound", err)
	}
}

// TestDeploymentSumCountsANewPodsLoadOnce: a Deployment's rate figure weights a pod that started
// within the window by its span (heuristics.WindowShare), as the scaler's sums do, and then stands
// for the whole window; instantaneous figures are summed as they are. Pod old served 8 req/s for
// 20 s and 4 for the last 10 (6.67 over its 30 s window); pod young started 10 s ago and serves 4
// over its 9 s: the Deployment read 6.67 + 4 x 9/30 = 7.87 req/s, not 10.67.
func TestDeploymentSumCountsANewPodsLoadOnce(t *testing.T) {
	old := view("old", true, t0, 30*time.Second, 10, 100, 20.0/3, heuristics.ByCause{})
	old.Started = t0.Add(-time.Hour)
	young := view("young", true, t0, 9*time.Second, 10, 100, 4, heuristics.ByCause{})
	young.Started = t0.Add(-10 * time.Second)
	p := &provider.Provider{Source: fakeSource{old, young}, Clock: testclock.NewFakeClock(t0)}
	dep := cmprovider.CustomMetricInfo{GroupResource: provider.Deployments, Namespaced: true}
	for _, tc := range []struct {
		metric     string
		want       int64
		wantWindow int64
	}{
		{provider.MetricOfferedLoad, 7867, 30},
		{provider.MetricInFlight, 20000, 9},
	} {
		info := dep
		info.Metric = tc.metric
		v, err := p.GetMetricByName(context.Background(), types.NamespacedName{Namespace: "ns", Name: "hsds"}, info, labels.Everything())
		if err != nil {
			t.Fatal(err)
		}
		if v.Value.MilliValue() != tc.want || *v.WindowSeconds != tc.wantWindow {
			t.Errorf("%s: value %dm window %d, want %dm %d", tc.metric, v.Value.MilliValue(), *v.WindowSeconds, tc.want, tc.wantWindow)
		}
	}
}
