package fakehsds

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	testclock "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// The facts behind these tests: docs/hsds.md, "Measured on the real HSDS 0.9.4", Kubernetes mode
// under a scaler's load ("scale-down: a gate jam of up to ~30 s, 503s, not 500s": requests the SNs
// route to the departed DN hang on its vanished IP until HSDS's timeout and their tasks hold the
// remaining SNs' gates shut, 28-32 s of ~100 % 503s, counted as overload), and "What the
// simulator's kubernetes rescale preset (the default) comes from these runs" (a jam in 8 of 9
// scale-downs: chance 0.9, 28-32 s, as bench/sim's default preset kubernetes).

const jamLimit = 10 // MaxTaskCount of the jam tests

// newJamPod is a pod whose gate jams on a scale-down with the given chance, for the measured
// 28-32 s; 3 DNs, limit 10, no settle (Kubernetes mode: the nodes stay READY) and service time 0,
// so that admitted requests end without stepping the fake clock.
func newJamPod(t *testing.T, chance float64, mutate func(*Config)) (*Pod, *testclock.FakeClock) {
	t.Helper()
	return newTestPod(t, func(c *Config) {
		c.MaxTaskCount = jamLimit
		c.DNCount = 3
		c.ServiceTime = Fixed(0)
		c.RescaleSettle = 0
		c.GateJamChance = chance
		c.GateJamMin, c.GateJamMax = MeasuredKube094GateJamMin, MeasuredKube094GateJamMax
		if mutate != nil {
			mutate(c)
		}
	})
}

// jamLeft is how long the SN's gate stays jammed from now (0: not jammed).
func jamLeft(p *Pod, clk *testclock.FakeClock) time.Duration {
	u := p.Truth().GateJamUntil
	if u.IsZero() {
		return 0
	}
	return u.Sub(clk.Now())
}

// Measured (docs/hsds.md, Kubernetes mode under a scaler's load): after a scale-down the SN sheds
// every gated request with the gate's own 503 (the agents count overload) for the jam, while
// /info and /about answer; then it serves again.
func TestGateJam_ScaleDownShedsEveryGatedRequestForTheWindow(t *testing.T) {
	p, clk := newJamPod(t, 1, nil)
	if got := do(p.SN(), "GET", "/datasets/d1/value?chunks=1").Code; got != http.StatusOK {
		t.Fatalf("before the scale-down: %d, want 200", got)
	}
	p.SetDNCount(2)
	left := jamLeft(p, clk)
	if left < MeasuredKube094GateJamMin || left > MeasuredKube094GateJamMax {
		t.Fatalf("jam of %v, want within [%v, %v]", left, MeasuredKube094GateJamMin, MeasuredKube094GateJamMax)
	}
	gated := []struct{ method, target string }{
		{"GET", "/?domain=/home/a.h5"}, {"GET", "/"}, {"GET", "/datasets/d1/value"},
		{"POST", "/datasets/d1/value"}, {"PUT", "/datasets/d1/value"}, {"POST", "/groups"}, {"DELETE", "/groups/g1"},
	}
	rejected := int64(0)
	end := clk.Now().Add(left)
	for {
		elapsed := left - end.Sub(clk.Now())
		for _, g := range gated {
			rec := do(p.SN(), g.method, g.target)
			if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "503: Service Unavailable" ||
				rec.Header().Get("Retry-After") != "" {
				t.Fatalf("%v into the jam, %s %s: %d %q, want the gate's 503", elapsed, g.method, g.target, rec.Code, rec.Body)
			}
			rejected++
		}
		for _, path := range []string{"/info", "/about"} {
			if got := do(p.SN(), "GET", path).Code; got != http.StatusOK {
				t.Fatalf("%v into the jam, GET %s: %d, want 200 (never gated)", elapsed, path, got)
			}
		}
		if got := do(p.DN(), "GET", "/groups/g1").Code; got != http.StatusOK {
			t.Fatalf("%v into the jam: the DN answered %d, want 200 (only the SN has a gate)", elapsed, got)
		}
		if !clk.Now().Add(time.Second).Before(end) {
			break
		}
		clk.Step(time.Second)
	}
	clk.SetTime(end.Add(-time.Nanosecond))
	if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusServiceUnavailable {
		t.Fatalf("1 ns before the jam ends: %d, want 503", got)
	}
	rejected++
	in := infoOf(t, p.SN())
	if in.Node.State != schema.StateReady || in.LogStats.Warn != rejected {
		t.Errorf("during the jam: SN %s WARN %d, want READY and one WARN per gate 503 (%d)", in.Node.State, in.LogStats.Warn, rejected)
	}
	clk.Step(time.Nanosecond)
	if left := jamLeft(p, clk); left != 0 {
		t.Fatalf("at the jam's end: still %v left", left)
	}
	for _, g := range gated {
		if got := do(p.SN(), g.method, g.target).Code; got >= 500 {
			t.Errorf("after the jam, %s %s: %d, want served", g.method, g.target, got)
		}
	}
	tr := p.Truth()
	if diff := cmp.Diff(map[string]int64{schema.CauseOverload: rejected}, tr.Rejected); diff != "" {
		t.Errorf("Truth.Rejected: every jam 503 is overload (-want +got):\n%s", diff)
	}
	if tr.TasksActive != 0 {
		t.Errorf("after the jam: %d tasks, want 0 (the hung tasks gone)", tr.TasksActive)
	}
}

