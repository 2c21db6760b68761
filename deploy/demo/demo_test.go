package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

func fakeBin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hsds-autoscaler"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOptionsDefaultsValid(t *testing.T) {
	o := NewOptions()
	o.Bin = fakeBin(t)
	if err := o.Validate(); err != nil {
		t.Errorf("defaults with --bin: %v", err)
	}
}

func TestOptionsValidateReportsEverything(t *testing.T) {
	o := NewOptions()
	o.Bin = t.TempDir() // no hsds-autoscaler in it
	o.Out, o.Duration, o.Compressed, o.PeakRPS = "", 0, 0.5, 0
	o.Warmup, o.InitialReplicas, o.Slots, o.ScaleUpDelay = -time.Second, 0, 0, -time.Second
	o.MaxTaskCount, o.ServiceTime, o.RescaleSettle, o.GateJamChance = 0, "gamma:1s", -time.Second, 1.5
	o.Policy = filepath.Join(t.TempDir(), "missing.yaml")
	err := o.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--bin", "--out", "--warmup", "--initial-replicas", "--slots", "--scale-up-delay",
		"--max-task-count", "--rescale-settle", "--gate-jam-chance", "--service-time", "duration 0s", "compression 0.5", "peak rate 0", "--policy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	o = NewOptions()
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--bin: required") {
		t.Errorf("missing --bin: %v", err)
	}
}

func TestDemoPolicyLoads(t *testing.T) {
	for name, file := range map[string][]byte{"policy.yaml": demoPolicy, "policy-real.yaml": demoPolicyReal} {
		pf, err := scaler.DecodePolicyFile(file, scaler.TargetRequired)
		if err != nil {
			t.Fatalf("deploy/demo/%s: %v", name, err)
		}
		if got := pf.Spec.Target.String(); got != "Deployment default/hsds" {
			t.Errorf("%s: target %q, want the demo's Deployment default/hsds", name, got)
		}
		p := pf.Spec.Policy
		// The fake demo learns its pods' capacity (issue 13); the real one pins a measured figure
		// (its plot's capacity line, realPodCapacity).
		if name == "policy.yaml" && p.PodCapacity != 0 {
			t.Errorf("%s: podCapacity %g, want 0: the demo learns it (docs/demo.md)", name, p.PodCapacity)
		}
		if name == "policy-real.yaml" && p.PodCapacity <= 0 {
			t.Errorf("%s: podCapacity %g: the real demo pins it (docs/demo.md)", name, p.PodCapacity)
		}
		// The scale-down must fit in the replay after a peak at about 1/3 of it.
		if down := p.StabilizationWindow.Duration + p.DwellDown.Duration; down > time.Minute {
			t.Errorf("%s: stabilizationWindow + dwellDown = %s, too long for the demo", name, down)
		}
	}
	if pf, _ := scaler.DecodePolicyFile(demoPolicyReal, scaler.TargetRequired); pf != nil && pf.Spec.Policy.PodCapacity != realPodCapacity {
		t.Errorf("policy-real.yaml: podCapacity %g, want realPodCapacity %d (the plot's capacity line)", pf.Spec.Policy.PodCapacity, realPodCapacity)
	}
}

func TestRealModeDefaults(t *testing.T) {
	o := NewOptions()
	o.HSDS, o.PeakRPS = HSDSReal, 99
	o.ApplyModeDefaults(func(name string) bool { return name == "peak-rps" })
	if o.MaxTaskCount != 30 || o.InitialReplicas != 1 || o.PeakRPS != 99 {
		t.Errorf("real defaults: max-task-count %d, initial-replicas %d, peak-rps %g; want 30, 1 and the flag's 99", o.MaxTaskCount, o.InitialReplicas, o.PeakRPS)
	}
	f := NewOptions()
	f.ApplyModeDefaults(func(string) bool { return false })
	if diff := cmp.Diff(NewOptions(), f); diff != "" {
		t.Errorf("fake mode changed defaults (-want +got):\n%s", diff)
	}
	o.HSDS = "both"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), `--hsds "both"`) {
		t.Errorf("bad --hsds: %v", err)
	}
}

