package fakehsds

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds"
)

// calTarget is one side of the calibration: the real SN/DN pair or the fake pod, driven by the same
// client loads (realhsds.Run).
type calTarget struct {
	name   string
	sn     string
	stopDN func()
}

// calFigures is what one side gave for every scenario.
type calFigures struct {
	burst, steady, notFound, dnLoss realhsds.Outcome
	// num_tasks of /info: the highest and the median sample polled during the burst, the value
	// right after it and 1 s later (frozen: no gated request in between); the median during the
	// steady load (not the highest: the first samples still show the burst's frozen value).
	burstTasksMax, burstTasksMed, afterBurst, afterBurstLater, steadyTasksMed int
	warnPer404, warnPer500                                                    float64
	stateAfterDNLoss                                                          string
}

const (
	calLimit    = 10 // max_task_count of both sides
	calBurstN   = 300
	calBurstC   = 60
	calRate     = 10.0
	calSteady   = 10 * time.Second
	calNotFound = 40
	calDNLoss   = 40
)

// runCalibration runs the four loads against one side, in the same order and with the same
// clients, and reads /info around them.
func runCalibration(t *testing.T, ctx context.Context, tg calTarget) calFigures {
	t.Helper()
	var f calFigures
	if err := realhsds.CreateDomain(ctx, tg.sn); err != nil {
		t.Fatalf("%s: create domain: %v", tg.name, err)
	}
	domainURL := tg.sn + "/?domain=" + realhsds.Domain

	// 1. A burst against the gate: 300 GETs, 60 concurrent clients, a new connection each.
	samples := pollTasks(ctx, t, tg.sn, func() {
		f.burst = realhsds.Run(ctx, realhsds.Load{URL: domainURL, Clients: calBurstC, Requests: calBurstN})
	})
	f.burstTasksMax, f.burstTasksMed = slices.Max(append(samples, 0)), medianInt(samples)
	f.afterBurst = readInfo(ctx, t, tg.sn).numTasks
	time.Sleep(time.Second)
	f.afterBurstLater = readInfo(ctx, t, tg.sn).numTasks

	// 2. A steady load well under the limit: 10 req/s for 10 s.
	time.Sleep(time.Second) // let the burst's connections close
	samples = pollTasks(ctx, t, tg.sn, func() {
		f.steady = realhsds.Run(ctx, realhsds.Load{URL: domainURL, Clients: 4, Rate: calRate, Duration: calSteady})
	})
	f.steadyTasksMed = medianInt(samples)

	// 3. 404s: a domain that does not exist.
	before := readInfo(ctx, t, tg.sn)
	f.notFound = realhsds.Run(ctx, realhsds.Load{URL: tg.sn + "/?domain=/does/not/exist", Clients: 2, Requests: calNotFound})
	f.warnPer404 = float64(readInfo(ctx, t, tg.sn).warn-before.warn) / calNotFound

	// 4. DN loss: the DN stops; the SN answers for its keys (all of them, with one DN).
	tg.stopDN()
	before = readInfo(ctx, t, tg.sn)
	f.dnLoss = realhsds.Run(ctx, realhsds.Load{URL: domainURL, Clients: 2, Requests: calDNLoss})
	after := readInfo(ctx, t, tg.sn)
	f.warnPer500 = float64(after.warn-before.warn) / calDNLoss
	f.stateAfterDNLoss = after.state
	return f
}

type infoFigures struct {
	numTasks int
	warn     int
	state    string
}

func readInfo(ctx context.Context, t *testing.T, base string) infoFigures {
	t.Helper()
	in, err := realhsds.ReadInfo(ctx, base)
	if err != nil {
		t.Fatalf("read %s/info: %v", base, err)
	}
	return infoFigures{numTasks: int(in.ReqCount["num_tasks"]), warn: int(in.LogStats["WARN"]), state: in.Node.State}
}

// pollTasks runs load while reading /info num_tasks every 20 ms, and returns the samples.
func pollTasks(ctx context.Context, t *testing.T, base string, load func()) []int {
	t.Helper()
	var (
		mu      sync.Mutex
		samples []int
		wg      sync.WaitGroup
	)
	done := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if in, err := realhsds.ReadInfo(ctx, base); err == nil {
				mu.Lock()
				samples = append(samples, int(in.ReqCount["num_tasks"]))
				mu.Unlock()
			}
		}
	})
	load()
	close(done)
	wg.Wait()
	return samples
}

func medianInt(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func frac(o realhsds.Outcome, code int) float64 {
	if o.Total() == 0 {
		return 0
	}
	return float64(o.Codes[code]) / float64(o.Total())
}

func (f calFigures) String() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("burst %v 503=%.3f p50(200)=%s p50(503)=%s num_tasks during max=%d median=%d after=%d after+1s=%d | "+
		"steady %v p50(200)=%s num_tasks median=%d | 404s %v WARN/404=%.2f | DN lost %v p50(500)=%s WARN/500=%.2f state=%s",
		f.burst.Codes, frac(f.burst, 503), ms(f.burst.Median[200]), ms(f.burst.Median[503]),
		f.burstTasksMax, f.burstTasksMed, f.afterBurst, f.afterBurstLater,
		f.steady.Codes, ms(f.steady.Median[200]), f.steadyTasksMed,
		f.notFound.Codes, f.warnPer404, f.dnLoss.Codes, ms(f.dnLoss.Median[500]), f.warnPer500, f.stateAfterDNLoss)
}