// The same fact: the jam's hung tasks are tasks, so what the agents read shows them: /info's
// num_tasks (sampled at the gated requests the jam rejects), 1.x's hsds_tasks_active and Truth.
func TestGateJam_HungTasksShowInNumTasksAndInFlight(t *testing.T) {
	p, clk := newJamPod(t, 1, func(c *Config) { c.BackgroundTasks = Measured094Bg })
	p.SetDNCount(2)
	if got := p.Truth().TasksActive; got != jamLimit {
		t.Errorf("Truth.TasksActive = %d, want the %d hung tasks", got, jamLimit)
	}
	if got := tasksGauge(t, p); got != jamLimit {
		t.Errorf("hsds_tasks_active = %v, want %d", got, jamLimit)
	}
	if got := do(p.SN(), "GET", "/?domain=/home/a.h5").Code; got != http.StatusServiceUnavailable {
		t.Fatalf("domain GET in the jam: %d, want 503", got)
	}
	// The gate's sample: hung tasks + background tasks + the request's own task, above the limit.
	if got, want := infoOf(t, p.SN()).ReqCount.NumTasks, int64(jamLimit+Measured094Bg+1); got != want {
		t.Errorf("/info num_tasks = %d, want %d (limit %d)", got, want, jamLimit)
	}
	clk.Step(MeasuredKube094GateJamMax)
	if got := p.Truth().TasksActive; got != 0 {
		t.Errorf("after the jam: Truth.TasksActive = %d, want 0", got)
	}
	if got := tasksGauge(t, p); got != 0 {
		t.Errorf("after the jam: hsds_tasks_active = %v, want 0", got)
	}
}

func tasksGauge(t *testing.T, p *Pod) float64 {
	t.Helper()
	mfs, _ := scrape(t, p.SN())
	mf := mfs["hsds_tasks_active"]
	if mf == nil || len(mf.GetMetric()) != 1 {
		t.Fatalf("/metrics: no single hsds_tasks_active")
	}
	return mf.GetMetric()[0].GetGauge().GetValue()
}

// The jam is opt-in: chance 0 (and DefaultConfig, Measured094: older tests see what they saw)
// never jams, however many scale-downs.
func TestGateJam_ChanceZeroNeverJams(t *testing.T) {
	for _, cfg := range []struct {
		name string
		cfg  Config
	}{{"chance 0", Config{}}, {"DefaultConfig", DefaultConfig()}, {"Measured094", Measured094()}} {
		if cfg.name != "chance 0" && cfg.cfg.GateJamChance != 0 {
			t.Errorf("%s: GateJamChance %g, want 0 (off)", cfg.name, cfg.cfg.GateJamChance)
		}
	}
	p, _ := newJamPod(t, 0, func(c *Config) { c.DNCount = 50 })
	for n := 49; n >= 1; n-- {
		p.SetDNCount(n)
		if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusOK {
			t.Fatalf("scale-down to %d with chance 0: %d, want 200", n, got)
		}
	}
	if tr := p.Truth(); !tr.GateJamUntil.IsZero() || tr.TasksActive != 0 {
		t.Errorf("chance 0: Truth %+v, want no jam", tr)
	}
}

