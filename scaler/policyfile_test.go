package scaler

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const examplePolicy = "../deploy/policy/hsds-policy.yaml"

// TestMinimalPolicyGetsDefaults: a file with only apiVersion, kind and target yields the
// documented defaults.
func TestMinimalPolicyGetsDefaults(t *testing.T) {
	pf, err := LoadPolicyFile("testdata/policy/minimal.yaml", TargetRequired)
	if err != nil {
		t.Fatal(err)
	}
	want := &PolicyFile{
		APIVersion: PolicyAPIVersion, Kind: PolicyKind,
		Spec: PolicySpec{Target: testTarget, Policy: PolicySection{MinReplicas: 1, MaxReplicas: 10, Policy: heuristics.DefaultPolicy()},
			Guards: DefaultGuards()},
	}
	if diff := cmp.Diff(want, pf); diff != "" {
		t.Errorf("minimal policy (-want +got):\n%s", diff)
	}
	wantGuards := Guards{Tick: heuristics.D(time.Second), Settle: heuristics.D(50 * time.Second), PendingTimeout: heuristics.D(5 * time.Minute),
		StuckNotReady: heuristics.D(60 * time.Second), StuckAfterReady: heuristics.D(20 * time.Second), ReleaseStuck: true, StuckRemedyInterval: heuristics.D(5 * time.Minute),
		MaxSampleAge: heuristics.D(60 * time.Second), HPACheckInterval: heuristics.D(15 * time.Second)}
	if diff := cmp.Diff(wantGuards, pf.Spec.Guards); diff != "" {
		t.Errorf("guard defaults differ from docs/operations.md (-want +got):\n%s", diff)
	}
}

// TestExamplePolicy: the shipped example decodes, validates, and spells out exactly the defaults,
// so code and example cannot disagree.
func TestExamplePolicy(t *testing.T) {
	pf, err := LoadPolicyFile(examplePolicy, TargetRequired)
	if err != nil {
		t.Fatal(err)
	}
	minimal, err := LoadPolicyFile("testdata/policy/minimal.yaml", TargetRequired)
	if err != nil {
		t.Fatal(err)
	}
	minimal.Metadata.Name = "hsds"
	minimal.Spec.Target.Namespace = "hsds" // deploy/base's HSDS namespace, where its RBAC grants the scale
	if diff := cmp.Diff(minimal, pf); diff != "" {
		t.Errorf("example differs from the defaults (-defaults +example):\n%s", diff)
	}
	cfg := pf.ControllerConfig(true)
	if err := cfg.Validate(); err != nil || !cfg.DryRun || cfg.MaxReplicas != pf.Spec.Policy.MaxReplicas {
		t.Errorf("ControllerConfig = %+v, %v", cfg, err)
	}
	if _, err := heuristics.NewHSDS(pf.Spec.Policy.Policy); err != nil {
		t.Errorf("example policy rejected by heuristics.NewHSDS: %v", err)
	}
}

// TestInvalidPolicyFiles: each bad file fails with one error naming every problem, compared with
// a golden file (go test ./scaler -run InvalidPolicy -update rewrites them).
func TestInvalidPolicyFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/policy/invalid-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			pf, err := LoadPolicyFile(file, TargetRequired)
			if err == nil {
				t.Fatalf("want an error, got %+v", pf)
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Source != file {
				t.Fatalf("want a *PolicyError naming %s, got %T %v", file, err, err)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("%v (run with -update)", rerr)
			}
			if diff := cmp.Diff(string(want), err.Error()+"\n"); diff != "" {
				t.Errorf("error message (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInvalidEverythingNamesEachProblem checks the combined file without trusting the golden.
func TestInvalidEverythingNamesEachProblem(t *testing.T) {
	_, err := LoadPolicyFile("testdata/policy/invalid-everything.yaml", TargetRequired)
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("want *PolicyError, got %v", err)
	}
	for _, s := range []string{`unknown field "spec.policy.tick"`, `unknown field "spec.guards.deleteStuckPod"`,
		"apiVersion: must be", "kind: must be", "spec.target.apiVersion: required", "spec.target.namespace: required",
		"spec.selector:", "spec.policy.minReplicas", "spec.policy.maxReplicas", "spec.policy.panicFactor", "spec.guards.maxSampleAge"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
	if strings.Count(err.Error(), "\n  - ") != len(pe.Problems) {
		t.Errorf("want one line per problem:\n%v", err)
	}
}

func TestLoadPolicyFileMissing(t *testing.T) {
	if _, err := LoadPolicyFile("testdata/policy/nope.yaml", TargetRequired); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want ErrNotExist, got %v", err)
	}
}

// FuzzDecodePolicyFile: no input panics; anything accepted is valid and survives a round trip.
func FuzzDecodePolicyFile(f *testing.F) {
	for _, file := range []string{examplePolicy, "testdata/policy/minimal.yaml", "testdata/policy/invalid-everything.yaml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := DecodePolicyFile(data, TargetRequired)
		if err != nil {
			if pf != nil {
				t.Fatalf("error with a result: %v", err)
			}
			return
		}
		if err := pf.Validate(TargetRequired); err != nil {
			t.Fatalf("accepted an invalid file: %v", err)
		}
		if err := pf.ControllerConfig(false).Validate(); err != nil {
			t.Fatalf("accepted a file whose controller config is invalid: %v", err)
		}
	})
}

func BenchmarkDecodePolicyFile(b *testing.B) {
	data, err := os.ReadFile(examplePolicy)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := DecodePolicyFile(data, TargetRequired); err != nil {
			b.Fatal(err)
		}
	}
}

// A trace has no target: TargetOptional accepts a file without spec.target, still checks one
// that is given, and TargetRequired demands it.
func TestPolicyFileTargetRule(t *testing.T) {
	noTarget := []byte("apiVersion: hsds-autoscaler.io/v1alpha1\nkind: ScalingPolicy\n")
	if _, err := DecodePolicyFile(noTarget, TargetOptional); err != nil {
		t.Errorf("TargetOptional, no target: %v", err)
	}
	if _, err := DecodePolicyFile(noTarget, TargetRequired); err == nil || !strings.Contains(err.Error(), "spec.target.name: required") {
		t.Errorf("TargetRequired, no target: err = %v, want spec.target.name required", err)
	}
	partial := append(noTarget, []byte("spec:\n  target: {kind: Deployment}\n")...)
	if _, err := DecodePolicyFile(partial, TargetOptional); err == nil || !strings.Contains(err.Error(), "spec.target.name: required") {
		t.Errorf("TargetOptional, partial target: err = %v, want spec.target.name required", err)
	}
}
