package sim

import (
	"errors"
	"fmt"
	"math"
)

// Rescale modes: what a change of the HSDS pod set costs (docs/hsds.md, "Measured on the real
// HSDS 0.9.4").
const (
	// RescalePartition is HSDS 0.9.4: the nodes stay READY while SNs and DNs disagree on the
	// DN count for a while after a change, and requests for the keys whose owner moved get 500s
	// (Kubernetes and head-node modes; their figures differ, see RescalePresets).
	RescalePartition = "partition"
	// RescaleNotReady is HSDS 1.0.1+: every change gives about one health-check interval of
	// cluster-wide not-ready 503s (Rescale.NotReadySeconds).
	RescaleNotReady = "notready"
)

// Rescale is the cost model of a change of the HSDS pod set (a pod starting to serve, or a
// serving pod leaving).
type Rescale struct {
	// Mode is RescalePartition or RescaleNotReady.
	Mode string `json:"mode"`
	// Up and Down are the windows after the pod set grows and shrinks (RescalePartition).
	Up   Window `json:"up"`
	Down Window `json:"down"`
	// StuckChance is the chance that a pod starting to serve leaves one old pod stuck WAITING,
	// 503 to everything, until the pod set changes again (HSDS issue 423; RescalePartition).
	StuckChance float64 `json:"stuckChance"`
	// NotReadySeconds is the cluster-wide not-ready window after every change (RescaleNotReady).
	NotReadySeconds float64 `json:"notReadySeconds"`
}

// Window is the partition mismatch after one change: it lasts a uniform draw from
// [MinSeconds, MaxSeconds], and in it each data node a request touches answers 500 with
// probability KeyErrorFraction, or with the departed DNs' share of the keys (left / DNs before)
// when DepartedShare is set and that is larger (measured with one-key domain GETs: a request
// touching m data nodes fails with 1 - (1 - p)^m).
//
// GateJamFraction is the chance that each serving SN's task gate is held shut for the window:
// after a scale-down, requests it routed to the departed DN hang on its vanished IP until HSDS's
// timeout, and their tasks fill the gate, so it sheds everything with overload 503s (measured on
// real pods without a preStop sleep: docs/hsds.md, "The simulator's kubernetes rescale preset");
// after a scale-up some SNs shed the same way for about the window (TestRealRescaleCostMatchesPreset,
// four scale-ups 2 -> 3: 0.22, 0.26, 0.03 and 0 of attempts 503, counted as overload by the agents,
// for ~8 s from ~2 s after the change; mean 0.13: 0.15 of the SNs over most of the window).
type Window struct {
	MinSeconds       float64 `json:"minSeconds"`
	MaxSeconds       float64 `json:"maxSeconds"`
	KeyErrorFraction float64 `json:"keyErrorFraction"`
	DepartedShare    bool    `json:"departedShare,omitempty"`
	GateJamFraction  float64 `json:"gateJamFraction,omitempty"`
}