func TestClientErrorRates(t *testing.T) {
	var c clientErrors
	t0 := time.Unix(1000, 0)
	if r5, r3 := c.rates(t0, map[int]int64{500: 10, 503: 4}); r5 != 0 || r3 != 0 {
		t.Errorf("first reading: %g, %g; want 0, 0", r5, r3)
	}
	c.rates(t0.Add(2*time.Second), map[int]int64{500: 20, 503: 4})
	if r5, r3 := c.rates(t0.Add(4*time.Second), map[int]int64{500: 30, 503: 12}); r5 != 5 || r3 != 2 {
		t.Errorf("over 4 s: %g 500/s, %g 503/s; want 5, 2", r5, r3)
	}
	// Older readings than rateWindow go: the rate is over the last 5-6 s.
	c.rates(t0.Add(10*time.Second), map[int]int64{500: 30, 503: 12})
	if r5, _ := c.rates(t0.Add(11*time.Second), map[int]int64{500: 30, 503: 12}); r5 != 0 {
		t.Errorf("quiet: %g 500/s, want 0", r5)
	}
}

func TestServeArgs(t *testing.T) {
	got := serveArgs(serveConfig{Binary: "x", Kubeconfig: "/k", Policy: "/p.yaml", CertDir: "/c", SecurePort: 1234, MetricsPort: 5678})
	want := []string{"serve", "--secure-port=1234", "--bind-address=127.0.0.1", "--cert-dir=/c",
		"--authentication-kubeconfig=/k", "--authorization-kubeconfig=/k", "--lister-kubeconfig=/k", "--policy=/p.yaml",
		"--metrics-bind-address=127.0.0.1:5678", "--leader-elect=false", "--hsds-namespaces=default",
		"--rate-window=10s", "--short-rate-window=5s", "-v=2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("serveArgs (-want +got):\n%s", diff)
	}
}

func TestAPIServiceYAML(t *testing.T) {
	docs := strings.Split(apiServiceYAML(4443), "\n---\n")
	if len(docs) != 3 {
		t.Fatalf("%d documents, want a Service and 2 APIServices", len(docs))
	}
	type obj struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       map[string]any `json:"spec"`
	}
	var got []string
	for _, d := range docs {
		var o obj
		if err := yaml.UnmarshalStrict([]byte(d), &o); err != nil {
			t.Fatalf("%v in\n%s", err, d)
		}
		switch o.Kind {
		case "Service":
			got = append(got, o.Kind+" "+o.Spec["type"].(string)+" "+o.Spec["externalName"].(string))
		case "APIService":
			svc := o.Spec["service"].(map[string]any)
			got = append(got, o.APIVersion+" "+o.Kind+" "+o.Metadata["name"].(string)+" "+svc["name"].(string)+" "+jsonString(svc["port"]))
		}
	}
	want := []string{"Service ExternalName localhost",
		"apiregistration.k8s.io/v1 APIService v1beta2.custom.metrics.k8s.io hsds-autoscaler 4443",
		"apiregistration.k8s.io/v1 APIService v1beta1.custom.metrics.k8s.io hsds-autoscaler 4443"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestHSDSDeploymentLabels(t *testing.T) {
	d := hsdsDeployment(3, false)
	want := map[string]string{"app": "hsds"}
	for name, got := range map[string]map[string]string{"deployment": d.Labels, "selector": d.Spec.Selector.MatchLabels, "pod": d.Spec.Template.Labels} {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", name, diff)
		}
	}
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", *d.Spec.Replicas)
	}
}

func TestHSDSDeploymentReal(t *testing.T) {
	d := hsdsDeployment(1, true)
	spec := d.Spec.Template.Spec
	if spec.ServiceAccountName != "hsds" || spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds != 5 {
		t.Errorf("real pods: service account %q, grace %v; want hsds (it may list the pods), 5 s", spec.ServiceAccountName, spec.TerminationGracePeriodSeconds)
	}
	if got := spec.Containers[2].Args; !cmp.Equal(got, []string{"--source=info"}) {
		t.Errorf("agent args %q, want --source=info (0.9.4 has no /metrics)", got)
	}
	if fake := hsdsDeployment(1, false).Spec.Template.Spec; fake.ServiceAccountName != "" || fake.Containers[2].Args[0] != "--source=metrics" {
		t.Errorf("fake pods: %+v", fake)
	}
}

