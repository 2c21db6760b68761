package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// DryRunOptions configure DryRunTrace.
type DryRunOptions struct {
	// Trace is a trace file (`t_seconds,requests_per_second`).
	Trace string
	// PolicyFile is the ScalingPolicy to run ("" for the defaults).
	PolicyFile string
	// Scenario is the simulated cluster; the trace is sliced and scaled as in Run.
	Scenario sim.Scenario
	Seed     uint64
	// All writes every step, not only those that want a change or act.
	All bool
	// Output is "text" (one line per decision, then a summary) or "json" (one document with the
	// decisions and the summary row).
	Output string
	// Plot, when set, is a PNG path for load, capacity and replicas over time.
	Plot string
}

// DryRunResult is what `dry-run --trace --output json` prints.
type DryRunResult struct {
	Trace     report.TraceInfo    `json:"trace"`
	Decisions []scaler.DryRunStep `json:"decisions"`
	Summary   report.Row          `json:"summary"`
}

// Validate returns every problem with the options.
func (o DryRunOptions) Validate() error {
	var errs []error
	if o.Trace == "" {
		errs = append(errs, errors.New("no trace file"))
	}
	if err := o.Scenario.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("scenario: %w", err))
	}
	if o.Output != "" && o.Output != "text" && o.Output != "json" {
		errs = append(errs, fmt.Errorf("output %q: want text or json", o.Output))
	}
	return errors.Join(errs...)
}

// DryRunTrace replays one trace through the hsds policy of the policy file, on the simulated
// cluster (scaler.Controller with its guards; writes reach the simulator only), and writes the
// control steps that wanted a change or acted (every step with All) in scaler.WriteDryRunSteps'
// format, then a summary line (or one JSON document of both). It returns the replay's report row. It backs `hsds-autoscaler dry-run --trace`.
func DryRunTrace(ctx context.Context, opts DryRunOptions, w io.Writer) (report.Row, error) {
	if err := opts.Validate(); err != nil {
		return report.Row{}, fmt.Errorf("dry-run trace: %w", err)
	}
	s, err := trace.ReadFile(opts.Trace, trace.DefaultParseOptions())
	if err != nil {
		return report.Row{}, err
	}
	capacity, err := sim.MeasureCapacities(opts.Scenario, opts.Seed) // same initial replicas as bench
	if err != nil {
		return report.Row{}, fmt.Errorf("dry-run trace: %w", err)
	}
	r, err := prepare(s, opts.Scenario)
	if err != nil {
		return report.Row{}, fmt.Errorf("trace %s: %w", opts.Trace, err)
	}
	cfg := Config{Scenario: opts.Scenario, PolicyFile: opts.PolicyFile, Seeds: []uint64{opts.Seed}}
	pol := builtinPolicies()[0] // hsds
	plan := replayPlan{trace: &r, seed: opts.Seed, initial: capacity.ReplicasFor(r.series.Rates[0])}
	jobs := newJobs([]replayPlan{plan}, []Policy{pol}, opts.Scenario)
	var decisions []scaler.DryRunStep
	observe := func(o scaler.Outcome) {
		if !opts.All && !o.Acted && o.Decision.Replicas == o.Current {
			return
		}
		decisions = append(decisions, scaler.NewDryRunStep(o, sim.Epoch(), false))
	}
	res, err := runJob(ctx, jobs[0], cfg, newProgress(nil, nil), observe)
	if err != nil {
		return report.Row{}, err
	}
	summary := row(r.info, opts.Seed, pol, res)
	if opts.Plot != "" {
		tl := report.Timeline{Trace: r.info.Trace, Policy: pol.Name, Points: res.stats.Timeline}
		if err := report.WritePlot(opts.Plot, r.info, []report.Timeline{tl}); err != nil {
			return report.Row{}, fmt.Errorf("dry-run plot: %w", err)
		}
	}
	if err := writeDryRun(w, opts.Output, DryRunResult{Trace: r.info, Decisions: decisions, Summary: summary}); err != nil {
		return report.Row{}, fmt.Errorf("dry-run trace output: %w", err)
	}
	return summary, nil
}

// writeDryRun prints the decisions and the summary as text lines or one JSON document.
func writeDryRun(w io.Writer, format string, res DryRunResult) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if err := scaler.WriteDryRunSteps(w, "text", res.Decisions); err != nil {
		return err
	}
	t, sm := res.Trace, res.Summary
	_, err := fmt.Fprintf(w, "summary: trace=%s slice_start=%.0fs simulated=%.0fs scale_factor=%.4g time_compression=%g policy=%s "+
		"failed_fraction=%.5f rejected_fraction=%.5f pod_seconds=%.0f replica_changes=%d p99_latency_s=%.3f\n",
		t.Trace, t.SliceStartSeconds, t.SimulatedSeconds, t.ScaleFactor, t.TimeCompression, sm.Policy,
		sm.FailedFraction, sm.RejectedFraction, sm.PodSeconds, sm.ReplicaChanges, sm.P99LatencyS)
	return err
}