// RescalePresets are the measured cost models by name (docs/hsds.md; ../shared/real-hsds/k8s.md):
//   - "kubernetes" (the default; HSDS 0.9.4 in Kubernetes mode as users deploy it, pods without a
//     preStop sleep, as our real-pod e2e and `make demo HSDS=real` measured it): a scale-up 10-12 s
//     at 0.02 500s (5 of 7 scale-ups had none; 0.005-0.15 in the four of
//     TestRealRescaleCostMatchesPreset) with a gate jam on 15 SNs in 100 (see GateJamFraction), a scale-down a 28-32 s gate jam on 9 SNs in 10 (8 of 9 measured) with
//     0.005 500s, and 1 scale-up in 6 leaves an old pod stuck WAITING;
//   - "kubernetes-prestop" (0.9.4 in Kubernetes mode with a preStop sleep longer than
//     node_sleep_time, the set-up docs/e2e.md recommends; k8s.md's figures): a scale-up 10-12 s
//     with 40-75 500s of ~220 domain GETs (0.15), a scale-down 9-20 s with 51-88 500s of 180-400
//     (0.25), no jam, 1 in 6 stuck (the preset of record before the issue-14 re-run);
//   - "head" (0.9.4 with a head node): a scale-up costs a few 500s (none in docs/hsds.md; 2-18
//     per change at 40 req/s in TestRealRescaleHeadNode, which holds the preset against the
//     real server), a scale-down 10-30 s of 500s for the departed DN's keys. The range is the
//     head's mechanism (upstream hsds/headnode.py, Node.is_healthy; basenode.py, healthCheck):
//     the head drops a DN once its last check-in is 2 x node_sleep_time (20 s) old, and that
//     check-in came up to one node_sleep_time before the DN stopped, so the DN leaves the
//     roster 10-20 s after; each SN learns the roster at its own next health check, up to another
//     node_sleep_time later. Measured: 24 s in docs/hsds.md, 10.5-29.7 s in 8 runs of
//     TestRealRescaleHeadNode (the first form, 10-24 s, was the measured range; a CI run's
//     29.7 s fell outside it);
//   - "notready" (1.0.1+): 10 s of cluster-wide not-ready 503s after every change.
func RescalePresets() map[string]Rescale {
	return map[string]Rescale{
		"kubernetes": {Mode: RescalePartition,
			Up:          Window{MinSeconds: 10, MaxSeconds: 12, KeyErrorFraction: 0.02, GateJamFraction: 0.15},
			Down:        Window{MinSeconds: 28, MaxSeconds: 32, KeyErrorFraction: 0.005, GateJamFraction: 0.9},
			StuckChance: 1.0 / 6},
		"kubernetes-prestop": {Mode: RescalePartition,
			Up:          Window{MinSeconds: 10, MaxSeconds: 12, KeyErrorFraction: 0.15},
			Down:        Window{MinSeconds: 9, MaxSeconds: 20, KeyErrorFraction: 0.25},
			StuckChance: 1.0 / 6},
		"head": {Mode: RescalePartition,
			Up:   Window{MinSeconds: 5, MaxSeconds: 10, KeyErrorFraction: 0.03},
			Down: Window{MinSeconds: 10, MaxSeconds: 30, DepartedShare: true}},
		"notready": {Mode: RescaleNotReady, NotReadySeconds: 10},
	}
}

// RescalePreset returns the preset named name.
func RescalePreset(name string) (Rescale, error) {
	r, ok := RescalePresets()[name]
	if !ok {
		hint := ""
		if name == "kubernetes-no-prestop" {
			hint = " (kubernetes-no-prestop is now the default, named kubernetes; the former kubernetes is kubernetes-prestop)"
		}
		return Rescale{}, fmt.Errorf("rescale preset %q: want kubernetes, kubernetes-prestop, head or notready%s", name, hint)
	}
	return r, nil
}

func (r Rescale) validate() error {
	var errs []error
	switch r.Mode {
	case RescalePartition, RescaleNotReady:
	default:
		errs = append(errs, fmt.Errorf("rescale.mode %q: want %s or %s", r.Mode, RescalePartition, RescaleNotReady))
	}
	for _, w := range []struct {
		name string
		w    Window
	}{{"up", r.Up}, {"down", r.Down}} {
		if !(w.w.MinSeconds >= 0) || !(w.w.MaxSeconds >= w.w.MinSeconds) || math.IsInf(w.w.MaxSeconds, 0) {
			errs = append(errs, fmt.Errorf("rescale.%s seconds [%g, %g]: want 0 <= min <= max, finite", w.name, w.w.MinSeconds, w.w.MaxSeconds))
		}
		if !(w.w.KeyErrorFraction >= 0 && w.w.KeyErrorFraction <= 1) {
			errs = append(errs, fmt.Errorf("rescale.%s.keyErrorFraction %g: must be in [0, 1]", w.name, w.w.KeyErrorFraction))
		}
		if !(w.w.GateJamFraction >= 0 && w.w.GateJamFraction <= 1) {
			errs = append(errs, fmt.Errorf("rescale.%s.gateJamFraction %g: must be in [0, 1]", w.name, w.w.GateJamFraction))
		}
	}
	if !(r.StuckChance >= 0 && r.StuckChance <= 1) {
		errs = append(errs, fmt.Errorf("rescale.stuckChance %g: must be in [0, 1]", r.StuckChance))
	}
	if !(r.NotReadySeconds >= 0) || math.IsInf(r.NotReadySeconds, 0) {
		errs = append(errs, fmt.Errorf("rescale.notReadySeconds %g: must be >= 0", r.NotReadySeconds))
	}
	return errors.Join(errs...)
}

