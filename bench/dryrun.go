package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

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

// DryRunDecision is one control step of a trace dry-run.
type DryRunDecision struct {
	TimeSeconds float64  `json:"t_seconds"`
	Current     int32    `json:"current"`
	Recommended int32    `json:"recommended"`
	Desired     int32    `json:"desired"`
	Reason      string   `json:"reason"`
	Message     string   `json:"message,omitempty"`
	Guards      []string `json:"guards,omitempty"`
	Acted       bool     `json:"acted"`
	Ready       int32    `json:"ready"`
	Pending     int32    `json:"pending"`
}

// DryRunResult is what `dry-run --trace --output json` prints.
type DryRunResult struct {
	Trace     report.TraceInfo `json:"trace"`
	Decisions []DryRunDecision `json:"decisions"`
	Summary   report.Row       `json:"summary"`
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
// cluster (scaler.Controller with its guards; writes reach the simulator only), and writes one
// line per control step that wanted a change or acted (every step with All):
//
//	t=<simulated s> current=<n> recommended=<n> desired=<n> reason=<code> guards=<a,b> acted=<bool> ready=<n> pending=<n>
//
// It returns the replay's report row. It backs `hsds-autoscaler dry-run --trace`.
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
	r, err := prepare(s, opts.Scenario, &capacity)
	if err != nil {
		return report.Row{}, fmt.Errorf("trace %s: %w", opts.Trace, err)
	}
	cfg := Config{Scenario: opts.Scenario, PolicyFile: opts.PolicyFile, Seed: opts.Seed}
	pol := builtinPolicies()[0] // hsds
	jobs := plan([]replay{r}, []Policy{pol}, opts.Scenario.TickSeconds)
	var decisions []DryRunDecision
	observe := func(o scaler.Outcome) {
		if !opts.All && !o.Acted && o.Decision.Replicas == o.Current {
			return
		}
		decisions = append(decisions, DryRunDecision{
			TimeSeconds: o.Time.Sub(sim.Epoch()).Seconds(), Current: o.Current, Recommended: o.Decision.Replicas,
			Desired: o.Desired, Reason: o.Reason, Message: o.Decision.Message, Guards: o.Guards, Acted: o.Acted,
			Ready: o.Ready, Pending: o.Pending,
		})
	}
	res, err := runJob(ctx, jobs[0], cfg, newProgress(nil, nil), observe)
	if err != nil {
		return report.Row{}, err
	}
	summary := row(r.info, pol.Name, res, 0)
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
	for _, d := range res.Decisions {
		if _, err := fmt.Fprintf(w, "t=%.0f current=%d recommended=%d desired=%d reason=%s guards=%s acted=%t ready=%d pending=%d\n",
			d.TimeSeconds, d.Current, d.Recommended, d.Desired, d.Reason, strings.Join(d.Guards, ","), d.Acted, d.Ready, d.Pending); err != nil {
			return err
		}
	}
	t, sm := res.Trace, res.Summary
	_, err := fmt.Fprintf(w, "summary: trace=%s slice_start=%.0fs simulated=%.0fs scale_factor=%.4g time_compression=%g policy=%s "+
		"failed_fraction=%.5f rejected_fraction=%.5f pod_seconds=%.0f replica_changes=%d p99_latency_s=%.3f\n",
		t.Trace, t.SliceStartSeconds, t.SimulatedSeconds, t.ScaleFactor, t.TimeCompression, sm.Policy,
		sm.FailedFraction, sm.RejectedFraction, sm.PodSeconds, sm.ReplicaChanges, sm.P99LatencyS)
	return err
}
