package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixed is a trivial test policy: always n replicas.
type fixed struct{ n int32 }

func (f fixed) Name() string { return "fixed" }
func (f fixed) Recommend(s heuristics.Snapshot, _ time.Time) heuristics.Decision {
	return heuristics.Decision{Valid: true, Current: s.SpecReplicas, Replicas: f.n, Reason: "fixed"}
}

func fixedPolicy(n int32) Policy {
	return Policy{Name: "fixed", New: func(Env) (heuristics.Recommender, time.Duration, error) {
		return fixed{n: n}, 15 * time.Second, nil
	}}
}

func smallConfig(t *testing.T) Config {
	cfg := NewConfig()
	cfg.Generated = []trace.Gen{{Shape: trace.ShapeFlash, Base: 5, Peak: 50, Duration: 1800, Step: 10}}
	cfg.OutDir = t.TempDir()
	cfg.Parallel = 2
	return cfg
}

// TestReportGolden replays a small synthetic trace with a fixed-replica policy and the oracle,
// and compares report.md and report.json with testdata/ (go test ./bench -run Golden -update).
func TestReportGolden(t *testing.T) {
	cfg := smallConfig(t)
	cfg.Extra = []Policy{fixedPolicy(4)}
	cfg.Policies = []string{"fixed", PolicyOracle}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, name := range []string{"report.md", "report.json"} {
		got, err := os.ReadFile(filepath.Join(cfg.OutDir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if fi, err := os.Stat(filepath.Join(cfg.OutDir, "flash.png")); err != nil || fi.Size() < 1000 {
		t.Errorf("plot flash.png: %v", err)
	}
}

// Every built-in policy runs on the simulator, and the report carries one row per policy with
// the columns the goals need, deterministically for a seed.
func TestRunAllPolicies(t *testing.T) {
	cfg := smallConfig(t)
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var got []string
	for _, r := range rep.Rows {
		got = append(got, r.Policy+"/"+r.Actuation)
		if r.Requests == 0 || r.PodSeconds <= 0 || r.OraclePodSeconds <= 0 || r.ScaleFactor <= 0 || r.TimeCompression != 1 {
			t.Errorf("row %+v: missing figures", r)
		}
		// The oracle is faithful to its definition: in this same simulator its schedule sheds
		// no more than the measured capacity allows (2x for noise: a flash crowd, not a steady load).
		if f := float64(r.RejectedOverload) / float64(r.Attempts); r.Policy == PolicyOracle && f > 2*sim.CapacityRejectFraction {
			t.Errorf("oracle overload 503s %.4f of attempts, want <= %g", f, 2*sim.CapacityRejectFraction)
		}
	}
	want := []string{"hsds/scaler.Controller", "hpa-prometheus-adapter/direct", "keda/direct", "kpa/direct", "oracle/direct"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if len(rep.Goals) != 3 {
		t.Errorf("%d goals, want 3", len(rep.Goals))
	}
	if !strings.Contains(progress.String(), "100%") {
		t.Errorf("progress never reached 100%%: %q", progress.String())
	}
	cfg.OutDir, cfg.Progress = "", nil
	again, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(rep.Rows, again.Rows); diff != "" {
		t.Errorf("same seed, different rows (-first +second):\n%s", diff)
	}
}

func TestRunCancelled(t *testing.T) {
	cfg := smallConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg); err == nil {
		t.Errorf("Run with a cancelled context: no error")
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := NewConfig()
	cfg.Traces = []string{"no/such.csv"}
	cfg.Policies = []string{"hsds", "magic"}
	cfg.Parallel = 0
	cfg.Scenario.TickSeconds = 0
	err := cfg.Validate()
	for _, want := range []string{"no/such.csv", `"magic"`, "parallel", "tickSeconds"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to name %s", err, want)
		}
	}
}

// make bench TRACES="a.csv b.csv" passes one flag value holding both files.
func TestConfigFlagsAndComplete(t *testing.T) {
	cfg := NewConfig()
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	cfg.AddFlags(fs)
	if err := fs.Parse([]string{"--traces", "a.csv b.csv", "--policies", "hsds,oracle", "--sim-startup-seconds", "45"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Complete(fs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a.csv", "b.csv"}, cfg.Traces); diff != "" {
		t.Errorf("traces (-want +got):\n%s", diff)
	}
	if cfg.Scenario.StartupSeconds != 45 || len(cfg.Policies) != 2 {
		t.Errorf("flags not applied: %+v", cfg)
	}
}

// A scenario file replaces the defaults; flags given explicitly still win over it.
func TestConfigScenarioFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte("startupSeconds: 60\nnodeAddSeconds: 120\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig()
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	cfg.AddFlags(fs)
	if err := fs.Parse([]string{"--scenario", path, "--sim-node-add-seconds", "30"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Complete(fs); err != nil {
		t.Fatal(err)
	}
	if cfg.Scenario.StartupSeconds != 60 || cfg.Scenario.NodeAddSeconds != 30 {
		t.Errorf("startup %g (want 60 from the file), node add %g (want 30 from the flag)",
			cfg.Scenario.StartupSeconds, cfg.Scenario.NodeAddSeconds)
	}
	bad := NewConfig()
	bad.ScenarioFile = filepath.Join(t.TempDir(), "missing.yaml")
	if err := bad.Complete(nil); err == nil {
		t.Errorf("missing scenario file: no error")
	}
}

func TestDryRunTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "step.csv")
	var b strings.Builder
	b.WriteString(trace.Header + "\n")
	for i := range 60 {
		rate := 1.0
		if i >= 10 {
			rate = 4
		}
		fmt.Fprintf(&b, "%d,%g\n", 60*i, rate)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	opts := DryRunOptions{Trace: path, Scenario: NewConfig().Scenario, Seed: 1}
	row, err := DryRunTrace(context.Background(), opts, &out)
	if err != nil {
		t.Fatalf("DryRunTrace: %v", err)
	}
	if row.Policy != PolicyHSDS || row.Requests == 0 || row.ReplicaChanges == 0 {
		t.Errorf("row %+v: want hsds with requests and at least one change", row)
	}
	if !strings.Contains(out.String(), "acted=true") || !strings.HasPrefix(out.String(), "t=") {
		t.Errorf("output has no acted step:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "summary: trace=step ") {
		t.Errorf("output has no summary line:\n%s", out.String())
	}
	if _, err := DryRunTrace(context.Background(), DryRunOptions{Scenario: opts.Scenario}, &out); err == nil {
		t.Errorf("no trace: no error")
	}

	// --output json --plot: one JSON document whose decisions match the summary, and a PNG.
	out.Reset()
	opts.Output, opts.Plot = "json", filepath.Join(t.TempDir(), "dry.png")
	if _, err := DryRunTrace(context.Background(), opts, &out); err != nil {
		t.Fatalf("DryRunTrace json: %v", err)
	}
	var res DryRunResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("json output: %v\n%s", err, out.String())
	}
	acted := 0
	for _, d := range res.Decisions {
		if d.Acted {
			acted++
		}
	}
	if acted != res.Summary.ReplicaChanges || acted == 0 {
		t.Errorf("json: %d acted decisions, summary says %d replica changes", acted, res.Summary.ReplicaChanges)
	}
	if st, err := os.Stat(opts.Plot); err != nil || st.Size() < 1000 {
		t.Errorf("plot %s not written: %v", opts.Plot, err)
	}
	opts.Output = "yaml"
	if _, err := DryRunTrace(context.Background(), opts, &out); err == nil || !strings.Contains(err.Error(), "want text or json") {
		t.Errorf("output yaml: err = %v, want a clear error", err)
	}
}
