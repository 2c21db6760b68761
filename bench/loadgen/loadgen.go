package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Retry is h5pyd's retry policy (urllib3 Retry with backoff_factor=1).
type Retry struct {
	// Retries is how many times a retriable request is sent again after a retriable status.
	Retries int
	// BackoffFactor scales urllib3's schedule: wait factor * 2^(n-1) before retry n >= 2, none
	// before the first retry.
	BackoffFactor time.Duration
	// BackoffMax caps one wait (urllib3 BACKOFF_MAX, 120 s).
	BackoffMax time.Duration
	// RetryPOST retries POST too (h5pyd never does).
	RetryPOST bool
	// HonourRetryAfter waits what a Retry-After header says instead of the schedule (urllib3 does).
	HonourRetryAfter bool
}

// H5pydRetry returns the policy h5pyd uses for h5pyd.File (docs/hsds.md).
func H5pydRetry() Retry {
	return Retry{Retries: 10, BackoffFactor: time.Second, BackoffMax: 120 * time.Second, HonourRetryAfter: true}
}

// Backoff is the wait before retry n (1-based), per urllib3: 0 for the first, then factor*2^(n-1).
func (r Retry) Backoff(n int) time.Duration {
	if n <= 1 || r.BackoffFactor <= 0 {
		return 0
	}
	d := r.BackoffFactor
	for i := 1; i < n; i++ {
		d *= 2
		if r.BackoffMax > 0 && d >= r.BackoffMax {
			return r.BackoffMax
		}
	}
	return d
}

// retriable reports whether urllib3 (as h5pyd sets it up) retries this status.
func retriable(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Request is one kind of client request and its share of the mix.
type Request struct {
	Method string
	Path   string
	// Body, when not empty, is sent as application/json (HSDS's POST selections).
	Body   string
	Weight float64
}

// DefaultMix is a read-mostly h5pyd workload: chunk reads, some writes, a few POST selections.
func DefaultMix() []Request {
	return []Request{
		{Method: http.MethodGet, Path: "/datasets/d-1/value?chunks=2", Weight: 0.8},
		{Method: http.MethodPut, Path: "/datasets/d-1/value?chunks=2", Weight: 0.1},
		{Method: http.MethodPost, Path: "/datasets/d-1/value?chunks=2", Weight: 0.1},
	}
}

// Config configures a Generator.
type Config struct {
	// Targets are base URLs ("http://127.0.0.2:5100"); requests go to them round-robin, as a
	// Kubernetes Service spreads connections.
	Targets []string
	// TargetFunc, when set, replaces Targets: it is called at every attempt (the pods as they are
	// now) and each attempt, retries too, goes to the next of them round-robin, as a new connection
	// through a Service does. An attempt that finds no target fails with status 0.
	TargetFunc func() []string
	Mix        []Request
	// Username and Password, when Username is set, go with every request (HTTP basic auth).
	Username, Password string
	// OnAttempt, when set, is called after every HTTP exchange, from the request's goroutine.
	OnAttempt func(Attempt)
	Retry     Retry
	// MaxOutstanding bounds concurrent logical requests (including ones waiting to retry); an
	// arrival beyond it is counted as Dropped, never queued without bound.
	MaxOutstanding int
	Timeout        time.Duration
	Seed           uint64
	Client         *http.Client
}

// Validate returns every problem with c.
func (c Config) Validate() error {
	var errs []error
	if len(c.Targets) == 0 && c.TargetFunc == nil {
		errs = append(errs, errors.New("targets: at least one target URL is required"))
	}
	var w float64
	for i, r := range c.Mix {
		if r.Weight < 0 || r.Method == "" || r.Path == "" {
			errs = append(errs, fmt.Errorf("mix[%d]: method, path and a weight >= 0 are required", i))
		}
		w += r.Weight
	}
	if w <= 0 {
		errs = append(errs, errors.New("mix: weights must add up to more than 0"))
	}
	if c.MaxOutstanding <= 0 {
		errs = append(errs, errors.New("maxOutstanding: must be > 0"))
	}
	if c.Retry.Retries < 0 {
		errs = append(errs, errors.New("retry.retries: must be >= 0"))
	}
	return errors.Join(errs...)
}

// Attempt is one HTTP exchange as OnAttempt sees it.
type Attempt struct {
	At     time.Time // when it ended
	Method string
	Code   int  // HTTP status; 0: no answer (transport error, timeout, no target)
	Try    int  // 0: the first attempt of its logical request
	Final  bool // the logical request ended with it (success, not retriable, or retries used up)
}

// Stats are what the clients saw. Attempts counts every HTTP exchange; Requests every logical
// request (an arrival); Failed those that ended in an error status or transport error after all
// retries (client-visible failures).
type Stats struct {
	Requests  int64
	Attempts  int64
	Succeeded int64
	Failed    int64
	Dropped   int64
	ByStatus  map[int]int64 // per attempt; 0 = transport error
	Latencies []time.Duration
}

// Generator sends load. It is safe for one Run at a time.
type Generator struct {
	cfg   Config
	total float64
	mu    sync.Mutex
	stats Stats
	rng   *rand.Rand
	next  int
}

// New validates cfg and returns a Generator.
func New(cfg Config) (*Generator, error) {
	if len(cfg.Mix) == 0 {
		cfg.Mix = DefaultMix()
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	for _, r := range cfg.Mix {
		g.total += r.Weight
	}
	g.stats.ByStatus = map[int]int64{}
	return g, nil
}

// Stats returns a copy of what the clients have seen so far.
func (g *Generator) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	s.ByStatus = make(map[int]int64, len(g.stats.ByStatus))
	for k, v := range g.stats.ByStatus {
		s.ByStatus[k] = v
	}
	s.Latencies = append([]time.Duration(nil), g.stats.Latencies...)
	return s
}

// SetTargets replaces the target list (pods come and go during a run).
func (g *Generator) SetTargets(targets []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg.Targets = append([]string(nil), targets...)
}

// Run sends arrivals at rate(elapsed) requests per second (Poisson arrivals) until ctx ends or
// duration passes, then waits for outstanding requests (their retries cut short by ctx).
func (g *Generator) Run(ctx context.Context, duration time.Duration, rate func(elapsed time.Duration) float64) Stats {
	var wg sync.WaitGroup
	sem := make(chan struct{}, g.cfg.MaxOutstanding)
	start := time.Now()
	for {
		elapsed := time.Since(start)
		if elapsed >= duration || ctx.Err() != nil {
			break
		}
		r := rate(elapsed)
		if r <= 0 {
			if !Sleep(ctx, 100*time.Millisecond) {
				break
			}
			continue
		}
		if !Sleep(ctx, time.Duration(g.expo()/r*float64(time.Second))) {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			g.count(func(s *Stats) { s.Dropped++ })
			continue
		}
		req, target := g.pick()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			g.do(ctx, req, target)
		}()
	}
	wg.Wait()
	return g.Stats()
}

