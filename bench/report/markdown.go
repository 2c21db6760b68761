package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown: how each trace was replayed, one table of rows
// per trace, and the goals.
func WriteMarkdown(w io.Writer, r Report) error {
	bw := bufio.NewWriter(w)
	sc := r.Scenario
	fmt.Fprintf(bw, "# bench report\n\n")
	fmt.Fprintf(bw, "Seed %d. Tick %g s, min/max replicas %d/%d, start-up %g s, not-ready after a roster change %g s, "+
		"%d pods per node, new VM after %g s. Replay rule: time compression %g, busiest window of at most %g s, "+
		"1-minute peak = %g x the rated capacity of %d pods.\n\n",
		r.Seed, sc.TickSeconds, sc.MinReplicas, sc.MaxReplicas, sc.StartupSeconds, sc.NotReadySeconds,
		sc.PodsPerNode, sc.NodeAddSeconds, sc.TimeCompression, sc.MaxDurationSeconds, sc.PeakFactor, sc.MinReplicas)
	if c := r.OracleCapacity; len(c.PerPod) > 1 {
		fmt.Fprintf(bw, "Oracle capacity (measured in the simulator: highest steady Poisson load with overload 503s <= %g%% of attempts, "+
			"%g s probes): %s.\n\n", 100*c.RejectFraction, c.ProbeSeconds, capacityText(c.PerPod))
	}
	for _, t := range r.Traces {
		writeTrace(bw, t, r.Rows)
	}
	if len(r.Goals) > 0 {
		fmt.Fprintf(bw, "## Goals\n\n| trace | goal | met | detail |\n|---|---|---|---|\n")
		for _, g := range r.Goals {
			fmt.Fprintf(bw, "| %s | %s | %s | %s |\n", g.Trace, g.Goal, yesNo(g.Met), g.Detail)
		}
		fmt.Fprintln(bw)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

func writeTrace(w io.Writer, t TraceInfo, rows []Row) {
	fmt.Fprintf(w, "## %s\n\n", t.Trace)
	fmt.Fprintf(w, "Replayed %.0f s of %.0f s (from t=%.0f s; bins of %g s), time compression %g, scale factor %.4g "+
		"(1-minute peak %.3g req/s, mean %.3g req/s; rated capacity of min replicas %.3g req/s). Oracle lead %g s (%g s when a VM is needed).\n\n",
		t.SimulatedSeconds, t.SourceSeconds, t.SliceStartSeconds, t.SourceStepSeconds, t.TimeCompression, t.ScaleFactor,
		t.PeakRPS, t.MeanRPS, t.MinReplicasRPS, t.OracleLeadSeconds, t.OracleNodeLead)
	fmt.Fprintf(w, "| policy | actuation | failed | rejected (503/attempt) | overload 503/attempt | pod-s | vs oracle | replica changes | p99 latency s | requests | unfinished |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.Trace != t.Trace {
			continue
		}
		overload := 0.0
		if r.Attempts > 0 {
			overload = float64(r.RejectedOverload) / float64(r.Attempts)
		}
		fmt.Fprintf(w, "| %s | %s | %.4f%% | %.3f%% | %.3f%% | %.0f | %.2fx | %d | %.2f | %d | %d |\n",
			r.Policy, r.Actuation, 100*r.FailedFraction, 100*r.RejectedFraction, 100*overload, r.PodSeconds, r.PodSecondsVsOracle,
			r.ReplicaChanges, r.P99LatencyS, r.Requests, r.Unfinished)
	}
	fmt.Fprintln(w)
}

// capacityText lists per-pod capacities by cluster size, runs of equal values merged
// ("n=1: 14.9 req/s per pod, n=2..30: 5.34").
func capacityText(perPod []float64) string {
	var parts []string
	for lo := 1; lo < len(perPod); {
		hi := lo
		for hi+1 < len(perPod) && perPod[hi+1] == perPod[lo] {
			hi++
		}
		span := fmt.Sprintf("n=%d", lo)
		if hi > lo {
			span = fmt.Sprintf("n=%d..%d", lo, hi)
		}
		parts = append(parts, fmt.Sprintf("%s: %.3g req/s per pod", span, perPod[lo]))
		lo = hi + 1
	}
	return strings.Join(parts, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
