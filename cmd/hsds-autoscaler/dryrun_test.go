package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench"
)

// stepTrace is a small trace with a load step: the policy scales up and down on it.
func stepTrace(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("t_seconds,requests_per_second\n")
	for i := range 40 {
		rate := 1.0
		if i >= 10 && i < 25 {
			rate = 5
		}
		fmt.Fprintf(&b, "%d,%g\n", 60*i, rate)
	}
	return writeFile(t, "step.csv", b.String())
}

// executeCapturingStderr runs the command with the process's stderr (where klog writes)
// captured too.
func executeCapturingStderr(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	r, w, perr := os.Pipe()
	if perr != nil {
		t.Fatal(perr)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	stdout, err = execute(t, args...)
	os.Stderr = saved
	w.Close()
	return stdout, <-done, err
}

// dry-run --trace as a user meets it: the policy file needs no target (a trace has none), the
// output is the steps and the summary only (no log lines of the scaler it runs, on stdout or
// stderr), and an error carries one prefix.
func TestDryRunTraceOutput(t *testing.T) {
	trace := stepTrace(t)
	noTarget := writeFile(t, "policy.yaml", "apiVersion: hsds-autoscaler.io/v1alpha1\nkind: ScalingPolicy\nspec:\n  policy: {dwellUp: 30s}\n")

	out, stderr, err := executeCapturingStderr(t, "dry-run", "--trace", trace, "--policy", noTarget)
	if err != nil {
		t.Fatalf("dry-run with a policy file without target: %v\n%s", err, out)
	}
	if stderr != "" {
		t.Errorf("dry-run wrote to stderr (klog lines of the scaler?):\n%s", stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		last := i == len(lines)-1
		if last && !strings.HasPrefix(l, "summary: trace=step ") || !last && !strings.HasPrefix(l, "t=") {
			t.Errorf("line %d is neither a step nor the final summary: %q", i+1, l)
		}
		if strings.Contains(l, "dryRun=") || strings.Contains(l, "Scaling decision") {
			t.Errorf("line %d is a log line: %q", i+1, l)
		}
	}
	if len(lines) < 2 || !strings.Contains(out, "acted=true") {
		t.Errorf("want decisions that acted and a summary:\n%s", out)
	}

	out, err = execute(t, "dry-run", "--trace", trace, "--output", "json")
	if err != nil {
		t.Fatalf("dry-run --output json: %v", err)
	}
	var res bench.DryRunResult
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("--output json is not one JSON document: %v\n%s", err, out)
	}
	if len(res.Decisions) == 0 || res.Summary.Policy != "hsds" {
		t.Errorf("json: %d decisions, summary %+v", len(res.Decisions), res.Summary)
	}

	bad := writeFile(t, "bad.yaml", "apiVersion: hsds-autoscaler.io/v1alpha1\nkind: ScalingPolicy\nspec:\n  policy: {dwellUp: 30}\n")
	_, err = execute(t, "dry-run", "--trace", trace, "--policy", bad)
	if err == nil || strings.Count(err.Error(), "policy file") != 1 || !strings.Contains(err.Error(), "spec.policy.dwellUp") {
		t.Errorf("bad policy file: err = %v, want one naming spec.policy.dwellUp with one \"policy file\" prefix", err)
	}
}