// TestCalibration_FakeVsReal runs the same loads against one real HSDS 0.9.4 SN/DN pair (head-node
// mode, max_task_count 10) and against the fake configured the same way (Measured094, limit 10),
// one after the other so they do not share the CPU, and compares what the clients saw and what
// /info said. docs/fake-hsds.md "Calibration against real HSDS 0.9.4" quotes the logged figures.
//
// Tolerances, from seven runs of the real side on this loaded 2-core machine (2026-12; figures in
// docs/fake-hsds.md):
//   - burst 503 fraction: |fake - real| <= 0.06. The real one gave 0.993-1.000 with these Go
//     clients (the real-hsds README saw ~0.95 with another client); the fake gives ~0.98. 0.06
//     covers the README's figure too: which few requests get through depends on when the
//     loop drains connections, i.e. on the other tenants of the CPU.
//   - burst 503 p50: within a factor 3 of the real one. The real one ranged 21-40 ms (a factor
//     2 between runs); the fake's comes from its event-loop model (LoopCost per pass), a model of
//     the cost, not of this machine's momentary load.
//   - num_tasks during the burst (the largest /info sample): within a factor 2. The real one's
//     median ranged 64-104 and its largest sample stayed near 100; the fake counts every
//     connection Go has accepted (up to ~120: 60 connections + 60 request tasks + 2), aiohttp
//     accepts them in its loop, more slowly. The median is logged, not compared: under a busy
//     CPU the fake's fell to 38 in one run (the samples land between the clients' waves), while
//     the largest sample, the gate's peak, stayed 108.
//   - num_tasks after the burst: frozen on both (same value 1 s later). Its value is not
//     compared: the real one gave 4, 7, 11, 13, 38, 43 (whatever the last request saw).
//   - num_tasks during the steady load (median): within 2 (real 4 in every run: 2 background
//     tasks + the connection + the request).
//   - status mix of steady, 404 and DN-loss loads: identical (all 200 / all 404 / all 500), WARN
//     per 404 and per 500 within 0.1 (real: 2.00 and 1.00 in every run), SN READY after the DN
//     loss (the roster has not dropped the DN yet: 10 s at the earliest in head mode).
func TestCalibration_FakeVsReal(t *testing.T) {
	start := time.Now()
	c := realhsds.Start(t, realhsds.Options{Pods: 1, MaxTaskCount: calLimit})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	real := runCalibration(t, ctx, calTarget{name: "real", sn: c.Pods[0].SN.URL(), stopDN: c.Pods[0].DN.Stop})
	t.Logf("real HSDS 0.9.4: %v (%.0fs)", real, time.Since(start).Seconds())
	c.Stop()

	start = time.Now()
	cfg := Measured094()
	cfg.MaxTaskCount = calLimit
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sn, _ := serveForTest(t, p)
	fake := runCalibration(t, ctx, calTarget{name: "fake", sn: sn, stopDN: p.StopDN})
	t.Logf("fake (Measured094):  %v (%.0fs)", fake, time.Since(start).Seconds())

	check := func(what string, ok bool, realV, fakeV any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: real %v, fake %v: outside the tolerance", what, realV, fakeV)
		}
	}
	rf, ff := frac(real.burst, 503), frac(fake.burst, 503)
	check("burst 503 fraction", math.Abs(rf-ff) <= 0.06, rf, ff)
	r503, f503 := real.burst.Median[503], fake.burst.Median[503]
	check("burst 503 p50", f503 >= r503/3 && f503 <= 3*r503, r503, f503)
	check("burst num_tasks peak", within(real.burstTasksMax, fake.burstTasksMax, 2), real.burstTasksMax, fake.burstTasksMax)
	check("num_tasks frozen after the burst (real)", real.afterBurst == real.afterBurstLater, real.afterBurst, real.afterBurstLater)
	check("num_tasks frozen after the burst (fake)", fake.afterBurst == fake.afterBurstLater, fake.afterBurst, fake.afterBurstLater)
	check("steady num_tasks median", absInt(real.steadyTasksMed-fake.steadyTasksMed) <= 2, real.steadyTasksMed, fake.steadyTasksMed)
	for _, s := range []struct {
		name       string
		real, fake realhsds.Outcome
		code       int
	}{
		{"steady", real.steady, fake.steady, http.StatusOK},
		{"404s", real.notFound, fake.notFound, http.StatusNotFound},
		{"DN loss", real.dnLoss, fake.dnLoss, http.StatusInternalServerError},
	} {
		check(s.name+" status mix", frac(s.real, s.code) == 1 && frac(s.fake, s.code) == 1, s.real.Codes, s.fake.Codes)
	}
	check("WARN per 404", math.Abs(real.warnPer404-fake.warnPer404) <= 0.1, real.warnPer404, fake.warnPer404)
	check("WARN per 500", math.Abs(real.warnPer500-fake.warnPer500) <= 0.1, real.warnPer500, fake.warnPer500)
	check("SN state after DN loss", real.stateAfterDNLoss == "READY" && fake.stateAfterDNLoss == "READY", real.stateAfterDNLoss, fake.stateAfterDNLoss)
}

// within reports whether a and b are within a factor k of each other (both > 0).
func within(a, b int, k float64) bool {
	if a <= 0 || b <= 0 {
		return a == b
	}
	r := float64(a) / float64(b)
	return r <= k && r >= 1/k
}

func absInt(x int) int { return max(x, -x) }