// mismatch is the partition mismatch in force: until when, and each touched DN's 500 chance.
type mismatch struct {
	until, keyFraction float64
}

// podSetChanged applies the rescale cost of a change of the serving pod set at t: grew/shrank
// say which way (both when pods started and left in one tick). Any change releases a stuck pod
// (issue 423: a new pod IP list makes the nodes fetch the DN ids again); a start may make a new one.
func (s *Sim) podSetChanged(t float64, grew, shrank int) {
	r := s.sc.Rescale
	if r.Mode == RescaleNotReady {
		s.notReadyUntil = math.Max(s.notReadyUntil, t+r.NotReadySeconds)
		return
	}
	for _, p := range s.endpoints {
		p.stuckSince = -1
	}
	s.stuckPods = 0
	if grew > 0 {
		s.openMismatch(t, r.Up, 0)
		s.jamGates(t, r.Up)
	}
	if shrank > 0 {
		s.openMismatch(t, r.Down, float64(shrank)/float64(len(s.endpoints)+shrank))
		s.jamGates(t, r.Down)
	}
	for range grew {
		if s.rng.Float64() >= r.StuckChance {
			continue
		}
		var old []*pod
		for _, p := range s.endpoints {
			if p.startedAt < t {
				old = append(old, p)
			}
		}
		if len(old) > 0 {
			if p := old[s.rng.IntN(len(old))]; !p.stuck() {
				p.stuckSince = t
				s.stuckPods++
			}
		}
	}
	s.routeDirty = true
}

// jamGates holds the gate of each serving SN shut with chance w.GateJamFraction for a draw of
// the window: MaxTaskCount hung tasks join its in-flight count (so its gate rejects every request,
// its exported in-flight and /info task sample say why, and the agents count overload) and leave
// when the window ends (Tick releases them).
func (s *Sim) jamGates(t float64, w Window) {
	if w.GateJamFraction <= 0 {
		return
	}
	for _, p := range s.endpoints {
		if s.rng.Float64() >= w.GateJamFraction {
			continue
		}
		until := t + w.MinSeconds + (w.MaxSeconds-w.MinSeconds)*s.rng.Float64()
		if p.hung == 0 {
			p.hung = s.sc.MaxTaskCount
			p.inFlight += p.hung
		}
		p.hungUntil = math.Max(p.hungUntil, until)
	}
}

// openMismatch starts (or extends) a mismatch window w at t; departed is the share of the keys
// whose DNs left.
func (s *Sim) openMismatch(t float64, w Window, departed float64) {
	d := w.MinSeconds + (w.MaxSeconds-w.MinSeconds)*s.rng.Float64()
	f := w.KeyErrorFraction
	if w.DepartedShare {
		f = math.Max(f, departed)
	}
	if d <= 0 || f <= 0 {
		return
	}
	if t >= s.mismatch.until {
		s.mismatch = mismatch{}
	}
	s.mismatch = mismatch{until: math.Max(s.mismatch.until, t+d), keyFraction: math.Max(s.mismatch.keyFraction, f)}
}

// dnFailure is the chance that a request touching m data nodes meets a failing one at t: a 500
// from the partition mismatch, or a 503 passed on from a stuck DN (a stuck pod's DN 503s the
// keys it owns, 1/n of them).
func (s *Sim) dnFailure(t float64, m int) (p500, p503 float64) {
	if t < s.mismatch.until {
		p500 = 1 - math.Pow(1-s.mismatch.keyFraction, float64(m))
	}
	if n := len(s.endpoints); s.stuckPods > 0 && n > 0 {
		p503 = 1 - math.Pow(1-float64(s.stuckPods)/float64(n), float64(m))
	}
	return p500, p503
}
