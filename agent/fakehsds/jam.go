package fakehsds

import "time"

// The scale-down gate jam (Config.GateJamChance; docs/hsds.md, "Measured on the real HSDS 0.9.4",
// Kubernetes mode under a scaler's load, and "The simulator's kubernetes rescale preset (the
// default) comes from these runs"). On real 0.9.4 pods without a preStop sleep, the requests an SN
// routes to a departed DN (until its next pod listing) hang on the DN's vanished IP until HSDS's
// timeout; their tasks fill the SN's gate, which sheds every gated request with its overload 503
// for 28-32 s in 8 of 9 measured scale-downs. The fake models the hung requests as MaxTaskCount
// hung tasks added to the SN's live task count for the jam: the gate, /info's num_tasks sample,
// /metrics hsds_tasks_active and Truth all see them, as they see the real hung tasks. The hung
// requests themselves are not client requests of the fake (no responses, no req_count).

// jamOnScaleDownLocked is called by SetDNCount when the DN count falls. With chance
// GateJamChance (a draw from the pod's seeded generator, made only when the chance is above 0 so
// that a pod without the jam draws its service times as before) the SN's gate is jammed for a
// uniform draw in [GateJamMin, GateJamMax]. A jam already running is extended when the new one
// ends later (the simulator's jamGates does the same). Callers hold p.mu.
func (p *Pod) jamOnScaleDownLocked() {
	c := p.cfg
	if c.GateJamChance <= 0 || p.rng.Float64() >= c.GateJamChance {
		return
	}
	d := c.GateJamMin
	if span := c.GateJamMax - c.GateJamMin; span > 0 {
		d += time.Duration(p.rng.Int64N(int64(span) + 1))
	}
	if d <= 0 || c.MaxTaskCount <= 0 {
		return // nothing to hold shut
	}
	until := p.clock.Now().Add(d)
	if p.jamHung > 0 && !until.After(p.jamUntil) {
		return
	}
	if p.jamHung == 0 {
		p.jamHung = c.MaxTaskCount
		p.sn.tasks += p.jamHung
	}
	p.jamUntil = until
	p.jamGen++
	gen := p.jamGen
	p.clock.AfterFunc(d, func() { p.jamDone(gen) })
}

// jamDone ends the jam armed as gen (HSDS's timeout ends the hung requests); a stale timer (the
// jam was extended or cleared since) does nothing.
func (p *Pod) jamDone(gen int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen == p.jamGen {
		p.clearJamLocked()
	}
}

// clearJamLocked releases the hung tasks and makes any jam timer stale. Callers hold p.mu.
func (p *Pod) clearJamLocked() {
	p.sn.tasks -= p.jamHung
	p.jamHung = 0
	p.jamUntil = time.Time{}
	p.jamGen++
}
