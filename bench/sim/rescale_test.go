package sim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// oneKey is a scenario whose requests each touch one data node (domain GETs, as measured).
func oneKey(preset string) Scenario {
	sc := DefaultScenario()
	sc.Rescale = RescalePresets()[preset]
	sc.Rescale.StuckChance = 0
	sc.Mix = Mix{Small: 1}
	return sc
}

// counts are the run's attempts, 500s and 503s by cause since a mark.
type counts struct{ attempts, e500, overload, notReady, upstream int64 }

func mark(s *Sim) counts {
	st := s.stats
	return counts{st.Attempts, st.Errors500, st.Rejected.Overload, st.Rejected.NotReady, st.Rejected.Upstream}
}

func (c counts) since(b counts) counts {
	return counts{c.attempts - b.attempts, c.e500 - b.e500, c.overload - b.overload, c.notReady - b.notReady, c.upstream - b.upstream}
}

// docs/hsds.md, "Measured on the real HSDS 0.9.4", Kubernetes mode: a scale-up costs 10-12 s of
// partition mismatch (0.15 of one-key requests get 500), a scale-down 9-20 s (0.25); the nodes
// stay READY, no 503. A request touching m data nodes fails with 1 - (1 - f)^m.
func TestPartitionMismatch(t *testing.T) {
	tests := []struct {
		name      string
		mix       Mix
		to        int32
		quiet     float64 // the window's shortest length: all of it mismatched
		over      float64 // its longest: nothing after
		wantShare float64
	}{
		{"scale-up, one key", Mix{Small: 1}, 4, 10, 12, 0.15},
		{"scale-down, one key", Mix{Small: 1}, 2, 9, 20, 0.25},
		{"scale-up, chunk reads over 4 DNs", Mix{ChunkGet: 1}, 4, 10, 12, 1 - math.Pow(0.85, 4)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := oneKey("kubernetes-prestop")
			sc.Mix = tc.mix
			sc.Retries = 0
			s := newSim(t, sc, constLoad(60), 3)
			run(s, 20)
			s.SetSpec(tc.to)
			at := s.Seconds()
			if tc.to > 3 {
				at += sc.StartupSeconds + 0.1
			}
			run(s, at-s.Seconds())
			if tc.to > 3 && len(s.endpoints) != 4 {
				t.Fatalf("%d serving pods after start-up, want 4", len(s.endpoints))
			}
			b := mark(s)
			run(s, tc.quiet)
			in := mark(s).since(b)
			share := float64(in.e500) / float64(in.attempts)
			if math.Abs(share-tc.wantShare) > 0.07 {
				t.Errorf("500s in the window: %d of %d attempts (%.3f), want about %.3f", in.e500, in.attempts, share, tc.wantShare)
			}
			if in.notReady+in.upstream != 0 {
				t.Errorf("not-ready or upstream 503s in the window %+v: the nodes stay READY", in)
			}
			run(s, tc.over-tc.quiet)
			b = mark(s)
			run(s, 30)
			if after := mark(s).since(b); after.e500 != 0 {
				t.Errorf("%d 500s after the longest window", after.e500)
			}
		})
	}
}

// The head preset (TestRealRescaleHeadNode): a scale-up costs a few 500s and no 503; a scale-down
// 10-30 s of 500s for the departed DN's keys (1 of 4 here).
func TestHeadNodeRescale(t *testing.T) {
	sc := oneKey("head")
	s := newSim(t, sc, constLoad(60), 3)
	run(s, 20)
	s.SetSpec(4)
	run(s, sc.StartupSeconds+30)
	if c := mark(s); c.e500 > 30 || c.notReady+c.upstream != 0 || len(s.endpoints) != 4 {
		t.Fatalf("scale-up with a head node: %+v, %d serving: want a few 500s, no 503, 4 serving", c, len(s.endpoints))
	}
	s.SetSpec(3)
	b := mark(s)
	run(s, 10)
	in := mark(s).since(b)
	if share := float64(in.e500) / float64(in.attempts); math.Abs(share-1.0/4) > 0.07 {
		t.Errorf("scale-down 4 -> 3: 500s %.3f of attempts, want about 1/4", share)
	}
}

