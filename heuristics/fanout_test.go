package heuristics

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestThroughputBySizeCeiling(t *testing.T) {
	const mem = 30 * time.Minute
	// feed records size n at rate from t0 to t1 every second.
	feed := func(tb *throughputBySize, n int, rate, t0, t1 float64) {
		for s := t0; s <= t1; s++ {
			tb.record(at(s), n, rate)
		}
	}
	tests := []struct {
		name   string
		fill   func(tb *throughputBySize)
		now    float64
		want   fanoutCeiling
		wantOK bool
	}{
		{"one size: nothing to compare", func(tb *throughputBySize) { feed(tb, 2, 34, 0, 60) }, 61, fanoutCeiling{}, false},
		// The bench's 128-chunk Azure replay: 2 pods 34.0 req/s shedding, 4 pods 35.5 (+4 %, of a
		// proportional +100 %).
		{"twice the pods, the same throughput", func(tb *throughputBySize) {
			feed(tb, 2, 34, 0, 60)
			feed(tb, 4, 35.5, 300, 360)
		}, 361, fanoutCeiling{Size: 2, Over: 4, SizeRate: 34, OverRate: 35.5}, true},
		{"fewer served at the larger size", func(tb *throughputBySize) {
			feed(tb, 2, 37.5, 0, 60)
			feed(tb, 6, 26.8, 300, 360)
		}, 361, fanoutCeiling{Size: 2, Over: 6, SizeRate: 37.5, OverRate: 26.8}, true},
		// 5 pods at 53.9 over 3 at 47.8 is +13 % of a proportional +67 %: a share of 0.19, above
		// fanoutMinGain (the bench's 32-chunk diurnal seed 9, where shedding on a few hot pods
		// understates the larger size's throughput).
		{"a partial gain counts", func(tb *throughputBySize) {
			feed(tb, 3, 47.8, 0, 60)
			feed(tb, 5, 53.9, 300, 360)
		}, 361, fanoutCeiling{}, false},
		{"proportional gain", func(tb *throughputBySize) {
			feed(tb, 2, 30, 0, 60)
			feed(tb, 4, 60, 300, 360)
		}, 361, fanoutCeiling{}, false},
		{"too few samples at the larger size", func(tb *throughputBySize) {
			feed(tb, 2, 34, 0, 60)
			tb.record(at(300), 4, 20)
		}, 400, fanoutCeiling{}, false},
		{"samples within less than fanoutMinSpan", func(tb *throughputBySize) {
			feed(tb, 2, 34, 0, 60)
			for i := range 2 * fanoutMinSamples {
				tb.record(at(300+float64(i)*0.1), 4, 20)
			}
		}, 400, fanoutCeiling{}, false},
		{"forgotten after memory", func(tb *throughputBySize) {
			feed(tb, 2, 34, 0, 60)
			feed(tb, 4, 35.5, 300, 360)
		}, 361 + mem.Seconds(), fanoutCeiling{}, false},
		// The smallest size a larger one does not beat: 2 -> 4 doubled, 4 -> 8 bought nothing.
		{"the ceiling is the smallest size not beaten", func(tb *throughputBySize) {
			feed(tb, 2, 20, 0, 60)
			feed(tb, 4, 40, 100, 160)
			feed(tb, 8, 41, 200, 260)
		}, 261, fanoutCeiling{Size: 4, Over: 8, SizeRate: 40, OverRate: 41}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newThroughputBySize(10*time.Minute, mem)
			tc.fill(tb)
			c, ok := tb.ceiling(at(tc.now))
			if ok != tc.wantOK || c != tc.want {
				t.Errorf("ceiling = %+v, %v; want %+v, %v", c, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestHSDSFanoutCeiling drives the policy through the bench's 128-chunk case: overloaded at 2
// pods, scaled to 4, overloaded again serving no more. It must go back to 2, and then not scale
// up again while the figures are remembered, however hard the 2 pods shed.
// ceilingRun drives one policy through a climb a fan-out bound cluster makes: 2 pods shed at 17
// req/s each, scale up, 4 pods then serve what 2 did.
type ceilingRun struct {
	h   *HSDS
	env envelope
}

// feed runs snap every second of [from, to] until the policy changes the replicas outside the
// settle time (the scaler's guard), and returns the last answer.
func (r *ceilingRun) feed(from, to float64, snap func(time.Time) Snapshot) got {
	var g got
	for s := from; s <= to; s++ {
		d := r.h.Recommend(r.env.fill(snap(at(s))))
		g = got{d.Valid, d.Replicas, d.Reason}
		if d.Replicas != d.Current && !r.env.fill(snap(at(s))).Settling {
			r.env.applied(d.Replicas, at(s))
			return g
		}
	}
	return g
}

// shedding pods at utilization 0.7 (in the band: the saturation rule acts, after
// overloadSustain) or, full, at 1 (the utilization rule acts at once, as soon as dwellUp and the
// settle time allow).
func shedding(n int, perPod float64) func(time.Time) Snapshot { return shedLoad(n, perPod, 70) }
func full(n int, perPod float64) func(time.Time) Snapshot     { return shedLoad(n, perPod, 100) }

// learnCeiling runs the climb to its end: the ceiling learned and the cluster back at 2; it
// returns the time reached.
func (r *ceilingRun) learnCeiling(t *testing.T) float64 {
	t.Helper()
	// 2 pods shedding at 17 req/s each: the saturation rule scales up.
	if g := r.feed(0, 120, shedding(2, 17)); g.Replicas <= 2 {
		t.Fatalf("2 pods shedding: %+v, want a scale-up", g)
	}
	// Force the 4-pod step the bench took (the test's own scale-up may size differently).
	r.env.applied(4, at(130))
	// 4 pods full and shedding at 8.9 req/s each (35.6 in all): no step up before 4 pods are
	// measured (the utilization rule would fire the instant the settle time ends), then back to
	// 2 once dwellDown has passed.
	end := 131 + r.h.p.DwellDown.Seconds() + 30
	if g := r.feed(131, end, full(4, 8.9)); g.Replicas != 2 || g.Reason != CodeFanout {
		t.Fatalf("4 pods serving what 2 did: %+v, want 2 for %s", g, CodeFanout)
	}
	return end
}

func ceilingPolicy() Policy {
	p := testPolicy()
	p.PodCapacity = 0
	return p
}

func TestHSDSFanoutCeiling(t *testing.T) {
	r := &ceilingRun{h: mustHSDS(ceilingPolicy())}
	now := r.learnCeiling(t)
	// At 2 pods, shedding hard: held at the ceiling, reason fanout-ceiling, for every rule.
	g := r.feed(now+1, now+600, shedding(2, 17))
	if g.Replicas != 2 || g.Reason != CodeFanout {
		t.Fatalf("2 pods shedding under a ceiling: %+v, want held at 2 for %s", g, CodeFanout)
	}
	d := r.h.Recommend(r.env.fill(shedding(2, 17)(at(now + 601))))
	if !strings.Contains(d.Message, "fan-out ceiling 2: 4 pods served 35.6 req/s shedding, 2 pods 34.0 req/s") {
		t.Errorf("message %q does not carry the ceiling's figures", d.Message)
	}
}

// TestHSDSFanoutCeilingRestored: the ceiling outlives a restart through Learned (JSON, as the
// status and the ConfigMap keep it): a restored policy holds 2 shedding pods at once, where a
// fresh one scales up; it is forgotten fanoutMemory after its figures were taken, and a policy
// with the ceiling off restores none.
func TestHSDSFanoutCeilingRestored(t *testing.T) {
	r := &ceilingRun{h: mustHSDS(ceilingPolicy())}
	now := r.learnCeiling(t)
	l, ok := r.h.Learned()
	if !ok || len(l.Throughput) != 2 || l.Throughput[0].Pods != 2 || l.Throughput[1].Pods != 4 {
		t.Fatalf("Learned = %+v, %v: want the figures of 2 and 4 pods", l, ok)
	}
	raw, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var saved Learned
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	restart := func(p Policy, at0 float64) got {
		t.Helper()
		r2 := &ceilingRun{h: mustHSDS(p)}
		if err := r2.h.Restore(saved); err != nil {
			t.Fatal(err)
		}
		r2.env.applied(2, at(at0-600)) // the last change long ago: no dwell, no settling
		return r2.feed(at0, at0+120, shedding(2, 17))
	}
	if g := restart(ceilingPolicy(), now+60); g.Replicas != 2 || g.Reason != CodeFanout {
		t.Errorf("restored: %+v, want held at 2 for %s", g, CodeFanout)
	}
	fresh := &ceilingRun{h: mustHSDS(ceilingPolicy())}
	fresh.env.applied(2, at(now-540))
	if g := fresh.feed(now+60, now+180, shedding(2, 17)); g.Replicas <= 2 {
		t.Errorf("not restored: %+v, want the scale-up the restored policy does not make", g)
	}
	if g := restart(ceilingPolicy(), now+60+ceilingPolicy().FanoutMemory.Seconds()); g.Replicas <= 2 {
		t.Errorf("restored after fanoutMemory: %+v, want the ceiling forgotten (a scale-up)", g)
	}
	off := ceilingPolicy()
	off.FanoutMemory = D(0)
	if g := restart(off, now+60); g.Replicas <= 2 || g.Reason == CodeFanout {
		t.Errorf("restored with fanoutMemory 0: %+v, want no ceiling", g)
	}
}

// shedLoad is n pods each serving perPod req/s with as many overload 503s again (q = 0.5) and
// inFlight of 100 tasks.
func shedLoad(n int, perPod, inFlight float64) func(time.Time) Snapshot {
	return func(now time.Time) Snapshot {
		return uniform(n, podLoad{inFlight: inFlight, limit: 100, rate: 2 * perPod, rej: ByCause{Overload: perPod}}, now)
	}
}

// fanoutMemory 0 turns the ceiling off: the same climb as TestHSDSFanoutCeiling finds no ceiling
// and holds no step up to measure.
func TestHSDSFanoutCeilingOff(t *testing.T) {
	p := testPolicy()
	p.PodCapacity = 0
	p.FanoutMemory = D(0)
	h := mustHSDS(p)
	var env envelope
	for s := 0.0; s <= 20; s++ {
		h.Recommend(env.fill(shedLoad(2, 17, 100)(at(s))))
	}
	env.applied(4, at(30))
	for s := 31.0; s <= 31+p.DwellDown.Seconds()+30; s++ {
		d := h.Recommend(env.fill(shedLoad(4, 8.9, 100)(at(s))))
		if d.Reason == CodeFanout || strings.Contains(d.Message, "measuring the throughput") {
			t.Fatalf("t=%g: %s: %s, want no fan-out ceiling with fanoutMemory 0", s, d.Reason, d.Message)
		}
	}
	if len(h.fanout.sizes) != 0 {
		t.Errorf("recorded %d sizes with fanoutMemory 0", len(h.fanout.sizes))
	}
}
