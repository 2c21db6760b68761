//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/dashboards"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// TestDashboardsLivePrometheusWithServe is the dashboards issue's check with every real part: a
// real Prometheus scrapes the fake HSDS pods' hsds-agents and a running `hsds-autoscaler serve`
// (adapter and scaler acting on the real control plane); a staged overload fires HSDSOverload;
// then every dashboard panel and annotation query and every rule expression must parse, and must
// return series whenever every metric it reads exists (the scaler's per-target series included).
// dashboards/live_test.go does the same without a cluster for the agent-side alerts.
func TestDashboardsLivePrometheusWithServe(t *testing.T) {
	bin := lookPrometheus(t)
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-dash"
	w := newWorkload(ctx, t, ns, 2, func(c *fakekubelet.Config) { c.Slots = 2 }) // scale-ups stay Pending
	w.startLoad(t, 200)                                                          // ~2.5 pods' worth on 2 pods
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, map[string]any{"maxReplicas": 3}, nil))...)

	var targets []promTarget
	for _, p := range w.kubelet.Pods() {
		targets = append(targets, promTarget{job: "hsds-agent", addr: hostOf(t, p.AgentURL), namespace: ns, pod: p.Name})
	}
	targets = append(targets, promTarget{job: "hsds-autoscaler", addr: hostOf(t, s.metricsURL), namespace: "hsds-autoscaler", pod: "serve"})
	o := fastRules()
	p := startProm(ctx, t, bin, o, targets)

	queryAPI(ctx, t, s, ns) // the adapter's API latency series exist once the API was used
	waitAlert(ctx, t, p, dashboards.AlertOverload)
	// The scaler acted (or held on the Pending pod): its per-target series exist by now.
	metricAtLeast(ctx, t, s, "hsds_scaler_decisions_total", nil, 1, 30*time.Second)
	time.Sleep(3 * time.Second) // two more scrapes of serve

	firing, err := dashboards.FiringAlerts(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("firing: %v", firing)
	exprs := map[string]string{}
	for name, e := range dashboards.Queries() {
		exprs[name] = dashboards.SubstituteVariables(e)
	}
	conditions := map[string]bool{} // alert expressions that need not return series (not firing)
	for name, e := range dashboards.RuleExprs(o) {
		exprs["rule "+name] = e
		conditions["rule "+name] = isAlert(o, name) && !slices.Contains(firing, name)
	}
	checked, withSeries := 0, 0
	for _, name := range sortedNames(exprs) {
		e := exprs[name]
		n, err := seriesOf(ctx, p, e)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checked++
		if n > 0 {
			withSeries++
			continue
		}
		if missing := absent(ctx, t, p, dashboards.MetricNames(e)); len(missing) == 0 && !conditions[name] && !filtered.MatchString(e) {
			t.Errorf("%s returned no series although every metric it reads exists: %s", name, e)
		} else {
			t.Logf("%s: no series (absent: %v)", name, missing)
		}
	}
	t.Logf("%d expressions parsed, %d returned series", checked, withSeries)
}

// filtered matches a query that filters by a comparison with a number ("... > 0"): it shows events
// (a change in the last minute, a node not READY), and is empty when none happened.
var filtered = regexp.MustCompile(`(>|<|==|!=|>=|<=)\s*[0-9.]+`)

// queryAPI lists hsds_503_rate straight from serve's secure port as the cluster admin (delegated
// authentication and authorization through the real kube-apiserver).
func queryAPI(ctx context.Context, t *testing.T, s *serveProc, ns string) {
	t.Helper()
	u := fmt.Sprintf("https://127.0.0.1:%d/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/%%2A/hsds_503_rate?labelSelector=app%%3Dhsds", s.securePort, ns)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // serve's self-signed cert
	defer client.CloseIdleConnections()
	eventually(ctx, t, 30*time.Second, "custom-metrics list from serve", func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err
		}
		req.Header.Set("Authorization", "Bearer "+cluster.AdminToken())
		rsp, err := client.Do(req)
		if err != nil {
			return false, nil
		}
		defer func() { _ = rsp.Body.Close() }()
		return rsp.StatusCode == http.StatusOK, nil
	})
}

type promTarget struct{ job, addr, namespace, pod string }

func lookPrometheus(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("prometheus not found on CI (Debian package prometheus): %v", err)
		}
		t.Skipf("prometheus not found (install the Debian package prometheus): %v", err)
	}
	return p
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// fastRules are the shipped rules with short windows and `for`s, so alerts fire within seconds.
func fastRules() dashboards.RuleOptions {
	o := dashboards.DefaultRuleOptions()
	o.RateWindow, o.OverloadThreshold = 5*time.Second, 0.5
	o.OverloadFor, o.NotReadyFor, o.AgentDownFor = 2*time.Second, 2*time.Second, 2*time.Second
	o.PendingFor, o.AtMaxFor, o.ActuationFor = 2*time.Second, 2*time.Second, 2*time.Second
	o.AdapterErrorsFor, o.AdapterStaleAfter, o.AdapterStaleFor, o.NoLeaderFor = 2*time.Second, 30*time.Second, 2*time.Second, 2*time.Second
	return o
}

func isAlert(o dashboards.RuleOptions, name string) bool {
	for _, a := range dashboards.Alerts(o) {
		if a.Name == name {
			return true
		}
	}
	return false
}

// startProm runs Prometheus on a free loopback port scraping targets every second with the rules
// of o; it is killed at the end of the test.
func startProm(ctx context.Context, t *testing.T, bin string, o dashboards.RuleOptions, targets []promTarget) v1.API {
	t.Helper()
	dir := t.TempDir()
	rules, err := dashboards.RulesYAML(o)
	if err != nil {
		t.Fatal(err)
	}
	var scrapes []map[string]any
	for i, tg := range targets {
		scrapes = append(scrapes, map[string]any{"job_name": fmt.Sprintf("%s-%d", tg.job, i),
			"static_configs": []map[string]any{{"targets": []string{tg.addr}, "labels": map[string]string{"namespace": tg.namespace, "pod": tg.pod}}}})
	}
	cfg, err := yaml.Marshal(map[string]any{
		"global":         map[string]string{"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
		"rule_files":     []string{filepath.Join(dir, "rules.yaml")},
		"scrape_configs": scrapes,
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"rules.yaml": rules, "prometheus.yml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("--- prometheus log:\n%s", tailOf(logPath, 30))
		}
	})
	client, err := api.NewClient(api.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	p := v1.NewAPI(client)
	eventually(ctx, t, 30*time.Second, "prometheus ready", func(ctx context.Context) (bool, error) {
		_, err := p.Buildinfo(ctx)
		return err == nil, nil
	})
	return p
}

func waitAlert(ctx context.Context, t *testing.T, p v1.API, name string) {
	t.Helper()
	eventually(ctx, t, 90*time.Second, "alert "+name+" firing", func(ctx context.Context) (bool, error) {
		firing, err := dashboards.FiringAlerts(ctx, p)
		return err == nil && slices.Contains(firing, name), nil
	})
}

func seriesOf(ctx context.Context, p v1.API, expr string) (int, error) {
	return dashboards.SeriesCount(ctx, p, expr, time.Now())
}

// absent returns the metric names with no series in Prometheus.
func absent(ctx context.Context, t *testing.T, p v1.API, names []string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		c, err := seriesOf(ctx, p, fmt.Sprintf(`{__name__=%q}`, n))
		if err != nil {
			t.Fatal(err)
		}
		if c == 0 {
			out = append(out, n)
		}
	}
	return out
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
