package dashboards

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`hsds_agent_up == 0`, []string{"hsds_agent_up"}},
		{`sum by (pod) (rate(hsds_agent_responses_total{code="503", cause=~"hsds_x"}[5m]))`, []string{"hsds_agent_responses_total"}},
		{`a{hsds_label="v"} / hsds_b_bucket{le!="1"} and on (hsds_c) hsds_b_bucket`, []string{"hsds_b_bucket"}},
		{`namespace_pod:hsds_agent_503:rate2m > 'hsds_str' + "hsds_\"q"`, []string{"namespace_pod:hsds_agent_503:rate2m"}},
		{`label_replace(hsds_z, "namespace", "$1", "target", "([^/]+)/.*")`, []string{"hsds_z"}},
		{`up`, nil},
	} {
		if diff := cmp.Diff(tc.want, MetricNames(tc.expr)); diff != "" {
			t.Errorf("MetricNames(%q) (-want +got):\n%s", tc.expr, diff)
		}
	}
}

func FuzzMetricNames(f *testing.F) {
	for _, q := range allQueries() {
		f.Add(q)
	}
	f.Add(`x{a="}"} hsds_a`)
	f.Fuzz(func(t *testing.T, expr string) {
		got := MetricNames(expr)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("MetricNames(%q) = %q: not sorted and unique", expr, got)
		}
		for _, n := range got {
			if !strings.Contains(n, "hsds_") || !strings.Contains(expr, n) {
				t.Fatalf("MetricNames(%q) returned %q, not an hsds_ identifier of the input", expr, n)
			}
		}
	})
}

// TestQueriesUseListedMetrics: every metric a dashboard query or rule reads is in Metrics (or is a
// recording rule of this package), and every listed metric is read somewhere.
func TestQueriesUseListedMetrics(t *testing.T) {
	o := DefaultRuleOptions()
	allowed := seriesNames()
	for _, r := range RecordingRules(o) {
		allowed = append(allowed, r.Record)
	}
	exprs := allQueries()
	for name, e := range allRuleExprs(o) {
		exprs["rule "+name] = e
	}
	for _, s := range Specs() {
		for _, v := range s.Variables {
			exprs["variable "+v.Name] = v.Definition
		}
	}
	base := map[string]string{}
	for _, m := range Metrics() {
		base[m.Name] = m.Name
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if m.Histogram {
				base[m.Name+suffix] = m.Name
			}
		}
	}
	used := map[string]bool{}
	for where, e := range exprs {
		for _, n := range MetricNames(e) {
			used[base[n]] = true
			if !slices.Contains(allowed, n) {
				t.Errorf("%s reads %s, which is not in Metrics() (metrics.go)", where, n)
			}
		}
	}
	for _, m := range Metrics() {
		if !used[m.Name] {
			t.Errorf("%s is listed in Metrics() but no dashboard or rule reads it", m.Name)
		}
	}
}

// recorder is a Registerer that keeps what is registered, to read the descriptors.
type recorder struct{ cs []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error   { r.cs = append(r.cs, c); return nil }
func (r *recorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }
func (r *recorder) Unregister(prometheus.Collector) bool    { return false }

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// exportedNames returns the metric names the collectors describe.
func exportedNames(cs ...prometheus.Collector) []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range cs {
			c.Describe(ch)
		}
		close(ch)
	}()
	var out []string
	for d := range ch {
		if m := fqNameRE.FindStringSubmatch(d.String()); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// TestMetricsExist checks every listed name against the code that exports it: the agent's
// collector, the adapter's collector and provider metrics, and the scaler's metrics.
func TestMetricsExist(t *testing.T) {
	adapterReg, scalerReg := &recorder{}, &recorder{}
	if _, err := collector.NewMetrics(adapterReg); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.NewInstrumented(nil, clocktesting.NewFakePassiveClock(testEpoch), adapterReg); err != nil {
		t.Fatal(err)
	}
	if _, err := scaler.NewMetrics(scalerReg); err != nil {
		t.Fatal(err)
	}
	exported := map[Exporter][]string{
		ExporterAgent:   exportedNames(agent.NewCollector(nil)),
		ExporterAdapter: exportedNames(adapterReg.cs...),
		ExporterScaler:  exportedNames(scalerReg.cs...),
	}
	for e, names := range exported {
		if len(names) == 0 {
			t.Errorf("exporter %s describes no metric: the test no longer reads its code", e)
		}
	}
	for _, m := range Metrics() {
		if !slices.Contains(exported[m.Exporter], m.Name) {
			t.Errorf("%s (exporter %s) is not exported by its code; exported: %q", m.Name, m.Exporter, exported[m.Exporter])
		}
	}
}