func TestFileSDTargets(t *testing.T) {
	got, err := fileSDTargets([]Endpoint{{Name: "hsds-b", AgentURL: "http://127.0.0.3:4000"}, {Name: "hsds-a", AgentURL: "http://127.0.0.2:4001"}})
	if err != nil {
		t.Fatal(err)
	}
	var groups []struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(got, &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].Targets[0] != "127.0.0.2:4001" || groups[0].Labels["pod"] != "hsds-a" || groups[1].Labels["namespace"] != "default" {
		t.Errorf("targets: %s", got)
	}
	if _, err := fileSDTargets([]Endpoint{{Name: "x", AgentURL: "::bad"}}); err == nil {
		t.Error("no error for a bad agent URL")
	}
}

func TestPrometheusConfigNamesTargets(t *testing.T) {
	cfg := prometheusConfig("/tmp/agents.json", 8080)
	for _, want := range []string{`files: ["/tmp/agents.json"]`, `targets: ["127.0.0.1:8080"]`, "scrape_interval: 2s"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	var v map[string]any
	if err := yaml.Unmarshal([]byte(cfg), &v); err != nil {
		t.Errorf("not YAML: %v", err)
	}
}

func TestRosterChanged(t *testing.T) {
	known := map[string]bool{"a": true, "b": true}
	tests := []struct {
		name string
		eps  []Endpoint
		want bool
	}{
		{"same", []Endpoint{{Name: "b"}, {Name: "a"}}, false},
		{"added", []Endpoint{{Name: "a"}, {Name: "b"}, {Name: "c"}}, true},
		{"removed", []Endpoint{{Name: "a"}}, true},
		{"replaced", []Endpoint{{Name: "a"}, {Name: "c"}}, true},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := rosterChanged(known, tt.eps); got != tt.want {
			t.Errorf("%s: rosterChanged = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNominalPodCapacity(t *testing.T) {
	// Fixed 500 ms: 40 / 4 = 10 requests in flight, 0.5 s each: 20 req/s exactly.
	if got := nominalPodCapacity(40, 4, 2, fakehsds.Fixed(500*time.Millisecond), 1); math.Abs(got-20) > 1e-9 {
		t.Errorf("fixed: %g, want 20", got)
	}
	// Two exponential workers: E[max] = 1.5 x mean; 40/4 / 0.75 s = 13.3 req/s (sampling error < 2 %).
	if got := nominalPodCapacity(40, 4, 2, fakehsds.Exponential(500*time.Millisecond), 1); math.Abs(got-40.0/3) > 0.27 {
		t.Errorf("exponential: %g, want 13.3", got)
	}
	if got := nominalPodCapacity(0, 4, 2, fakehsds.Fixed(time.Second), 1); got != 0 {
		t.Errorf("limit 0: %g, want 0", got)
	}
}

// The fake pods' scale-down gate jam (docs/hsds.md, measured on real 0.9.4 pods without a preStop
// sleep) is off unless --gate-jam-chance asks for it, with the measured 28-32 s window.
func TestHSDSConfigGateJam(t *testing.T) {
	o := NewOptions()
	if c := hsdsConfig(o); c.GateJamChance != 0 {
		t.Errorf("default: GateJamChance %g, want 0 (off)", c.GateJamChance)
	}
	o.GateJamChance = 0.9
	c := hsdsConfig(o)
	if c.GateJamChance != 0.9 || c.GateJamMin != 28*time.Second || c.GateJamMax != 32*time.Second {
		t.Errorf("--gate-jam-chance 0.9: chance %g window [%v, %v], want 0.9 [28s, 32s]", c.GateJamChance, c.GateJamMin, c.GateJamMax)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("--gate-jam-chance 0.9: %v", err)
	}
}