// k8s.md: in 1 of 6 scale-ups an old SN+DN pair stays WAITING, 503 to everything, until the pod
// set changes again; its DN's keys 503 through the other SNs (cause upstream). The readiness
// probe on the node state takes it out of the Service after 15 s.
func TestStuckWaiting(t *testing.T) {
	sc := oneKey("kubernetes-prestop")
	sc.Rescale.StuckChance = 1
	sc.Rescale.Up.KeyErrorFraction = 0
	sc.Retries = 0
	s := newSim(t, sc, constLoad(80), 3)
	run(s, 20)
	s.SetSpec(4)
	run(s, sc.StartupSeconds+0.5)
	var stuck *pod
	for _, p := range s.endpoints {
		if p.stuck() {
			if stuck != nil {
				t.Fatalf("two stuck pods after one pod started")
			}
			stuck = p
		}
	}
	if stuck == nil || stuck == s.endpoints[3] {
		t.Fatalf("no old pod stuck after a scale-up with StuckChance 1")
	}
	if got := s.nodeState(stuck, s.Seconds()); got != schema.StateWaiting {
		t.Errorf("stuck pod's SN state %q, want WAITING", got)
	}
	b, own := mark(s), stuck.counts.notReady
	run(s, 10)
	in := mark(s).since(b)
	if stuck.counts.notReady == own || in.notReady != stuck.counts.notReady-own {
		t.Errorf("not-ready 503s: %d in all, %d from the stuck SN: want all from it, some", in.notReady, stuck.counts.notReady-own)
	}
	if up := float64(in.upstream) / float64(in.attempts-in.notReady); math.Abs(up-0.25) > 0.07 {
		t.Errorf("upstream 503s %.3f of the other SNs' attempts, want about 1/4 (the stuck DN's keys)", up)
	}
	run(s, stuckUnroutedAfter)
	before := stuck.counts.total()
	run(s, 10)
	if got := stuck.counts.total() - before; got != 0 {
		t.Errorf("stuck pod got %d attempts after its readiness probe failed", got)
	}
	// A scale-down removes it first (the ReplicaSet deletes pods that are not Ready first).
	s.SetSpec(3)
	if slices.Contains(s.pods, stuck) {
		t.Errorf("scale-down 4 -> 3 kept the stuck pod (not Ready) and removed a Ready one")
	}
	if s.stuckPods != 0 {
		t.Errorf("still %d stuck after the pod set changed", s.stuckPods)
	}
	b = mark(s)
	run(s, 30)
	if in := mark(s).since(b); in.notReady+in.upstream != 0 {
		t.Errorf("503s after the release: %+v", in)
	}
}

// k8s.md: any change of the pod set releases a stuck pod, also one that adds a pod (the default
// remedy guards.releaseStuck relies on it).
func TestStuckReleasedByScaleUp(t *testing.T) {
	sc := oneKey("kubernetes-prestop")
	sc.Rescale.StuckChance = 1
	sc.PodsPerNode = 8
	s := newSim(t, sc, constLoad(80), 3)
	run(s, 20)
	s.SetSpec(4)
	run(s, sc.StartupSeconds+0.5)
	if s.stuckPods != 1 {
		t.Fatalf("%d stuck pods after a scale-up with StuckChance 1, want 1", s.stuckPods)
	}
	var stuck *pod
	for _, p := range s.endpoints {
		if p.stuck() {
			stuck = p
		}
	}
	s.sc.Rescale.StuckChance = 0
	s.SetSpec(5)
	run(s, sc.StartupSeconds+0.5)
	if stuck.stuck() || s.stuckPods != 0 {
		t.Errorf("the pod stuck by the first start is still stuck after another pod started")
	}
}

