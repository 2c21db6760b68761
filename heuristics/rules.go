package heuristics

import (
	"fmt"
	"time"
)

// decide applies the rules in order: fan-out ceiling, panic, saturation, utilization up,
// withdrawal of unscheduled pods, scale-down, hold. Every path returns a Valid decision with a
// Reason code and the figures in Message. Bounds, stale data, settling and the hold on scale-ups
// while pods are unscheduled are the scaler's guards, applied after this (docs/operations.md).
func (h *HSDS) decide(e evaluation, now time.Time) Decision {
	p := h.p
	cur := e.sig.Current
	if d, ok := h.fanoutRule(e, now); ok {
		return d
	}
	if d, ok := h.panicRule(e); ok {
		return d
	}
	if e.overloadedFor >= p.OverloadSustain.Duration {
		return h.saturationRule(e, now)
	}
	if e.propOK && e.utilUp > p.ScaleUpUtilization {
		if above := now.Sub(h.upSince); above < p.UtilizationSustain.Duration {
			return h.decision(e, cur, CodeInBand, fmt.Sprintf("utilization %.2f > %.2f for %s < utilizationSustain %s",
				e.utilUp, p.ScaleUpUtilization, above, p.UtilizationSustain.Duration))
		}
		to := min(e.propUp, e.upLimit, e.max)
		return h.up(e, now, to, CodeUtilization, fmt.Sprintf("utilization %.2f > %.2f", e.utilUp, p.ScaleUpUtilization))
	}
	if d, ok := h.withdrawRule(e); ok {
		return d
	}
	if !e.sig.UtilizationOK {
		why := "no Ready, READY pod to measure utilization on"
		if e.sig.Capacity > 0 {
			why = fmt.Sprintf("none of the %d capacity pods has an in-flight figure (0.9.x: no gated request within the agent's --in-flight-max-age)",
				e.sig.Capacity)
		}
		return h.decision(e, cur, CodeNoCapacity, why)
	}
	if e.util < p.ScaleDownUtilization {
		return h.downRule(e, now)
	}
	if e.util > p.ScaleUpUtilization {
		return h.decision(e, cur, CodeInBand, fmt.Sprintf("utilization %.2f > %.2f on the %d of %d capacity pods with an in-flight figure, %.2f counting the others as idle",
			e.util, p.ScaleUpUtilization, e.sig.Figured, e.sig.Capacity, e.utilUp))
	}
	return h.decision(e, cur, CodeInBand, fmt.Sprintf("utilization %.2f in [%.2f, %.2f]",
		e.util, p.ScaleDownUtilization, p.ScaleUpUtilization))
}

// panicRule: the offered load jumped past PanicFactor x its stable figure while the cluster is
// under pressure: go straight to the estimated need (no step limit, no DwellUp; the scaler's
// settle guard still holds it, so the figures after a change are the cluster's own).
func (h *HSDS) panicRule(e evaluation) (Decision, bool) {
	p := h.p
	pressure := e.sig.Overloaded || (e.sig.UtilizationOK && e.utilUp > p.ScaleUpUtilization)
	if !e.hadStable || !pressure || e.stable <= 0 || e.sig.Offered < p.PanicFactor*e.stable {
		return Decision{}, false
	}
	if e.rescaleRates {
		return Decision{}, false
	}
	to := e.upLimit
	if e.needOK {
		to = e.need
	}
	to = min(to, e.max)
	if to <= e.sig.Current {
		return Decision{}, false
	}
	return h.decision(e, to, CodePanic, fmt.Sprintf("offered %.1f req/s >= %.1f x stable %.1f under pressure",
		e.sig.Offered, p.PanicFactor, e.stable)), true
}

// withdrawRule: pods a scale-up ordered still wait for a node (the cluster autoscaler's VM) and
// the offered load no longer needs them: give them back. A ReplicaSet removes unscheduled pods
// first, and they never joined the HSDS roster, so this changes nothing the clients see: no
// partition mismatch, no gate jam, no start that may leave a node stuck WAITING later.
func (h *HSDS) withdrawRule(e evaluation) (Decision, bool) {
	s := e.sig
	if s.Unscheduled == 0 || !e.needOK || s.Overloaded || (e.propOK && e.utilUp > h.p.ScaleUpUtilization) {
		return Decision{}, false
	}
	// Never below what the in-flight figures ask for either (the proportional size on the
	// utilization floor): a pod the utilization rule just added and the offered load's need
	// does not cover would otherwise come and go with each reading.
	to := max(e.need, s.Current-int32(s.Unscheduled), e.min)
	if e.propOK {
		to = max(to, e.propUp)
	}
	if to >= s.Current {
		return Decision{}, false
	}
	waiting := fmt.Sprintf("%d pods wait", s.Unscheduled)
	if s.Unscheduled == 1 {
		waiting = "1 pod waits"
	}
	return h.decision(e, to, CodeWithdraw, fmt.Sprintf("%s for a node and the offered load needs %d", waiting, e.need)), true
}

// fanoutRule: the cluster runs above a learned fan-out ceiling (a smaller size served about as
// much under shedding): back to the ceiling once DwellDown has passed and the rates are not a
// rescale's. The pods above it cost a pod each and buy nothing (fanout.go).
func (h *HSDS) fanoutRule(e evaluation, now time.Time) (Decision, bool) {
	cur := e.sig.Current
	if !e.ceilingOK || cur <= e.max || e.rescaleRates {
		return Decision{}, false
	}
	why := fmt.Sprintf("fan-out ceiling %d: %s", e.max, e.ceiling)
	if since := now.Sub(e.lastChange); !e.lastChange.IsZero() && since < h.p.DwellDown.Duration {
		return h.decision(e, cur, CodeHoldDwell, fmt.Sprintf("%s; last change %s ago < dwellDown %s", why, since, h.p.DwellDown.Duration)), true
	}
	return h.decision(e, e.max, CodeFanout, why), true
}

