//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// realDomains is how many domains the real-HSDS load reads (each has one dataset for the POSTs).
const realDomains = 8

// attempt is one HTTP exchange the clients made: when it ended, its status (0: no answer), POST
// or not, and its retry number (0: first try).
type attempt struct {
	at   time.Time
	code int
	post bool
	try  int
}

// realLoad is open-loop h5pyd-like traffic at real HSDS pods (bench/loadgen, loadgen.HSDSMix):
// Poisson arrivals at a rate that can change at any time, each attempt round-robin over every
// running pod's SN (as the hsds Service of HSDS's shipped manifests, which have no readiness probe,
// spreads connections), GETs retried on 500/502/503/504 with h5pyd's back-off (0, 2, 4, 8 s: 4
// retries instead of 10, so retry waves end 14 s after an overload) and POSTs never retried. Every
// attempt is recorded.
type realLoad struct {
	gen  *loadgen.Generator
	rate atomic.Uint64 // math.Float64bits of requests/s

	mu       sync.Mutex
	attempts []attempt
	failures []attempt // logical requests that failed for good (last attempt), by end time
	requests int
}

// startRealLoad starts the load at rate; it stops at the end of the test.
func startRealLoad(t *testing.T, k *fakekubelet.Kubelet, domains []loadgen.HSDSDomain, rate float64) *realLoad {
	t.Helper()
	retry := loadgen.H5pydRetry()
	retry.Retries = 4
	l := &realLoad{}
	gen, err := loadgen.New(loadgen.Config{
		TargetFunc: func() []string {
			pods := k.Pods()
			out := make([]string, len(pods))
			for i, p := range pods {
				out[i] = p.SNURL
			}
			return out
		},
		Mix: loadgen.HSDSMix(domains), Username: loadgen.HSDSAdmin, Password: loadgen.HSDSAdmin,
		Retry: retry, MaxOutstanding: 400, Timeout: 10 * time.Second, Seed: 14, OnAttempt: l.record,
		// No keep-alive: HSDS counts idle connections as tasks against max_task_count.
		Client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	l.gen = gen
	l.set(rate)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		gen.Run(ctx, 24*time.Hour, func(time.Duration) float64 { return l.get() })
	}()
	return l
}

func (l *realLoad) set(rate float64) { l.rate.Store(math.Float64bits(rate)) }
func (l *realLoad) get() float64     { return math.Float64frombits(l.rate.Load()) }

// dropped is how many arrivals found 400 requests outstanding and were not sent.
func (l *realLoad) dropped() int64 { return l.gen.Stats().Dropped }

// record keeps one attempt (loadgen.Config.OnAttempt).
func (l *realLoad) record(a loadgen.Attempt) {
	r := attempt{at: a.At, code: a.Code, post: a.Method == http.MethodPost, try: a.Try}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, r)
	if a.Final {
		l.requests++
		if a.Code < 200 || a.Code > 299 {
			l.failures = append(l.failures, r)
		}
	}
}

// between returns the attempts that ended in [from, to).
func (l *realLoad) between(from, to time.Time) []attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []attempt
	for _, a := range l.attempts {
		if !a.at.Before(from) && a.at.Before(to) {
			out = append(out, a)
		}
	}
	return out
}

// outcome returns how many logical requests ended so far and the failed ones (POSTs at their
// first error, GETs after their last retry).
func (l *realLoad) outcome() (int, []attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests, slices.Clone(l.failures)
}

// waitServed waits until most attempts of the last second succeeded and returns that moment, or
// the moment timeout passed and false.
func (l *realLoad) waitServed(ctx context.Context, timeout time.Duration) (time.Time, bool) {
	return l.waitShare(ctx, time.Second, timeout, func(ok, n int) bool { return 2*ok > n })
}

// waitClean waits until at least 95 % of the attempts of the last span were served (200), for at
// most timeout; false if that never happened.
func (l *realLoad) waitClean(ctx context.Context, span, timeout time.Duration) bool {
	_, ok := l.waitShare(ctx, span, timeout, func(ok, n int) bool { return 20*ok >= 19*n })
	return ok
}

// waitShare polls every 200 ms until enough (ok, n: served and all attempts of the last span,
// n > 0) holds, for at most timeout; it returns when it held, or the time it gave up and false.
func (l *realLoad) waitShare(ctx context.Context, span, timeout time.Duration, enough func(ok, n int) bool) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		now := time.Now()
		if as := l.between(now.Add(-span), now); len(as) > 0 && enough(count(as, http.StatusOK), len(as)) {
			return now, true
		}
		loadgen.Sleep(ctx, 200*time.Millisecond)
	}
	return time.Now(), false
}

// codes counts attempts by status ("POST 503" for POSTs, else the code alone).
func codes(as []attempt) map[string]int {
	out := map[string]int{}
	for _, a := range as {
		k := fmt.Sprint(a.code)
		if a.post {
			k = "POST " + k
		}
		out[k]++
	}
	return out
}

// count returns how many attempts had code (POSTs included).
func count(as []attempt, code int) int {
	n := 0
	for _, a := range as {
		if a.code == code {
			n++
		}
	}
	return n
}

// lastBad returns the end of the last whole second of [from, to) whose attempts bad judges
// (a jam: most were 503s; a cost: most failed), or the zero time when none is.
func (l *realLoad) lastBad(from, to time.Time, bad func(as []attempt) bool) time.Time {
	var end time.Time
	for s := from; s.Before(to); s = s.Add(time.Second) {
		if as := l.between(s, s.Add(time.Second)); len(as) > 0 && bad(as) {
			end = s.Add(time.Second)
		}
	}
	return end
}

// perSecond renders the codes per second of [from, to) relative to t0, one line per second.
func (l *realLoad) perSecond(t0, from, to time.Time) string {
	var b strings.Builder
	for s := from; s.Before(to); s = s.Add(time.Second) {
		fmt.Fprintf(&b, "  t%+4.0fs %s\n", s.Sub(t0).Seconds(), formatCodes(codes(l.between(s, s.Add(time.Second)))))
	}
	return b.String()
}

// formatCodes renders a code count map in a stable order.
func formatCodes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// createDomains writes the load's domains through sn (loadgen.CreateHSDSDomains) or fails the test.
func createDomains(ctx context.Context, t *testing.T, sn string) []loadgen.HSDSDomain {
	t.Helper()
	ds, err := loadgen.CreateHSDSDomains(ctx, sn, "/home/real", realDomains)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// hsdsDo sends one request as admin (loadgen.HSDSDo) and fails the test unless it answers 200 or
// 201; the JSON answer is decoded into v when v is not nil.
func hsdsDo(ctx context.Context, t *testing.T, method, url, body string, v any) {
	t.Helper()
	if err := loadgen.HSDSDo(ctx, method, url, body, v); err != nil {
		t.Fatal(err)
	}
}