// docs/hsds.md: the SN's 2 background tasks and every idle keep-alive connection count against
// max_task_count: they are in-flight whatever the load, and the gate admits that many fewer.
func TestIdleTasks(t *testing.T) {
	sc := DefaultScenario()
	sc.IdleConnectionsPerPod, sc.LoadSkew = 0, 0
	s := newSim(t, sc, constLoad(0), 2)
	for _, p := range s.endpoints {
		if p.inFlight != 2 || p.idle != 2 {
			t.Errorf("idle pod: in-flight %d, idle %d: want the 2 background tasks", p.inFlight, p.idle)
		}
	}
	p := s.endpoints[0]
	p.inFlight = sc.MaxTaskCount - sc.OverheadTasks + 1
	s.attempt(s.Seconds(), request{kind: kindSmall})
	if p.counts.overload != 1 {
		t.Errorf("gate admitted at %d tasks", p.inFlight)
	}
	sc.IdleConnectionsPerPod = 5
	s = newSim(t, sc, constLoad(0), 30)
	sum := 0
	for _, p := range s.endpoints {
		sum += p.idle
	}
	if mean := float64(sum) / 30; math.Abs(mean-7) > 1.5 {
		t.Errorf("mean idle tasks %g with 5 idle connections per pod, want about 7", mean)
	}
}

// kube-proxy spreads connections, not requests: with LoadSkew > 0 pods get shares in proportion
// to their weights; with 0 alike.
func TestLoadSkew(t *testing.T) {
	for _, skew := range []float64{0, 0.5} {
		sc := DefaultScenario()
		sc.LoadSkew, sc.MaxReplicas = skew, 6
		s := newSim(t, sc, constLoad(0), 6)
		s.routes.build(s.endpoints, 0)
		got := make(map[*pod]int)
		const n = 60000
		for range n {
			got[s.routes.pick(s.rng.Float64())]++
		}
		total := 0.0
		for _, p := range s.endpoints {
			total += p.weight
		}
		spread := 0.0
		for _, p := range s.endpoints {
			want := n * p.weight / total
			if math.Abs(float64(got[p])-want) > 0.05*want {
				t.Errorf("skew %g: pod %s got %d attempts, want about %.0f", skew, p.name, got[p], want)
			}
			spread = math.Max(spread, math.Abs(p.weight-1))
		}
		if (skew == 0) != (spread == 0) {
			t.Errorf("skew %g: weights spread %g", skew, spread)
		}
	}
}

// The policy reads what the agent infers from /info (agent.InfoClassifier), not the truth: a
// rescale's 500s are "other", never overload; a stuck SN's 503s are not_ready; gate 503s are
// overload only while the gate is seen busy (an upper bound of the true count, most of it).
func TestAgentInfoSource(t *testing.T) {
	t.Run("rescale 500s are not overload", func(t *testing.T) {
		sc := oneKey("kubernetes-prestop")
		s := newSim(t, sc, constLoad(40), 3)
		run(s, 20)
		s.SetSpec(2)
		run(s, 20)
		if s.stats.Errors500 == 0 {
			t.Fatal("no 500s in the scale-down window")
		}
		for _, p := range s.endpoints {
			rd := s.reading(p, s.Seconds())
			if rd.Rejected[agentmetrics.CauseOverload] != 0 || rd.Rejected[agentmetrics.CauseNotReady] != 0 || rd.Exact {
				t.Errorf("%s exports %+v: the 500s must stay other, inexact", p.name, rd)
			}
			if want := float64(p.counts.total()); math.Abs(rd.Responses-want) > 0.05*want {
				t.Errorf("%s exports %g responses, served %g", p.name, rd.Responses, want)
			}
		}
	})
	t.Run("overload", func(t *testing.T) {
		sc := DefaultScenario()
		sc.Rescale.StuckChance = 0
		s := newSim(t, sc, constLoad(3*sc.ClusterCapacity(2)), 2)
		run(s, 60)
		var truth, exported float64
		for _, p := range s.endpoints {
			truth += float64(p.counts.overload)
			exported += s.reading(p, s.Seconds()).Rejected[agentmetrics.CauseOverload]
		}
		if truth == 0 || exported > 1.05*truth || exported < 0.5*truth {
			t.Errorf("overload 503s: %g exported of %g true, want most of them and no more", exported, truth)
		}
	})
	t.Run("stuck SN is not_ready, in-flight absent when idle", func(t *testing.T) {
		sc := oneKey("kubernetes-prestop")
		sc.Rescale.StuckChance, sc.Rescale.Up.KeyErrorFraction, sc.Retries = 1, 0, 0
		s := newSim(t, sc, constLoad(40), 3)
		run(s, 20)
		s.SetSpec(4)
		run(s, sc.StartupSeconds+10)
		for _, p := range s.endpoints {
			rd := s.reading(p, s.Seconds())
			if p.stuck() && (rd.NodeState != schema.StateWaiting || rd.Rejected[agentmetrics.CauseNotReady] < 0.9*float64(p.counts.notReady)) {
				t.Errorf("stuck %s exports %+v, true not_ready %d", p.name, rd, p.counts.notReady)
			}
		}
		s.load = constLoad(0)
		run(s, 5)
		for _, p := range s.endpoints {
			if rd := s.reading(p, s.Seconds()); rd.HasInFlight {
				t.Errorf("%s exports in-flight %g with no request for 5 s (the /info sample is stale)", p.name, rd.InFlight)
			}
		}
	})
}

