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

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixed is a trivial test policy: always n replicas.
type fixed struct{ n int32 }

func (f fixed) Name() string { return "fixed" }
func (f fixed) Recommend(s heuristics.Snapshot) heuristics.Decision {
	return heuristics.Decision{Valid: true, Current: s.SpecReplicas, Replicas: f.n, Reason: "fixed"}
}

func fixedPolicy(n int32) Policy {
	return Policy{Name: "fixed", New: func(Env) (heuristics.Recommender, time.Duration, error) {
		return fixed{n: n}, 15 * time.Second, nil
	}}
}

// smallConfig replays one generated flash crowd of 30 minutes on at most 8 replicas, with a
// two-λ frontier.
func smallConfig(t *testing.T) Config {
	cfg := NewConfig()
	cfg.OnlyGenerated = true
	cfg.Generated = []trace.Gen{{Shape: trace.ShapeFlash, Base: 5, Peak: 50, Duration: 1800, Step: 10}}
	cfg.Scenario.MaxReplicas = 8
	cfg.Lambdas = []float64{1, 100}
	cfg.OutDir = t.TempDir()
	cfg.Parallel = 2
	return cfg
}

// TestReportGolden replays a small synthetic trace with a fixed-replica policy and its frontier,
// and compares report.md and report.json with testdata/ (go test ./bench -run Golden -update).
func TestReportGolden(t *testing.T) {
	cfg := smallConfig(t)
	cfg.Extra = []Policy{fixedPolicy(4)}
	cfg.Policies = []string{"fixed"}
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
	for _, name := range []string{"flash.png", "flash-frontier.png"} {
		if fi, err := os.Stat(filepath.Join(cfg.OutDir, name)); err != nil || fi.Size() < 1000 {
			t.Errorf("plot %s: %v", name, err)
		}
	}
}

// Every built-in policy runs on the simulator for every seed, beside the frontier's schedules
// (every fixed count included); each row carries the columns the goals need and its distance to
// the frontier, deterministically for the seeds.
func TestRunAllPolicies(t *testing.T) {
	cfg := smallConfig(t)
	cfg.Seeds = []uint64{1, 2}
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var got []string
	for _, r := range rep.Rows {
		got = append(got, fmt.Sprintf("%d/%s/%s", r.Seed, r.Policy, r.Actuation))
		if r.Requests == 0 || r.PodSeconds <= 0 || r.ScaleFactor <= 0 || r.TimeCompression != 1 {
			t.Errorf("row %+v: missing figures", r)
		}
		if r.FrontierCheapLabel == "" && r.FrontierLabel == "" {
			t.Errorf("row %s/%d: no distance to the frontier", r.Policy, r.Seed)
		}
	}
	want := []string{"1/hsds/scaler.Controller", "1/hpa-prometheus-adapter/direct", "1/keda/direct", "1/kpa/direct",
		"2/hsds/scaler.Controller", "2/hpa-prometheus-adapter/direct", "2/keda/direct", "2/kpa/direct"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	for _, seed := range cfg.Seeds {
		var fixed []string
		for _, f := range rep.Frontier {
			if f.Seed == seed && strings.HasPrefix(f.Label, "fixed ") {
				fixed = append(fixed, f.Label)
			}
		}
		if diff := cmp.Diff([]string{"fixed 2", "fixed 3", "fixed 4", "fixed 5", "fixed 6", "fixed 7", "fixed 8"}, fixed); diff != "" {
			t.Errorf("seed %d: fixed counts in the frontier (-want +got):\n%s", seed, diff)
		}
	}
	if len(rep.Goals) != 2*len(report.GoalIDs) {
		t.Errorf("%d goals, want %d (every goal, each seed)", len(rep.Goals), 2*len(report.GoalIDs))
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
		t.Errorf("same seeds, different rows (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(rep.Frontier, again.Frontier); diff != "" {
		t.Errorf("same seeds, different frontier (-first +second):\n%s", diff)
	}
}

// report.json is {"rows": [...], "frontier": [...], ...} with the fields the issue names.
func TestReportJSONShape(t *testing.T) {
	cfg := smallConfig(t)
	cfg.Policies = []string{PolicyHSDS}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rows     []map[string]any `json:"rows"`
		Frontier []map[string]any `json:"frontier"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Rows) != 1 || len(doc.Frontier) < 7 {
		t.Fatalf("%d rows, %d frontier entries: want 1 and at least the 7 fixed counts", len(doc.Rows), len(doc.Frontier))
	}
	has := func(what string, m map[string]any, keys ...string) {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s has no %q: %v", what, k, m)
			}
		}
	}
	has("row", doc.Rows[0], "trace", "seed", "policy", "failed_fraction", "rejected_fraction", "pod_seconds", "replica_changes", "p99_latency_s")
	for _, f := range doc.Frontier {
		has("frontier entry", f, "trace", "seed", "label", "failed_fraction", "pod_seconds", "replica_changes")
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
	if err := fs.Parse([]string{"--traces", "a.csv b.csv", "--policies", "hsds,kpa", "--sim-startup-seconds", "45",
		"--seeds", "1 2,3", "--shapes", "step flash"}); err != nil {
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
	if diff := cmp.Diff([]uint64{1, 2, 3}, cfg.Seeds); diff != "" {
		t.Errorf("seeds (-want +got):\n%s", diff)
	}
	if len(cfg.Generated) != 2 || cfg.Generated[0].Shape != trace.ShapeStep || cfg.Generated[1].Shape != trace.ShapeFlash {
		t.Errorf("shapes: %+v, want step and flash", cfg.Generated)
	}
	var shapes []trace.Shape
	for _, g := range NewConfig().Generated {
		shapes = append(shapes, g.Shape)
	}
	if diff := cmp.Diff([]trace.Shape{"step", "flash", "diurnal", "coldstart", "sawtooth", "fanout"}, shapes); diff != "" {
		t.Errorf("default shapes (-want +got):\n%s", diff)
	}
	none := NewConfig()
	fs = pflag.NewFlagSet("bench", pflag.ContinueOnError)
	none.AddFlags(fs)
	if err := fs.Parse([]string{"--shapes", "none", "--seeds", "x"}); err != nil {
		t.Fatal(err)
	}
	if err := none.Complete(fs); err == nil || !strings.Contains(err.Error(), `seed "x"`) {
		t.Errorf("bad seed: %v", err)
	}
	if len(none.Generated) != 0 {
		t.Errorf("--shapes none: %d generated traces", len(none.Generated))
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
			rate = 10 // a step the initial replicas (sized for the first minutes) cannot serve
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
