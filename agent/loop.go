package agent

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Poller reads HSDS once and commits the result into its store.
type Poller interface {
	Poll(ctx context.Context)
}

// Loop polls HSDS every interval and answers the agent's probes.
type Loop struct {
	poller   Poller
	store    *Store
	clk      clock.WithTicker
	interval time.Duration
	// stale is how long without a finished poll /healthz tolerates.
	stale   time.Duration
	started time.Time
}

// NewLoop returns a loop; stale is the longest time without a finished poll that /healthz accepts.
func NewLoop(p Poller, st *Store, clk clock.WithTicker, interval, stale time.Duration) *Loop {
	return &Loop{poller: p, store: st, clk: clk, interval: interval, stale: stale, started: clk.Now()}
}

// Run polls at once and then every interval until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	t := l.clk.NewTicker(l.interval)
	defer t.Stop()
	wasUp := false
	for {
		l.poller.Poll(ctx)
		if up := l.store.Snapshot().Up; up != wasUp {
			klog.InfoS("HSDS read state changed", "up", up)
			wasUp = up
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// Healthz fails when no poll finished within the stale window: the process is alive only if its
// poll loop ticks.
func (l *Loop) Healthz() error {
	last := l.store.Snapshot().LastPoll
	if last.IsZero() {
		last = l.started
	}
	if age := l.clk.Since(last); age > l.stale {
		return fmt.Errorf("no poll of HSDS finished for %s (limit %s)", age.Round(time.Millisecond), l.stale)
	}
	return nil
}

// Readyz fails until HSDS has been read successfully at least once.
func (l *Loop) Readyz() error {
	if !l.store.Snapshot().EverUp {
		return fmt.Errorf("HSDS not read successfully yet")
	}
	return nil
}

// Handler serves /metrics from reg, /healthz and /readyz.
func (l *Loop) Handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	// No HandlerOpts.Registry: only the schema names are served.
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", probe(l.Healthz))
	mux.HandleFunc("/readyz", probe(l.Readyz))
	return mux
}

func probe(check func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := check(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err.Error())
			return
		}
		fmt.Fprintln(w, "ok")
	}
}