func (g *Generator) expo() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rng.ExpFloat64()
}

func (g *Generator) pick() (Request, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	x := g.rng.Float64() * g.total
	if g.cfg.TargetFunc != nil { // the target is chosen per attempt (nextTarget)
		for _, r := range g.cfg.Mix {
			if x < r.Weight {
				return r, ""
			}
			x -= r.Weight
		}
		return g.cfg.Mix[len(g.cfg.Mix)-1], ""
	}
	req := g.cfg.Mix[len(g.cfg.Mix)-1]
	for _, r := range g.cfg.Mix {
		if x < r.Weight {
			req = r
			break
		}
		x -= r.Weight
	}
	target := g.cfg.Targets[g.next%len(g.cfg.Targets)]
	g.next++
	return req, target
}

func (g *Generator) count(f func(*Stats)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(&g.stats)
}

// nextTarget is the target of one attempt with TargetFunc ("" when there is none).
func (g *Generator) nextTarget() string {
	ts := g.cfg.TargetFunc()
	if len(ts) == 0 {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	t := ts[g.next%len(ts)]
	g.next++
	return t
}

// do sends one logical request with retries and records the outcome.
func (g *Generator) do(ctx context.Context, req Request, target string) {
	begin := time.Now()
	ok := false
	for attempt := 0; ; attempt++ {
		if g.cfg.TargetFunc != nil {
			target = g.nextTarget()
		}
		code, retryAfter := 0, time.Duration(0)
		if target != "" {
			code, retryAfter = g.attempt(ctx, req, target)
		}
		g.count(func(s *Stats) { s.Attempts++; s.ByStatus[code]++ })
		ok = code > 0 && code < 400
		canRetry := retriable(code) && (req.Method != http.MethodPost || g.cfg.Retry.RetryPOST)
		final := ok || !canRetry || attempt >= g.cfg.Retry.Retries
		if g.cfg.OnAttempt != nil && ctx.Err() == nil {
			g.cfg.OnAttempt(Attempt{At: time.Now(), Method: req.Method, Code: code, Try: attempt, Final: final})
		}
		if final {
			break
		}
		wait := g.cfg.Retry.Backoff(attempt + 1)
		if g.cfg.Retry.HonourRetryAfter && retryAfter > 0 {
			wait = retryAfter
		}
		if !Sleep(ctx, wait) {
			break
		}
	}
	lat := time.Since(begin)
	g.count(func(s *Stats) {
		s.Requests++
		if ok {
			s.Succeeded++
		} else {
			s.Failed++
		}
		s.Latencies = append(s.Latencies, lat)
	})
}

// attempt sends one HTTP exchange and returns its status (0 on transport error) and Retry-After.
func (g *Generator) attempt(ctx context.Context, req Request, target string) (int, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, target+req.Path, body)
	if err != nil {
		return 0, 0
	}
	if req.Body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if g.cfg.Username != "" {
		hr.SetBasicAuth(g.cfg.Username, g.cfg.Password)
	}
	rsp, err := g.cfg.Client.Do(hr)
	if err != nil {
		return 0, 0
	}
	defer func() { _ = rsp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(rsp.Body, 1<<20))
	var ra time.Duration
	if s := rsp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
			ra = time.Duration(secs) * time.Second
		}
	}
	return rsp.StatusCode, ra
}

// Sleep waits d or until ctx ends; it reports whether the full wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
