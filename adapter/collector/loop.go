package collector

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/utils/clock"
)

// Rounder does one complete collection round (agents or Prometheus).
type Rounder interface {
	Round(ctx context.Context)
}

// Loop runs rounds on a jittered interval and tracks the health of that schedule.
type Loop struct {
	Rounder Rounder
	Clock   clock.Clock
	// Interval is the mean time between round starts; Jitter the relative spread (0.1 = +-10 %).
	Interval time.Duration
	Jitter   float64
	// LateAfter is how long without a round start before liveness fails.
	LateAfter time.Duration

	mu       sync.Mutex
	rnd      *rand.Rand
	lastTick atomic.Int64  // unix nanoseconds of the last round start, 0 before the first
	rounds   atomic.Int64  // completed rounds
	done     chan struct{} // closed when the current round completes, then replaced (under mu)
	first    chan struct{} // closed when the first round completes (under mu)
}

// NewLoop returns a loop; seed makes the jitter reproducible.
func NewLoop(r Rounder, clk clock.Clock, interval time.Duration, jitter float64, seed uint64) *Loop {
	return &Loop{Rounder: r, Clock: clk, Interval: interval, Jitter: jitter, LateAfter: 3 * interval,
		rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// next is the jittered wait before the following round, less the time the last round took.
func (l *Loop) next(took time.Duration) time.Duration {
	l.mu.Lock()
	f := 1 + l.Jitter*(2*l.rnd.Float64()-1)
	l.mu.Unlock()
	return max(0, time.Duration(float64(l.Interval)*f)-took)
}

// Run runs rounds until ctx ends. The first round starts at once.
func (l *Loop) Run(ctx context.Context) {
	l.lastTick.Store(l.Clock.Now().UnixNano())
	for {
		start := l.Clock.Now()
		l.lastTick.Store(start.UnixNano())
		l.Rounder.Round(ctx)
		if ctx.Err() != nil {
			return
		}
		l.rounds.Add(1)
		l.roundDone()
		select {
		case <-ctx.Done():
			return
		case <-l.Clock.After(l.next(l.Clock.Since(start))):
		}
	}
}

// NextRound returns a channel that is closed when the next collection round completes, so a
// consumer (the scaler) can decide on fresh figures at once instead of on its own tick.
func (l *Loop) NextRound() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done == nil {
		l.done = make(chan struct{})
	}
	return l.done
}

// FirstRound returns a channel that is closed once the first collection round has completed
// (at once when one has): before it the store holds no pod's figures, and a decision would be
// no-data for every target.
func (l *Loop) FirstRound() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == nil {
		l.first = make(chan struct{})
		if l.rounds.Load() > 0 {
			close(l.first)
		}
	}
	return l.first
}

func (l *Loop) roundDone() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == nil {
		l.first = make(chan struct{})
	}
	select {
	case <-l.first:
	default:
		close(l.first)
	}
	if l.done != nil {
		close(l.done)
		l.done = nil
	}
}

// Rounds is the number of completed rounds.
func (l *Loop) Rounds() int64 { return l.rounds.Load() }

// ErrNotStarted, ErrLate and ErrNoRound are the probe failures.
var (
	ErrNotStarted = errors.New("collection loop not started")
	ErrLate       = errors.New("collection rounds run late")
	ErrNoRound    = errors.New("no complete collection round yet")
)

// Live fails when no round has started within LateAfter (a stuck round or a dead loop).
func (l *Loop) Live() error {
	last := l.lastTick.Load()
	if last == 0 {
		return ErrNotStarted
	}
	if since := l.Clock.Since(time.Unix(0, last)); since > l.LateAfter {
		return fmt.Errorf("%w: last round started %s ago (limit %s)", ErrLate, since.Round(time.Millisecond), l.LateAfter)
	}
	return nil
}

// Ready fails until the first round has completed.
func (l *Loop) Ready() error {
	if l.rounds.Load() == 0 {
		return ErrNoRound
	}
	return nil
}

// LivenessCheck and ReadinessCheck adapt Live and Ready to healthz (GenericAPIServer's
// AddLivezChecks / AddReadyzChecks take them).
func (l *Loop) LivenessCheck() healthz.HealthChecker {
	return healthz.NamedCheck("hsds-collector-ticking", func(*http.Request) error { return l.Live() })
}

// ReadinessCheck: see LivenessCheck.
func (l *Loop) ReadinessCheck() healthz.HealthChecker {
	return healthz.NamedCheck("hsds-collector-first-round", func(*http.Request) error { return l.Ready() })
}
