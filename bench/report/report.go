package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/frontier"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// Report is one bench run: every policy and every frontier schedule on every trace and seed.
type Report struct {
	Seeds    []uint64     `json:"seeds"`
	Scenario sim.Scenario `json:"scenario"`
	Traces   []TraceInfo  `json:"traces"`
	// Rows are the policies' replays, by trace, seed, policy.
	Rows []Row `json:"rows"`
	// Frontier are the frontier's schedules replayed, by trace, seed, schedule.
	Frontier []FrontierEntry `json:"frontier"`
	Goals    []Goal          `json:"goals"`
	// Measured are what each seed measured in the simulator before the replays.
	Measured []Measured `json:"measured"`
	// Timelines feed the plots (the first seed's policies); they are not part of report.json.
	Timelines []Timeline `json:"-"`
}

// Measured is what one seed measured in the simulator: the no-503 capacity that sets every
// replay's initial replicas, and the frontier DP's costs.
type Measured struct {
	Seed     uint64         `json:"seed"`
	Capacity sim.Capacity   `json:"capacity"`
	Costs    frontier.Costs `json:"frontier_costs"`
}

// TraceInfo says how a trace was replayed: which slice, how compressed, how scaled.
type TraceInfo struct {
	Trace string `json:"trace"`
	// Generated is the shape of a generated trace ("" for a file).
	Generated         string  `json:"generated,omitempty"`
	SourceSeconds     float64 `json:"source_seconds"`
	SourceStepSeconds float64 `json:"source_step_seconds"`
	// SliceStartSeconds is where the replayed window starts in the source trace.
	SliceStartSeconds float64 `json:"slice_start_seconds"`
	SimulatedSeconds  float64 `json:"simulated_seconds"`
	TimeCompression   float64 `json:"time_compression"`
	ScaleFactor       float64 `json:"scale_factor"`
	// PeakRPS is the highest 1-minute mean of the replayed load.
	PeakRPS float64 `json:"peak_rps"`
	MeanRPS float64 `json:"mean_rps"`
	// MinReplicasRPS is the rated capacity of MinReplicas pods.
	MinReplicasRPS float64 `json:"min_replicas_capacity_rps"`
}

// Row is one policy on one trace with one seed.
type Row struct {
	Trace  string `json:"trace"`
	Seed   uint64 `json:"seed"`
	Policy string `json:"policy"`
	// Actuation is "scaler.Controller" (guards on) or "direct" (recommendation written as is).
	Actuation string `json:"actuation"`
	// FailedFraction: client-visible failures (after retries) per finished logical request.
	FailedFraction float64 `json:"failed_fraction"`
	// RejectedFraction: 503s per attempt (retries included); ErrorFraction: 500s per attempt
	// (the partition mismatch after a rescale, HSDS 0.9.4).
	RejectedFraction float64 `json:"rejected_fraction"`
	ErrorFraction    float64 `json:"error_fraction"`
	PodSeconds       float64 `json:"pod_seconds"`
	ReplicaChanges   int     `json:"replica_changes"`
	P99LatencyS      float64 `json:"p99_latency_s"`
	// FrontierPodSeconds are the pod-seconds of the cheapest frontier schedule (same trace and
	// seed) failing no more than this row (0: none does), FrontierLabel its label, and
	// PodSecondsVsFrontier the ratio.
	FrontierPodSeconds   float64 `json:"frontier_pod_seconds"`
	FrontierLabel        string  `json:"frontier_label"`
	PodSecondsVsFrontier float64 `json:"pod_seconds_vs_frontier"`
	// FrontierFailedFraction is the failed fraction of the best frontier schedule costing no
	// more pod-seconds than this row (-1: none does), FrontierCheapLabel its label.
	FrontierFailedFraction float64 `json:"frontier_failed_fraction"`
	FrontierCheapLabel     string  `json:"frontier_cheap_label"`
	ScaleFactor            float64 `json:"scale_factor"`
	TimeCompression        float64 `json:"time_compression"`
	SimulatedSeconds       float64 `json:"simulated_seconds"`
	Requests               int64   `json:"requests"`
	Failed                 int64   `json:"failed"`
	Unfinished             int64   `json:"unfinished"`
	Attempts               int64   `json:"attempts"`
	RejectedOverload       int64   `json:"rejected_overload"`
	RejectedNotReady       int64   `json:"rejected_not_ready"`
	RejectedUpstream       int64   `json:"rejected_upstream"`
	Errors500              int64   `json:"errors_500"`
	NoEndpoint             int64   `json:"no_endpoint"`
	NodeSeconds            float64 `json:"node_seconds"`
}

// FrontierEntry is one frontier schedule replayed on one trace with one seed.
type FrontierEntry struct {
	Trace string `json:"trace"`
	Seed  uint64 `json:"seed"`
	// Label is "dp λ=<λ>" or "fixed <n>".
	Label            string  `json:"label"`
	Lambda           float64 `json:"lambda,omitempty"`
	FailedFraction   float64 `json:"failed_fraction"`
	RejectedFraction float64 `json:"rejected_fraction"`
	PodSeconds       float64 `json:"pod_seconds"`
	ReplicaChanges   int     `json:"replica_changes"`
	P99LatencyS      float64 `json:"p99_latency_s"`
	// ModelPodSeconds and ModelFailed are what the DP expected of the schedule (pod-seconds,
	// failed requests).
	ModelPodSeconds float64 `json:"model_pod_seconds"`
	ModelFailed     float64 `json:"model_failed"`
	Requests        int64   `json:"requests"`
	Failed          int64   `json:"failed"`
}

// Goal is one of the project's goals (docs/bench.md, "Goals") checked on one trace and seed.
type Goal struct {
	Trace  string `json:"trace"`
	Seed   uint64 `json:"seed"`
	ID     string `json:"id"`
	Goal   string `json:"goal"`
	Met    bool   `json:"met"`
	Detail string `json:"detail"`
}

// Timeline is one policy's run on one trace over time.
type Timeline struct {
	Trace, Policy string
	Points        []sim.Point
}

// WriteAll writes report.json, report.md, and for every trace <trace>.png (the first seed's
// timelines) and <trace>-frontier.png (failures vs pod-seconds) into dir.
func WriteAll(dir string, r Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "report.json"), func(w io.Writer) error { return WriteJSON(w, r) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "report.md"), func(w io.Writer) error { return WriteMarkdown(w, r) }); err != nil {
		return err
	}
	for _, t := range r.Traces {
		if err := WritePlot(filepath.Join(dir, FileName(t.Trace)+".png"), t, r.Timelines); err != nil {
			return err
		}
		if err := WriteFrontierPlot(filepath.Join(dir, FileName(t.Trace)+"-frontier.png"), t.Trace, r); err != nil {
			return err
		}
	}
	return nil
}

// FileName makes a trace name safe as a file name.
func FileName(trace string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, trace)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}
