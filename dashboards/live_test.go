package dashboards

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// TestLivePrometheus runs a real Prometheus against fake HSDS pods with hsds-agent in front and
// serve's metrics, loads the rules (short durations), waits for the staged alerts to fire, then
// runs every dashboard query and rule expression through the HTTP API.
func TestLivePrometheus(t *testing.T) {
	bin := requireTool(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	t.Cleanup(cancel)

	targets := startHSDSPods(t, ctx)
	targets = append(targets, startServeStandIn(t, ctx)) // the one line to swap for serve
	o := fastRuleOptions()
	p := startPrometheus(t, ctx, bin, o, targets)

	// Staged: overload (hsds-busy), a pod stuck WAITING (hsds-stuck), an agent that cannot read
	// HSDS (hsds-down), adapter scrapes failing half the time (stand-in). Nothing else may fire.
	want := []string{AlertAdapterScrapeErrs, AlertAgentDown, AlertOverload, AlertPodNotReady}
	slices.Sort(want)
	waitFiring(t, ctx, p, want)

	checkRuleHealth(t, ctx, p)
	checkExprs(t, ctx, p, o, want)
}

func checkRuleHealth(t *testing.T, ctx context.Context, p v1.API) {
	t.Helper()
	res, err := p.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			n++
			switch r := r.(type) {
			case v1.AlertingRule:
				if r.Health != v1.RuleHealthGood {
					t.Errorf("alert %s health %s: %s", r.Name, r.Health, r.LastError)
				}
			case v1.RecordingRule:
				if r.Health != v1.RuleHealthGood {
					t.Errorf("record %s health %s: %s", r.Name, r.Health, r.LastError)
				}
			}
		}
	}
	if want := len(RecordingRules(DefaultRuleOptions())) + len(Alerts(DefaultRuleOptions())); n != want {
		t.Errorf("prometheus loaded %d rules, want %d", n, want)
	}
}

// checkExprs runs every panel and annotation query and every rule expression. Each must parse.
// An expression must also return series when every metric it reads is present, except the
// alerts that are not staged to fire (their expressions are conditions).
func checkExprs(t *testing.T, ctx context.Context, p v1.API, o RuleOptions, firing []string) {
	t.Helper()
	exprs := map[string]string{}
	for name, e := range allQueries() {
		exprs[name] = substitute(e)
	}
	quietAlerts := map[string]bool{}
	for _, a := range Alerts(o) {
		quietAlerts["rule "+a.Name] = !slices.Contains(firing, a.Name)
	}
	for name, e := range allRuleExprs(o) {
		exprs["rule "+name] = e
	}
	var all []string
	for _, e := range exprs {
		all = append(all, MetricNames(e)...)
	}
	have := present(ctx, t, p, all)
	var parseOnly []string
	for _, name := range sortedKeys(exprs) {
		n, err := query(ctx, p, exprs[name])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		missing := slices.ContainsFunc(MetricNames(exprs[name]), func(m string) bool { return !have[m] })
		switch {
		case missing || quietAlerts[name]:
			parseOnly = append(parseOnly, name)
		case n == 0:
			t.Errorf("%s returned no series: %s", name, exprs[name])
		}
	}
	t.Logf("checked %d expressions; parsed only (a metric absent or an alert not staged): %s", len(exprs), strings.Join(parseOnly, "; "))
	for _, name := range parseOnly {
		if strings.HasPrefix(name, FileLoad) || strings.HasPrefix(name, "rule "+"namespace") {
			t.Errorf("%s was only parsed: every HSDS load query and recording rule must return series", name)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
