package dashboards

import (
	"flag"
	"os"
	"os/exec"
	"testing"
	"time"
)

var testEpoch = time.Unix(1_700_000_000, 0)

var update = flag.Bool("update", false, "rewrite the generated files and the docs reference")

// requireTool returns the path of an external binary. Missing, it fails the test when $CI is set
// (CI installs the Debian package prometheus) and skips it otherwise.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found on CI (install the Debian package prometheus): %v", name, err)
	}
	t.Skipf("%s not found (install the Debian package prometheus): %v", name, err)
	return ""
}

// allQueries returns every PromQL expression of the dashboards (panels and annotations) keyed by
// a readable name.
func allQueries() map[string]string {
	out := map[string]string{}
	for file, s := range Specs() {
		for _, a := range s.Annotations {
			out[file+": annotation "+a.Name] = a.Expr
		}
		for _, row := range s.Rows {
			for _, p := range row.Panels {
				for i, q := range p.Queries {
					out[file+": "+p.Title+": "+refID(i)] = q.Expr
				}
			}
		}
	}
	return out
}

// allRuleExprs returns every rule expression keyed by the rule's name.
func allRuleExprs(o RuleOptions) map[string]string {
	out := map[string]string{}
	for _, g := range Rules(o).Groups {
		for _, r := range g.Rules {
			out[r.Record+r.Alert] = r.Expr
		}
	}
	return out
}

// fastRuleOptions are the rule options of the live Prometheus test: short windows and `for`s.
func fastRuleOptions() RuleOptions {
	o := DefaultRuleOptions()
	o.RateWindow = 5 * time.Second
	o.OverloadThreshold = 0.5
	o.OverloadFor, o.NotReadyFor, o.AgentDownFor = 2*time.Second, 2*time.Second, 2*time.Second
	o.PendingFor, o.AtMaxFor, o.ActuationFor = 2*time.Second, 2*time.Second, 2*time.Second
	o.AdapterErrorsFor, o.AdapterStaleAfter, o.AdapterStaleFor, o.NoLeaderFor = 2*time.Second, 30*time.Second, 2*time.Second, 2*time.Second
	return o
}