// h5pyd retries 500 like 503; a POST fails at once.
func TestRetryOn500(t *testing.T) {
	for _, tc := range []struct {
		k          kind
		wantFailed int64
	}{{kindPost, 1}, {kindSmall, 0}} {
		sc := oneKey("kubernetes-prestop")
		s := newSim(t, sc, constLoad(0), 2)
		s.mismatch = mismatch{until: s.Seconds() + sc.TickSeconds/2, keyFraction: 1} // this attempt only
		s.stats = newStats()
		s.stats.Requests = 1
		s.attempt(s.Seconds(), request{first: s.Seconds(), kind: tc.k})
		run(s, 30)
		if st := s.Stats(); st.Failed != tc.wantFailed || st.Errors500 != 1 || st.Succeeded != 1-tc.wantFailed {
			t.Errorf("kind %d after a 500: failed %d, 500s %d, succeeded %d", tc.k, st.Failed, st.Errors500, st.Succeeded)
		}
	}
}

func TestRescaleValidate(t *testing.T) {
	for name, r := range RescalePresets() {
		if err := r.validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	bad := Rescale{Mode: "x", Up: Window{MinSeconds: 5, MaxSeconds: 1, KeyErrorFraction: 2}, StuckChance: -1}
	err := bad.validate()
	for _, want := range []string{"rescale.mode", "rescale.up seconds", "rescale.up.keyErrorFraction", "rescale.stuckChance"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate(%+v) = %v, want it to name %s", bad, err, want)
		}
	}
	if _, err := RescalePreset("nope"); err == nil {
		t.Error("RescalePreset(nope) succeeded")
	}
}

