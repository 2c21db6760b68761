//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDryRunLiveWritesNothing: `hsds-autoscaler dry-run --live` against the real cluster, with the
// fake pods shedding load, says it would scale up, and writes nothing: spec.replicas stays, no
// Event appears.
func TestDryRunLiveWritesNothing(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	const ns = "e2e-dryrun"
	w := newWorkload(ctx, t, ns, 2, nil)
	w.startLoad(t, 200) // ~2.5 pods' worth on 2 pods

	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(runCtx, serveBin.get(t), "dry-run", "--live", "--policy", policyFile(t, ns, nil, nil),
		"--kubeconfig", cluster.Kubeconfig, "--hsds-namespaces", ns, "--rate-window=10s", "--short-rate-window=5s",
		"--observe", "8s", "--output", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dry-run --live: %v\n%s", err, stderr.String())
	}
	var outs []struct {
		Current, Desired int32
		Reason           string
		DryRun, Acted    bool
	}
	if err := json.Unmarshal(stdout.Bytes(), &outs); err != nil || len(outs) != 1 {
		t.Fatalf("output: %v (%d outcomes)\n%s", err, len(outs), stdout.String())
	}
	o := outs[0]
	t.Logf("dry-run --live: current %d, desired %d, reason %s", o.Current, o.Desired, o.Reason)
	if !o.DryRun || o.Acted {
		t.Errorf("outcome dryRun=%t acted=%t, want a dry run that did not act", o.DryRun, o.Acted)
	}
	if o.Current != 2 || o.Desired <= o.Current {
		t.Errorf("current %d, desired %d: want 2 and a scale-up under overload", o.Current, o.Desired)
	}
	if n, err := w.replicas(ctx); err != nil || n != 2 {
		t.Errorf("spec.replicas = %d (%v) after dry-run, want 2", n, err)
	}
	evs, err := cluster.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Deployment"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs.Items { // the Deployment controller's own Events are expected
		if strings.HasPrefix(ev.Source.Component, "hsds-autoscaler") || strings.HasPrefix(ev.ReportingController, "hsds-autoscaler") {
			t.Errorf("dry-run left an Event: %s %q", ev.Reason, ev.Message)
		}
	}
}
