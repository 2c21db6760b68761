package dashboards

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(requireTool(t, "promtool"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPromtoolCheckRules runs `promtool check rules` on the shipped rules and on a copy with test
// durations (the one the Prometheus integration test loads).
func TestPromtoolCheckRules(t *testing.T) {
	out := runPromtool(t, ".", "check", "rules", FileAlerts)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules: no SUCCESS in\n%s", out)
	}
	dir := t.TempDir()
	b, err := marshalYAML(Rules(fastRuleOptions()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileAlerts), b, 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, dir, "check", "rules", FileAlerts)
}

// TestPromtoolTestRules runs the generated rule unit tests: each alert fires on staged series,
// is only pending before its `for`, and stays quiet on healthy series.
func TestPromtoolTestRules(t *testing.T) {
	out := runPromtool(t, ".", "test", "rules", FileAlertTests)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules: no SUCCESS in\n%s", out)
	}
}

// TestPromtoolTestRulesCanFail: the unit tests catch a rule that no longer fires (a threshold
// raised far above the staged rate).
func TestPromtoolTestRulesCanFail(t *testing.T) {
	promtool := requireTool(t, "promtool")
	dir := t.TempDir()
	o := DefaultRuleOptions()
	tests, err := marshalYAML(PromtoolTests(o, FileAlerts))
	if err != nil {
		t.Fatal(err)
	}
	o.OverloadThreshold = 1e6
	rules, err := marshalYAML(Rules(o))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{FileAlerts: rules, FileAlertTests: tests} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "test", "rules", FileAlertTests)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), AlertOverload) {
		t.Errorf("promtool test rules with a broken %s: err %v, want a failure naming it:\n%s", AlertOverload, err, out)
	}
}

// TestPrometheusExampleConfig checks the example scrape configuration. Debian's Prometheus is
// built without Kubernetes service discovery, so `promtool check config` cannot read it; this test
// checks that both jobs set the namespace and pod labels the dashboards and rules join on.
func TestPrometheusExampleConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("provisioning", "prometheus", "prometheus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			RelabelConfigs []struct {
				SourceLabels []string `yaml:"source_labels"`
				TargetLabel  string   `yaml:"target_label"`
			} `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, sc := range cfg.ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
		set := map[string]string{}
		for _, rc := range sc.RelabelConfigs {
			if rc.TargetLabel != "" && len(rc.SourceLabels) == 1 {
				set[rc.TargetLabel] = rc.SourceLabels[0]
			}
		}
		if set["namespace"] != "__meta_kubernetes_namespace" || set["pod"] != "__meta_kubernetes_pod_name" {
			t.Errorf("job %s sets %v, want namespace and pod from the pod's metadata", sc.JobName, set)
		}
	}
	if strings.Join(jobs, ",") != "hsds-agent,hsds-autoscaler" {
		t.Errorf("jobs %q, want hsds-agent and hsds-autoscaler", jobs)
	}
}