// docs/hsds.md ("The simulator's kubernetes rescale preset (the default) comes from these runs"):
// on real pods without a preStop sleep a scale-down jams the remaining SNs' gates for 28-32 s:
// requests routed to the departed DN hang until HSDS's timeout and hold every task slot, so the SNs
// shed everything with overload 503s; then they serve again.
func TestGateJamAfterScaleDown(t *testing.T) {
	sc := oneKey("kubernetes")
	sc.Rescale.Down.GateJamFraction = 1
	sc.Rescale.Down.KeyErrorFraction = 0
	sc.Retries = 0
	s := newSim(t, sc, constLoad(40), 4)
	run(s, 20)
	s.SetSpec(3)
	for _, p := range s.endpoints {
		if p.hung != sc.MaxTaskCount || p.inFlight < sc.MaxTaskCount {
			t.Fatalf("pod %s after the scale-down: hung %d, in-flight %d; want the gate held shut (%d hung)", p.name, p.hung, p.inFlight, sc.MaxTaskCount)
		}
	}
	b := mark(s)
	run(s, 20)
	in := mark(s).since(b)
	if in.attempts == 0 || in.overload != in.attempts || in.e500 != 0 {
		t.Errorf("jam: %d attempts, %d overload 503s, %d 500s; want every attempt an overload 503", in.attempts, in.overload, in.e500)
	}
	// The agents see why: the /info task sample (info source) and the in-flight gauge (exact) at
	// or above the limit.
	for _, p := range s.endpoints {
		if p.agent.numTasks < float64(sc.MaxTaskCount) {
			t.Errorf("pod %s: /info num_tasks %g during the jam, want >= %d", p.name, p.agent.numTasks, sc.MaxTaskCount)
		}
	}
	run(s, 13) // past the longest window (32 s)
	for _, p := range s.endpoints {
		if p.hung != 0 || p.inFlight > sc.MaxTaskCount/2 {
			t.Errorf("pod %s after the window: hung %d, in-flight %d", p.name, p.hung, p.inFlight)
		}
	}
	b = mark(s)
	run(s, 10)
	if in := mark(s).since(b); in.overload*20 > in.attempts {
		t.Errorf("after the jam: %d overload 503s of %d attempts", in.overload, in.attempts)
	}
}

// The jam hits each SN with chance GateJamFraction, and "kubernetes-prestop" (a preStop sleep) has none.
func TestGateJamFraction(t *testing.T) {
	for _, tc := range []struct {
		preset   string
		fraction float64
		lo, hi   int
	}{{"kubernetes-prestop", 0, 0, 0}, {"kubernetes", 0.9, 120, 160}, {"kubernetes", 0.5, 60, 100}} {
		sc := oneKey(tc.preset)
		sc.PodsPerNode, sc.MaxReplicas = 200, 200
		sc.Rescale.Down.GateJamFraction = tc.fraction
		s := newSim(t, sc, constLoad(0), 161)
		run(s, 1)
		s.SetSpec(160)
		jammed := 0
		for _, p := range s.endpoints {
			if p.hung > 0 {
				jammed++
			}
		}
		if jammed < tc.lo || jammed > tc.hi {
			t.Errorf("%s, gateJamFraction %g: %d of 160 SNs jammed, want %d-%d", tc.preset, tc.fraction, jammed, tc.lo, tc.hi)
		}
	}
}

// TestRealRescaleCostMatchesPreset (e2e, real pods): after a scale-up 0-26 % of attempts were
// overload 503s for ~8 s (mean 0.13 over four); the preset jams each serving SN with chance
// Up.GateJamFraction for the up window, and never one on "kubernetes-prestop".
func TestGateJamAfterScaleUp(t *testing.T) {
	for _, tc := range []struct {
		preset string
		lo, hi int
	}{{"kubernetes", 12, 38}, {"kubernetes-prestop", 0, 0}} {
		sc := oneKey(tc.preset)
		sc.PodsPerNode, sc.MaxReplicas = 200, 200
		sc.Rescale.StuckChance = 0
		s := newSim(t, sc, constLoad(0), 160)
		run(s, 1)
		s.SetSpec(161)
		run(s, sc.StartupSeconds+0.5)
		jammed := 0
		for _, p := range s.endpoints {
			if p.hung > 0 {
				jammed++
				if p.hungUntil-s.Seconds() > sc.Rescale.Up.MaxSeconds {
					t.Errorf("%s: pod %s jammed until %.1f s from now, past the up window (%g s)", tc.preset, p.name, p.hungUntil-s.Seconds(), sc.Rescale.Up.MaxSeconds)
				}
			}
		}
		if jammed < tc.lo || jammed > tc.hi {
			t.Errorf("%s: %d of 161 SNs jammed after a scale-up, want %d-%d (gateJamFraction %g)", tc.preset, jammed, tc.lo, tc.hi, sc.Rescale.Up.GateJamFraction)
		}
	}
}
