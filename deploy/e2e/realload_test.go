//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
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

// realPoints is the body of a POST selection: 4 points in 4 chunks, so 4 chunk tasks on the SN.
const realPoints = `{"points":[1,170,420,990]}`

// realPostShare is the share of POSTs (point selections, as h5pyd sends dataset reads by points).
const realPostShare = 0.15

// hsdsDomain is one domain the load reads and the dataset its POSTs select from.
type hsdsDomain struct{ path, dataset string }

// attempt is one HTTP exchange the clients made: when it ended, its status (0: no answer), POST
// or not, and its retry number (0: first try).
type attempt struct {
	at   time.Time
	code int
	post bool
	try  int
}

// realLoad is open-loop h5pyd-like traffic at real HSDS pods: Poisson arrivals at a rate that can
// change at any time, round-robin over every running pod's SN (as the hsds Service of HSDS's
// shipped manifests, which have no readiness probe, spreads connections), domain GETs retried on
// 500/502/503/504 with h5pyd's back-off (0, 2, 4, 8 s: 4 retries instead of 10, so retry waves end
// 14 s after an overload) and POSTs never retried. Every attempt is recorded.
type realLoad struct {
	k       *fakekubelet.Kubelet
	domains []hsdsDomain
	client  *http.Client
	retry   loadgen.Retry
	rate    atomic.Uint64 // math.Float64bits of requests/s
	next    atomic.Uint64
	dropped atomic.Int64

	mu       sync.Mutex
	attempts []attempt
	failures []attempt // logical requests that failed for good (last attempt), by end time
	requests int
	rng      *rand.Rand
}

// startRealLoad starts the load at rate; it stops at the end of the test.
func startRealLoad(t *testing.T, k *fakekubelet.Kubelet, domains []hsdsDomain, rate float64) *realLoad {
	t.Helper()
	retry := loadgen.H5pydRetry()
	retry.Retries = 4
	l := &realLoad{k: k, domains: domains, retry: retry, rng: rand.New(rand.NewPCG(14, 2)),
		// No keep-alive: HSDS counts idle connections as tasks against max_task_count.
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	l.set(rate)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { l.run(ctx, &wg) })
	return l
}

func (l *realLoad) set(rate float64) { l.rate.Store(math.Float64bits(rate)) }
func (l *realLoad) get() float64     { return math.Float64frombits(l.rate.Load()) }

// run makes arrivals until ctx ends; at most 400 requests are outstanding (more are dropped).
func (l *realLoad) run(ctx context.Context, wg *sync.WaitGroup) {
	sem := make(chan struct{}, 400)
	for ctx.Err() == nil {
		r := l.get()
		if r <= 0 {
			loadgen.Sleep(ctx, 100*time.Millisecond)
			continue
		}
		l.mu.Lock()
		gap := time.Duration(l.rng.ExpFloat64() / r * float64(time.Second))
		x := l.rng.Float64()
		kind := reqDomain
		switch {
		case x < realPostShare:
			kind = reqPost
		case x < realPostShare+(1-realPostShare)/2:
			kind = reqSlab
		}
		d := l.domains[l.rng.IntN(len(l.domains))]
		l.mu.Unlock()
		if !loadgen.Sleep(ctx, gap) {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			l.dropped.Add(1)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			l.do(ctx, d, kind)
		})
	}
}

// Kinds of request of the load.
const (
	reqDomain = iota // GET /?domain=: the domain's JSON from its DN (h5pyd.File(..., "r"))
	reqSlab          // GET .../value?select=[0:1000]: all 10 chunks of a dataset (dset[:])
	reqPost          // POST .../value {"points": ...}: a point selection in 4 chunks (never retried)
)

// do sends one logical request: retries as h5pyd (GET only).
func (l *realLoad) do(ctx context.Context, d hsdsDomain, kind int) {
	post := kind == reqPost
	for try := 0; ; try++ {
		pods := l.k.Pods()
		if len(pods) == 0 {
			return
		}
		sn := pods[int(l.next.Add(1))%len(pods)].SNURL
		code := l.send(ctx, sn, d, kind)
		if ctx.Err() != nil {
			return
		}
		a := attempt{at: time.Now(), code: code, post: post, try: try}
		retriable := code == 500 || code == 502 || code == 503 || code == 504
		final := post || !retriable || try >= l.retry.Retries
		l.mu.Lock()
		l.attempts = append(l.attempts, a)
		if final {
			l.requests++
			if code < 200 || code > 299 {
				l.failures = append(l.failures, a)
			}
		}
		l.mu.Unlock()
		if final || !loadgen.Sleep(ctx, l.retry.Backoff(try+1)) {
			return
		}
	}
}

func (l *realLoad) send(ctx context.Context, sn string, d hsdsDomain, kind int) int {
	post := kind == reqPost
	method, url, body := http.MethodGet, sn+"/?domain="+d.path, ""
	switch kind {
	case reqSlab:
		url = sn + "/datasets/" + d.dataset + "/value?select=[0:1000]&domain=" + d.path
	case reqPost:
		method, url, body = http.MethodPost, sn+"/datasets/"+d.dataset+"/value?domain="+d.path, realPoints
	}
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.SetBasicAuth("admin", "admin")
	if post {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
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
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		now := time.Now()
		as := l.between(now.Add(-time.Second), now)
		if ok := count(as, http.StatusOK); len(as) > 0 && 2*ok > len(as) {
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

// createDomains writes realDomains domains under /home/real through sn, each with a 1-D dataset of
// 1000 integers in chunks of 100 (unwritten: selections read fill values through the DNs), and checks
// that a GET and a POST selection of each answer 200.
func createDomains(ctx context.Context, t *testing.T, sn string) []hsdsDomain {
	t.Helper()
	hsdsDo(ctx, t, http.MethodPut, sn+"/?domain=/home", `{"folder":true}`, nil)
	hsdsDo(ctx, t, http.MethodPut, sn+"/?domain=/home/real", `{"folder":true}`, nil)
	var out []hsdsDomain
	for i := range realDomains {
		d := hsdsDomain{path: fmt.Sprintf("/home/real/d%d.h5", i)}
		hsdsDo(ctx, t, http.MethodPut, sn+"/?domain="+d.path, "", nil)
		var ds struct {
			ID string `json:"id"`
		}
		hsdsDo(ctx, t, http.MethodPost, sn+"/datasets?domain="+d.path, `{"type":"H5T_STD_I32LE","shape":[1000],"creationProperties":{"layout":{"class":"H5D_CHUNKED","dims":[100]}}}`, &ds)
		d.dataset = ds.ID
		hsdsDo(ctx, t, http.MethodGet, sn+"/?domain="+d.path, "", nil)
		hsdsDo(ctx, t, http.MethodPost, sn+"/datasets/"+d.dataset+"/value?domain="+d.path, realPoints, nil)
		hsdsDo(ctx, t, http.MethodGet, sn+"/datasets/"+d.dataset+"/value?select=[0:1000]&domain="+d.path, "", nil)
		out = append(out, d)
	}
	return out
}

// hsdsDo sends one request as admin and fails the test unless it answers 200 or 201; the JSON
// answer is decoded into v when v is not nil.
func hsdsDo(ctx context.Context, t *testing.T, method, url, body string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "admin")
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}