// saturationRule: overload 503s covered at least OverloadSustain of the short window. The target
// comes from the offered load (peak + trend over the pod start-up time) and the capacity model,
// at least one more pod (unless pods are Pending: they are that pod), at most the step limit.
func (h *HSDS) saturationRule(e evaluation, now time.Time) Decision {
	p := h.p
	cur := e.sig.Current
	why := fmt.Sprintf("overload 503s for %s of %s", e.overloadedFor, p.ShortWindow.Duration)
	to := satAdd(cur, 1)
	if e.sig.Pending > 0 {
		to = cur // the pods still Pending are the extra pod; only the offered load's need adds more
		why = fmt.Sprintf("%s, %d pods Pending", why, e.sig.Pending)
	}
	switch {
	case e.needOK && !e.rescaleRates:
		to = max(to, e.need)
	case e.needOK && e.need > to:
		why = fmt.Sprintf("%s; need %d not read: the attempts may be a rescale's returning retries (%s)",
			why, e.need, e.rescaleWhy)
	}
	to = min(to, e.upLimit, e.max)
	return h.up(e, now, to, CodeOverload, why)
}

// up applies the at-max and DwellUp guards to a scale-up target.
func (h *HSDS) up(e evaluation, now time.Time, to int32, reason, why string) Decision {
	cur := e.sig.Current
	if to <= cur {
		if cur >= e.max && e.ceilingOK {
			return h.decision(e, cur, CodeFanout, fmt.Sprintf("%s; fan-out ceiling %d: %s", why, e.max, e.ceiling))
		}
		if cur >= e.max {
			return h.decision(e, cur, CodeAtMax, why)
		}
		return h.decision(e, cur, CodeInBand, why)
	}
	if since := now.Sub(e.lastChange); !e.lastChange.IsZero() && since < h.p.DwellUp.Duration {
		return h.decision(e, cur, CodeHoldDwell, fmt.Sprintf("%s; want %d, last change %s ago < dwellUp %s",
			why, to, since, h.p.DwellUp.Duration))
	}
	if e.measuring {
		return h.decision(e, cur, CodeHoldDwell, fmt.Sprintf("%s; want %d, measuring the throughput of %d pods first (fan-out)",
			why, to, cur))
	}
	return h.decision(e, to, reason, why)
}

// downRule: below the band. Scale down only with every scraped pod Ready and READY, no overload
// over the stabilization window (and that much history), DwellDown since the last change; to the
// highest recommendation of the window, at most the step limit, never below the offered load's
// need. Stale data and settling hold it in the scaler's guards, not here.
func (h *HSDS) downRule(e evaluation, now time.Time) Decision {
	p := h.p
	cur := e.sig.Current
	win := p.StabilizationWindow.Duration
	why := fmt.Sprintf("utilization %.2f < %.2f", e.util, p.ScaleDownUtilization)
	switch {
	case e.sig.Capacity < e.sig.Known:
		return h.decision(e, cur, CodeHoldNotReady, fmt.Sprintf("%s, but only %d of %d scraped pods are Ready and READY",
			why, e.sig.Capacity, e.sig.Known))
	case now.Sub(h.started) < win || (!h.lastOverload.IsZero() && now.Sub(h.lastOverload) < win):
		return h.decision(e, cur, CodeHoldStable, fmt.Sprintf("%s, but history or time since overload < %s", why, win))
	}
	if since := now.Sub(e.lastChange); !e.lastChange.IsZero() && since < p.DwellDown.Duration {
		return h.decision(e, cur, CodeHoldDwell, fmt.Sprintf("%s; last change %s ago < dwellDown %s", why, since, p.DwellDown.Duration))
	}
	to := e.rec
	held := "" // when the window's highest recommendation, not this snapshot's, holds: since when
	if m, at, ok := h.downRecs.ValueAt(now); ok && int32(m) > to {
		to = int32(m)
		if to >= cur {
			held = fmt.Sprintf(" (recorded %s ago, in the window until %s from now unless recorded again)",
				now.Sub(at).Round(time.Second), at.Add(win).Sub(now).Round(time.Second))
		}
	}
	to = max(to, cur-e.downStep, e.min)
	if to >= cur {
		return h.decision(e, cur, CodeHoldStable, fmt.Sprintf("%s, but the window's highest recommendation is %d%s", why, to, held))
	}
	return h.decision(e, to, CodeScaleDown, why)
}

func (h *HSDS) decision(e evaluation, to int32, reason, why string) Decision {
	s := e.sig
	msg := fmt.Sprintf("%s; offered %.2f req/s (peak %.2f, forecast %.2f, stable %.2f), attempts %.2f/s, "+
		"503 overload %.2f/s not_ready %.2f/s upstream %.2f/s, utilization %.2f on %d capacity pods (%d with an in-flight figure), "+
		"pod capacity c1 %.2f req/s, need %d, proportional %d",
		why, s.Offered, e.peak, e.forecast, e.stable, s.Attempts, s.Overload503, s.NotReady503, s.Upstream503,
		e.util, s.Capacity, s.Figured, e.c1, e.need, e.prop)
	return Decision{Valid: true, Current: s.Current, Replicas: to, Reason: reason, Message: msg}
}
