package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/view"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func result() Result {
	nan := math.NaN()
	return Result{
		Plan: "trace worldcup98, slice t=d3+14:51..d3+17:51 (auto: flash crowd), 60x time compression, scale x0.01126",
		Samples: []Sample{
			{T: -1, Offered: 18, Attempts: 18, Capacity: 45, Rejected: map[string]float64{}, Spec: nan, Desired: nan, Ready: nan},
			{T: 0, Offered: 18, Attempts: 18, Capacity: 45, Rejected: map[string]float64{}, Spec: 2, Desired: 2, Ready: 2},
			{T: 1, Offered: 40, Attempts: 50, Capacity: 45, Rejected: map[string]float64{"overload": 10}, Spec: 2, Desired: 4, Ready: 2},
			{T: 3, Offered: 40, Attempts: 44, Capacity: 90, Rejected: map[string]float64{"not_ready": 2}, Client500: 3, Client503: 2, Spec: 4, Desired: 4, Ready: 4, Pending: 1},
			{T: 4, Offered: 8, Attempts: 8, Capacity: 22.5, Rejected: map[string]float64{}, Spec: 1, Desired: 1, Ready: 1},
		},
		Changes: []Change{{T: 1, From: 2, To: 4, Reason: "overload"}, {T: 4, From: 4, To: 1, Reason: "scale-down-stable"}},
		Clients: view.Clients{Requests: 1000, Succeeded: 990, Failed: 10, Dropped: 1},
		Timings: Timings{ControlPlane: 3600 * time.Millisecond, Setup: 8 * time.Second, Replay: 200 * time.Second, Total: 213 * time.Second},
	}
}

func TestSummaryGolden(t *testing.T) {
	got := Summary(result())
	path := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestSummaryVerdict(t *testing.T) {
	tests := []struct {
		name     string
		changes  []Change
		up, down bool
	}{
		{"none", nil, false, false},
		{"up only", []Change{{From: 2, To: 3}}, true, false},
		{"down only", []Change{{From: 3, To: 2}}, false, true},
		{"both", []Change{{From: 2, To: 3}, {From: 3, To: 1}}, true, true},
	}
	for _, tt := range tests {
		r := Result{Changes: tt.changes}
		if r.ScaledUp() != tt.up || r.ScaledDown() != tt.down {
			t.Errorf("%s: up %v down %v, want %v %v", tt.name, r.ScaledUp(), r.ScaledDown(), tt.up, tt.down)
		}
	}
}

func TestSummaryInterrupted(t *testing.T) {
	r := Result{Interrupted: "interrupted (context canceled)"}
	if got := Summary(r); !bytes.Contains([]byte(got), []byte("ENDED EARLY: interrupted (context canceled)")) {
		t.Errorf("summary lacks the interruption:\n%s", got)
	}
}

func TestParseRescaled(t *testing.T) {
	tests := []struct {
		msg      string
		from, to int
		reason   string
		err      bool
	}{
		{"scaled from 2 to 4 (2 ready, 0 pending): overload: overload 503s for 5s of 20s; offered 40", 2, 4, "overload", false},
		{"scaled from 8 to 4 (8 ready, 0 pending): scale-down-stable: utilization 0.10 < 0.40", 8, 4, "scale-down-stable", false},
		{"scaled from 2 to 99999999999999999999 (1 ready, 0 pending): panic: x", 0, 0, "", true},
		{"waiting for capacity", 0, 0, "", true},
		{"", 0, 0, "", true},
	}
	for _, tt := range tests {
		from, to, reason, err := ParseRescaled(tt.msg)
		if (err != nil) != tt.err || from != tt.from || to != tt.to || reason != tt.reason {
			t.Errorf("ParseRescaled(%q) = %d, %d, %q, %v; want %d, %d, %q, err %v", tt.msg, from, to, reason, err, tt.from, tt.to, tt.reason, tt.err)
		}
	}
}

func FuzzParseRescaled(f *testing.F) {
	f.Add("scaled from 2 to 4 (2 ready, 0 pending): overload: x")
	f.Add("scaled from 0 to 0 (): a")
	f.Fuzz(func(t *testing.T, msg string) {
		from, to, reason, err := ParseRescaled(msg)
		if err == nil && (from < 0 || to < 0 || reason == "") {
			t.Errorf("accepted %q as %d -> %d (%q)", msg, from, to, reason)
		}
	})
}

func TestWritePlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.png")
	if err := WritePlot(path, result()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 10000 {
		t.Errorf("not a plausible PNG: %d bytes, header %q", len(data), data[:min(8, len(data))])
	}
}

func TestWritePlotBadPath(t *testing.T) {
	if err := WritePlot(filepath.Join(t.TempDir(), "missing", "demo.png"), result()); err == nil {
		t.Error("no error for a path in a missing directory")
	}
}

func TestIntegrate(t *testing.T) {
	got := integrate(result().Samples)
	want := map[string]float64{"overload": 10, "not_ready": 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("integrate (-want +got):\n%s", diff)
	}
}