// The fake models only the scale-down jam: with chance 1 a scale-up (or the same count) never
// jams. (Real scale-ups sometimes jam a few SNs for ~10 s, 0-0.26 of attempts in four measured:
// docs/hsds.md; not faked, docs/fake-hsds.md "Not faked".)
func TestGateJam_ScaleUpNeverJams(t *testing.T) {
	p, _ := newJamPod(t, 1, func(c *Config) { c.DNCount = 1 })
	for _, n := range []int{2, 3, 3, 10} {
		p.SetDNCount(n)
		if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusOK {
			t.Fatalf("scale-up to %d: %d, want 200", n, got)
		}
	}
	if tr := p.Truth(); !tr.GateJamUntil.IsZero() || tr.TasksActive != 0 {
		t.Errorf("after scale-ups: Truth %+v, want no jam", tr)
	}
}

// Measured 28-32 s: each jam lasts a uniform draw in [GateJamMin, GateJamMax], seeded by
// Config.Seed (same seed, same draw), spread over the window.
func TestGateJam_DrawWithinTheWindow(t *testing.T) {
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for seed := uint64(1); seed <= 200; seed++ {
		p, clk := newJamPod(t, 1, func(c *Config) { c.Seed = seed })
		p.SetDNCount(2)
		d := jamLeft(p, clk)
		if d < MeasuredKube094GateJamMin || d > MeasuredKube094GateJamMax {
			t.Fatalf("seed %d: jam of %v, want within [%v, %v]", seed, d, MeasuredKube094GateJamMin, MeasuredKube094GateJamMax)
		}
		lo, hi = min(lo, d), max(hi, d)
		q, qclk := newJamPod(t, 1, func(c *Config) { c.Seed = seed })
		q.SetDNCount(2)
		if e := jamLeft(q, qclk); e != d {
			t.Fatalf("seed %d: jams of %v and %v, want the same draw", seed, d, e)
		}
	}
	if hi-lo < 3*time.Second {
		t.Errorf("200 seeds drew jams in [%v, %v], want spread over the 4 s window", lo, hi)
	}
	p, clk := newJamPod(t, 1, func(c *Config) { c.GateJamMin, c.GateJamMax = 5*time.Second, 5*time.Second })
	p.SetDNCount(2)
	if d := jamLeft(p, clk); d != 5*time.Second {
		t.Errorf("min = max = 5s: jam of %v", d)
	}
}

// "~1.0 in 8 of 9 measured scale-downs" (chance 0.9): over 1000 seeded pods about 900 jam.
func TestGateJam_ChanceOverSeededPods(t *testing.T) {
	const pods = 1000
	jammed := 0
	for seed := uint64(1); seed <= pods; seed++ {
		p, _ := newJamPod(t, MeasuredKube094GateJamChance, func(c *Config) { c.Seed = seed })
		p.SetDNCount(2)
		if !p.Truth().GateJamUntil.IsZero() {
			jammed++
		}
	}
	// Binomial(1000, 0.9): sd 9.5; 4 sd either side.
	if jammed < 862 || jammed > 938 {
		t.Errorf("%d of %d pods jammed at chance %g, want 862-938", jammed, pods, MeasuredKube094GateJamChance)
	}
}

