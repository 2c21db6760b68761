package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"gonum.org/v1/plot/plotter"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// GoalIDs are the goals in table order (docs/bench.md, "Goals").
var GoalIDs = []string{"a", "b", "c", "c-stretch", "d"}

// WriteMarkdown writes the report as Markdown: the scenario and what each seed measured, the
// goal table (one line per trace and seed), then per trace how it was replayed, its plots, one
// table of policies per seed with their distance to the frontier, and the frontier's Pareto
// points.
func WriteMarkdown(w io.Writer, r Report) error {
	bw := bufio.NewWriter(w)
	sc := r.Scenario
	fmt.Fprintf(bw, "# bench report\n\n")
	fmt.Fprintf(bw, "Seeds %s. Tick %g s, min/max replicas %d/%d, start-up %g s, %d pods per node, new VM after %g s. "+
		"Rescale cost: %s. Idle tasks per pod: %d background + %g keep-alive connections (mean); load skew %g; "+
		"the policy reads the agent's %q source. Replay rule: time compression %g, busiest window of at most %g s, "+
		"1-minute peak = %g x the rated capacity of %d pods.\n\n",
		seedList(r.Seeds), sc.TickSeconds, sc.MinReplicas, sc.MaxReplicas, sc.StartupSeconds, sc.PodsPerNode, sc.NodeAddSeconds,
		rescaleText(sc.Rescale), sc.BackgroundTasks, sc.IdleConnectionsPerPod, sc.LoadSkew, sc.AgentSource,
		sc.TimeCompression, sc.MaxDurationSeconds, sc.PeakFactor, sc.MinReplicas)
	for _, m := range r.Measured {
		writeMeasured(bw, m)
	}
	writeGoals(bw, r)
	for _, t := range r.Traces {
		writeTrace(bw, t, r)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

func writeMeasured(w io.Writer, m Measured) {
	c, k := m.Costs, m.Capacity
	fmt.Fprintf(w, "Seed %d measured: initial-replica capacity (overload 503s <= %g%% of attempts, %g s probes) %s; "+
		"frontier costs: a replica change fails %.3g (up) / %.3g (down) requests per req/s of load, start-up %g s, "+
		"failed fraction at a steady per-pod load of %s.\n\n",
		m.Seed, 100*k.RejectFraction, k.ProbeSeconds, capacityText(k.PerPod), c.UpFailures, c.DownFailures,
		c.StartupSeconds, curveText(c.PerPodRPS, c.FailedFraction))
}

func curveText(x, y []float64) string {
	var parts []string
	for i := 0; i < len(x); i += 4 {
		parts = append(parts, fmt.Sprintf("%.3g req/s: %.3g%%", x[i], 100*y[i]))
	}
	return strings.Join(parts, ", ")
}

// writeGoals writes one line per trace and seed, one column per goal.
func writeGoals(w io.Writer, r Report) {
	if len(r.Goals) == 0 {
		return
	}
	fmt.Fprintf(w, "## Goals\n\n(a) hsds failed <= 0.2 x the better 503 recipe (HPA, KEDA); (b) no baseline (HPA, KEDA, KPA) "+
		"as good on both failures and pod-seconds; (c) hsds pod-seconds <= 1.5 x the cheapest frontier schedule failing no "+
		"more (stretch 1.25 x); (d) hsds replica changes <= 1/3 of HPA's.\n\n")
	fmt.Fprintf(w, "| trace | seed | (a) | (b) | (c) | (c) stretch | (d) |\n|---|---:|---|---|---|---|---|\n")
	type key struct {
		trace string
		seed  uint64
	}
	var keys []key
	for _, g := range r.Goals {
		if k := (key{g.Trace, g.Seed}); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	met := map[string][2]int{}
	for _, k := range keys {
		cells := []string{k.trace, fmt.Sprint(k.seed)}
		for _, id := range GoalIDs {
			i := slices.IndexFunc(r.Goals, func(g Goal) bool { return g.Trace == k.trace && g.Seed == k.seed && g.ID == id })
			if i < 0 {
				cells = append(cells, "-")
				continue
			}
			g := r.Goals[i]
			n := met[id]
			n[1]++
			if g.Met {
				n[0]++
			}
			met[id] = n
			cells = append(cells, fmt.Sprintf("%s: %s", yesNo(g.Met), g.Detail))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	var sum []string
	for _, id := range GoalIDs {
		if n, ok := met[id]; ok {
			sum = append(sum, fmt.Sprintf("(%s) %d of %d", id, n[0], n[1]))
		}
	}
	fmt.Fprintf(w, "\nMet: %s.\n\n", strings.Join(sum, ", "))
}

func writeTrace(w io.Writer, t TraceInfo, r Report) {
	fmt.Fprintf(w, "## %s\n\n", t.Trace)
	src := "file"
	if t.Generated != "" {
		src = "generated " + t.Generated
	}
	fmt.Fprintf(w, "%s. Replayed %.0f s of %.0f s (from t=%.0f s; bins of %g s), time compression %g, scale factor %.4g "+
		"(1-minute peak %.3g req/s, mean %.3g req/s; rated capacity of min replicas %.3g req/s).\n\n",
		src, t.SimulatedSeconds, t.SourceSeconds, t.SliceStartSeconds, t.SourceStepSeconds, t.TimeCompression, t.ScaleFactor,
		t.PeakRPS, t.MeanRPS, t.MinReplicasRPS)
	f := FileName(t.Trace)
	fmt.Fprintf(w, "![failures vs pod-seconds](%s-frontier.png)\n\n![timeline, seed %s](%s.png)\n\n", f, seedList(r.Seeds[:min(1, len(r.Seeds))]), f)
	fmt.Fprintf(w, "| seed | policy | actuation | failed | rejected (503/attempt) | overload 503/attempt | 500/attempt | pod-s | replica changes | "+
		"p99 latency s | cheapest frontier failing no more | pod-s vs it | best frontier at no more pod-s |\n")
	fmt.Fprintf(w, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n")
	for _, row := range r.Rows {
		if row.Trace != t.Trace {
			continue
		}
		overload := 0.0
		if row.Attempts > 0 {
			overload = float64(row.RejectedOverload) / float64(row.Attempts)
		}
		cheapest, ratio := "none fails as little", "-"
		if row.FrontierLabel != "" {
			cheapest, ratio = fmt.Sprintf("%s: %.0f pod-s", row.FrontierLabel, row.FrontierPodSeconds), fmt.Sprintf("%.2fx", row.PodSecondsVsFrontier)
		}
		best := "none this cheap"
		if row.FrontierCheapLabel != "" {
			best = fmt.Sprintf("%s: %.4f%%", row.FrontierCheapLabel, 100*row.FrontierFailedFraction)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %.4f%% | %.3f%% | %.3f%% | %.3f%% | %.0f | %d | %.2f | %s | %s | %s |\n",
			row.Seed, row.Policy, row.Actuation, 100*row.FailedFraction, 100*row.RejectedFraction, 100*overload, 100*row.ErrorFraction, row.PodSeconds,
			row.ReplicaChanges, row.P99LatencyS, cheapest, ratio, best)
	}
	fmt.Fprintln(w)
	for _, seed := range r.Seeds {
		writeFrontier(w, t.Trace, seed, r.Frontier)
	}
	fmt.Fprintln(w)
}

// writeFrontier lists one trace and seed's Pareto frontier (failed %, pod-seconds, changes).
func writeFrontier(w io.Writer, trace string, seed uint64, entries []FrontierEntry) {
	var mine []FrontierEntry
	var pts plotter.XYs
	for _, f := range entries {
		if f.Trace == trace && f.Seed == seed {
			mine = append(mine, f)
			pts = append(pts, plotter.XY{X: f.PodSeconds, Y: f.FailedFraction})
		}
	}
	if len(mine) == 0 {
		return
	}
	var parts []string
	for _, p := range Pareto(pts) {
		i := slices.IndexFunc(mine, func(f FrontierEntry) bool { return f.PodSeconds == p.X && f.FailedFraction == p.Y })
		parts = append(parts, fmt.Sprintf("%s %.4f%% / %.0f pod-s / %d changes", mine[i].Label, 100*p.Y, p.X, mine[i].ReplicaChanges))
	}
	fmt.Fprintf(w, "Frontier, seed %d (%d schedules replayed), Pareto points: %s.\n\n", seed, len(mine), strings.Join(parts, "; "))
}

func seedList(seeds []uint64) string {
	var s []string
	for _, x := range seeds {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ", ")
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

// rescaleText describes a rescale cost model in a few words.
func rescaleText(r sim.Rescale) string {
	if r.Mode == sim.RescaleNotReady {
		return fmt.Sprintf("%g s of cluster-wide not-ready 503s per change (HSDS 1.0.1)", r.NotReadySeconds)
	}
	w := func(w sim.Window) string {
		share := fmt.Sprintf("%g", w.KeyErrorFraction)
		if w.DepartedShare {
			share = "the departed DNs' share"
		}
		out := fmt.Sprintf("%g-%g s at %s", w.MinSeconds, w.MaxSeconds, share)
		if w.GateJamFraction > 0 {
			out += fmt.Sprintf(" with a gate jam on each SN at chance %g", w.GateJamFraction)
		}
		return out
	}
	return fmt.Sprintf("partition mismatch (HSDS 0.9.4): up %s 500s per touched DN, down %s, stuck-WAITING chance %.3g per pod started",
		w(r.Up), w(r.Down), r.StuckChance)
}
