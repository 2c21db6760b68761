package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/version"
)

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The service refuses to start on an invalid policy file, naming every problem at once.
func TestServeRefusesInvalidPolicy(t *testing.T) {
	p := writeFile(t, "policy.yaml", `apiVersion: hsds-autoscaler.io/v1alpha1
kind: ScalingPolicy
metadata: {name: x}
spec:
  target: {apiVersion: apps/v1, kind: Deployment, namespace: default, name: hsds}
  policy: {minReplicas: 5, maxReplicas: 2, bogus: 1, stabilizationWindow: -5m}
`)
	_, err := execute(t, "serve", "--policy", p, "--metrics-bind-address", "127.0.0.1:0", "--secure-port", "0")
	if err == nil {
		t.Fatal("serve started with an invalid policy")
	}
	for _, want := range []string{`unknown field "spec.policy.bogus"`, "spec.policy.maxReplicas", "spec.policy.stabilizationWindow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
}

// A target outside --hsds-namespaces is refused before anything starts: the adapter would never
// see its pods, and the namespaced RBAC for those namespaces could not scale it.
func TestServeRefusesTargetOutsideWatchedNamespaces(t *testing.T) {
	p := writeFile(t, "policy.yaml", `apiVersion: hsds-autoscaler.io/v1alpha1
kind: ScalingPolicy
metadata: {name: x}
spec:
  target: {apiVersion: apps/v1, kind: Deployment, namespace: other, name: hsds}
`)
	_, err := execute(t, "serve", "--policy", p, "--hsds-namespaces=hsds,hsds-b", "--metrics-bind-address", "127.0.0.1:0", "--secure-port", "0")
	if err == nil || !strings.Contains(err.Error(), `spec.target.namespace "other" is not among --hsds-namespaces [hsds hsds-b]`) {
		t.Fatalf("err = %v, want the target's namespace refused", err)
	}
}

func TestServeRejectsBadFlagsAllAtOnce(t *testing.T) {
	_, err := execute(t, "serve", "--policy", "", "--hsds-autoscalers=false", "--metrics-bind-address", "nonsense", "--scrape-interval", "10s")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"--policy", "--metrics-bind-address", "--scrape-interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

// With HSDSAutoscaler objects (the default) the policy file is optional: --policy="" scales the
// objects' targets only.
func TestServePolicyOptionalWithObjects(t *testing.T) {
	o := newServeOptions()
	o.scaler.PolicyFile = ""
	if err := o.validate(); err != nil && strings.Contains(err.Error(), "--policy") {
		t.Errorf("validate with objects and no policy: %v", err)
	}
	o.objects = false
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "--policy: required") {
		t.Errorf("validate without objects and policy = %v, want --policy: required", err)
	}
}

func TestDryRunFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"dry-run"}, []string{"exactly one of --trace FILE and --live"}},
		{[]string{"dry-run", "--trace", "x.csv", "--live", "--output", "yaml"}, []string{"exactly one", `--output "yaml"`, "--live needs --policy"}},
		{[]string{"dry-run", "--live", "--policy", "p.yaml", "--plot", "x.png", "--observe", "1s"}, []string{"--plot goes with --trace", "--observe 1s"}},
	} {
		_, err := execute(t, tc.args...)
		if err == nil {
			t.Errorf("%v: want an error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error does not mention %q:\n%v", tc.args, w, err)
			}
		}
	}
}

// dry-run --trace replays a trace through the simulator with the built-in policy and prints the
// decisions and a summary; a trace with a gap is refused with its line number.
func TestDryRunTrace(t *testing.T) {
	out, err := execute(t, "dry-run", "--trace", stepTrace(t))
	if err != nil {
		t.Fatalf("dry-run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "acted=true") || !strings.Contains(out, "summary: trace=step") {
		t.Errorf("output lacks decisions or summary:\n%s", out)
	}
	_, err = execute(t, "dry-run", "--trace", writeFile(t, "gap.csv", "t_seconds,requests_per_second\n0,1\n60,1\n180,1\n"))
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("trace with a gap: err = %v, want one naming line 4", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := execute(t, "version")
	if err != nil || !strings.HasPrefix(out, "hsds-autoscaler ") {
		t.Errorf("version: %q, %v", out, err)
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := execute(t, "--version")
	if err != nil || out != versionString()+"\n" {
		t.Errorf("--version: %q, %v; want %q", out, err, versionString())
	}
}

// serve's /metrics carries hsds_autoscaler_build_info, and docs/metrics.md documents it.
func TestBuildInfoMetric(t *testing.T) {
	mfs, err := newMetricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]string
	for _, mf := range mfs {
		if mf.GetName() == buildInfoMetric && len(mf.GetMetric()) == 1 {
			labels = map[string]string{}
			for _, lp := range mf.GetMetric()[0].GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
		}
	}
	if v := version.Get(); labels["version"] != v.Version || labels["revision"] != v.Revision || labels["goversion"] != v.GoVersion {
		t.Errorf("%s labels = %v, want those of %+v", buildInfoMetric, labels, v)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "`"+buildInfoMetric+"`") {
		t.Errorf("docs/metrics.md does not document %s", buildInfoMetric)
	}
}