// A further scale-down during a jam extends it (the hung tasks are not doubled); Restart clears
// it at once (the hung requests die with the process) and a stale timer changes nothing.
func TestGateJam_FurtherScaleDownExtendsRestartClears(t *testing.T) {
	p, clk := newJamPod(t, 1, func(c *Config) { c.GateJamMin, c.GateJamMax = 30*time.Second, 30*time.Second })
	p.SetDNCount(2)
	clk.Step(20 * time.Second)
	p.SetDNCount(1) // ends 50 s after the first
	if got := p.Truth().TasksActive; got != jamLimit {
		t.Errorf("two scale-downs: %d hung tasks, want %d", got, jamLimit)
	}
	clk.Step(15 * time.Second) // past the first jam's end
	if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusServiceUnavailable {
		t.Fatalf("35 s after the first scale-down, 15 s after the second: %d, want 503 (extended)", got)
	}
	if left := jamLeft(p, clk); left != 15*time.Second {
		t.Errorf("jam left %v, want 15s", left)
	}
	clk.Step(15 * time.Second)
	if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusOK {
		t.Fatalf("30 s after the second scale-down: %d, want 200", got)
	}
	if got := p.Truth().TasksActive; got != 0 {
		t.Fatalf("after the jam: %d tasks, want 0", got)
	}

	p.SetDNCount(3)
	p.SetDNCount(2)
	if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusServiceUnavailable {
		t.Fatalf("jammed again: %d, want 503", got)
	}
	p.Restart()
	if got := do(p.SN(), "GET", "/groups/g1").Code; got != http.StatusOK {
		t.Fatalf("after Restart: %d, want 200", got)
	}
	clk.Step(time.Minute) // the cleared jam's timer fires and must not release tasks again
	if tr := p.Truth(); tr.TasksActive != 0 || !tr.GateJamUntil.IsZero() {
		t.Errorf("after Restart and the stale timer: Truth %+v, want 0 tasks and no jam", tr)
	}
}

// MeasuredKube094 is Measured094 in Kubernetes mode with the jam on (and no settle: the nodes
// stay READY, so the jam's 503s are overload from its first second, as measured).
func TestMeasuredKube094(t *testing.T) {
	want := Measured094()
	want.Roster = RosterKubernetes
	want.RescaleSettle = 0
	want.GateJamChance, want.GateJamMin, want.GateJamMax = 0.9, 28*time.Second, 32*time.Second
	got := MeasuredKube094()
	opt := cmp.Comparer(func(a, b Distribution) bool { return cmp.Equal(a, b, cmp.AllowUnexported(a, b)) })
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("MeasuredKube094 (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("MeasuredKube094 invalid: %v", err)
	}
	clk := testclock.NewFakeClock(epoch)
	got.Clock, got.LoopCost, got.ServiceTime, got.MaxTaskCount, got.DNCount = clk, 0, Fixed(0), jamLimit, 3
	var p *Pod
	for seed := uint64(1); p == nil || p.Truth().GateJamUntil.IsZero(); seed++ { // the first seed whose draw jams
		if seed > 20 {
			t.Fatal("MeasuredKube094: 20 seeded scale-downs, no jam (chance 0.9)")
		}
		got.Seed = seed
		var err error
		if p, err = New(got); err != nil {
			t.Fatal(err)
		}
		p.SetDNCount(2)
	}
	if got := do(p.SN(), "GET", "/?domain=/home/a.h5").Code; got != http.StatusServiceUnavailable {
		t.Fatalf("MeasuredKube094 right after a scale-down: %d, want 503", got)
	}
	if diff := cmp.Diff(map[string]int64{schema.CauseOverload: 1}, p.Truth().Rejected); diff != "" {
		t.Errorf("Truth.Rejected: overload, not not_ready (-want +got):\n%s", diff)
	}
}

func TestConfig_ValidateGateJam(t *testing.T) {
	for _, tc := range []struct {
		name     string
		chance   float64
		min, max time.Duration
		want     string // "" valid
	}{
		{"off", 0, 0, 0, ""},
		{"measured", 0.9, 28 * time.Second, 32 * time.Second, ""},
		{"fixed window", 1, 30 * time.Second, 30 * time.Second, ""},
		{"chance below 0", -0.1, 0, 0, "gate jam chance -0.1: must be in [0, 1]"},
		{"chance above 1", 1.5, 0, 0, "gate jam chance 1.5: must be in [0, 1]"},
		{"chance NaN", math.NaN(), 0, 0, "gate jam chance NaN"},
		{"negative min", 1, -time.Second, time.Second, "gate jam window [-1s, 1s]: want 0 <= min <= max"},
		{"max below min", 1, 32 * time.Second, 28 * time.Second, "gate jam window [32s, 28s]: want 0 <= min <= max"},
	} {
		cfg := DefaultConfig()
		cfg.GateJamChance, cfg.GateJamMin, cfg.GateJamMax = tc.chance, tc.min, tc.max
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if _, err := New(cfg); (err == nil) != (tc.want == "") {
			t.Errorf("%s: New error %v", tc.name, err)
		}
	}
}
