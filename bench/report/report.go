package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// Report is one bench run.
type Report struct {
	Seed     uint64       `json:"seed"`
	Scenario sim.Scenario `json:"scenario"`
	Traces   []TraceInfo  `json:"traces"`
	Rows     []Row        `json:"rows"`
	Goals    []Goal       `json:"goals"`
	// OracleCapacity is the per-pod capacity the oracle plans with, measured in the simulator.
	OracleCapacity sim.Capacity `json:"oracle_capacity"`
	// Timelines feed the plots; they are not part of report.json.
	Timelines []Timeline `json:"-"`
}

// TraceInfo says how a trace was replayed: which slice, how compressed, how scaled.
type TraceInfo struct {
	Trace             string  `json:"trace"`
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
	MinReplicasRPS    float64 `json:"min_replicas_capacity_rps"`
	OracleLeadSeconds float64 `json:"oracle_lead_seconds"`
	// OracleNodeLead is the oracle's lead when its pods need a new VM.
	OracleNodeLead float64 `json:"oracle_node_lead_seconds"`
}

// Row is one policy on one trace.
type Row struct {
	Trace  string `json:"trace"`
	Policy string `json:"policy"`
	// Actuation is "scaler.Controller" (guards on) or "direct" (recommendation written as is).
	Actuation string `json:"actuation"`
	// FailedFraction: client-visible failures (after retries) per finished logical request.
	FailedFraction float64 `json:"failed_fraction"`
	// RejectedFraction: 503s per attempt (retries included).
	RejectedFraction   float64 `json:"rejected_fraction"`
	PodSeconds         float64 `json:"pod_seconds"`
	OraclePodSeconds   float64 `json:"oracle_pod_seconds"`
	PodSecondsVsOracle float64 `json:"pod_seconds_vs_oracle"`
	ReplicaChanges     int     `json:"replica_changes"`
	P99LatencyS        float64 `json:"p99_latency_s"`
	ScaleFactor        float64 `json:"scale_factor"`
	TimeCompression    float64 `json:"time_compression"`
	SimulatedSeconds   float64 `json:"simulated_seconds"`
	Requests           int64   `json:"requests"`
	Failed             int64   `json:"failed"`
	Unfinished         int64   `json:"unfinished"`
	Attempts           int64   `json:"attempts"`
	RejectedOverload   int64   `json:"rejected_overload"`
	RejectedNotReady   int64   `json:"rejected_not_ready"`
	NoEndpoint         int64   `json:"no_endpoint"`
	NodeSeconds        float64 `json:"node_seconds"`
}

// Goal is one of the project's acceptance goals checked on one trace.
type Goal struct {
	Trace  string `json:"trace"`
	Goal   string `json:"goal"`
	Met    bool   `json:"met"`
	Detail string `json:"detail"`
}

// Timeline is one policy's run on one trace over time.
type Timeline struct {
	Trace, Policy string
	Points        []sim.Point
}

// WriteAll writes report.json, report.md and <trace>.png for every trace into dir.
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
