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

func allQueries() map[string]string { return Queries() }

func allRuleExprs(o RuleOptions) map[string]string { return RuleExprs(o) }

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
