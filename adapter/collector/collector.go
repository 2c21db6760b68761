package collector

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
)

// Sink is what the collector needs of the store.
type Sink interface {
	Targets() []store.Target
	Record(k store.Key, uid types.UID, t time.Time, rd agentmetrics.Reading) bool
	RecordFailure(k store.Key, uid types.UID, t time.Time, reason string) bool
	Len() int
}

// Collector scrapes every target once per Round.
type Collector struct {
	Sink    Sink
	Scraper *Scraper
	Clock   clock.PassiveClock
	// Workers bounds how many scrapes run at once.
	Workers int
	// Path is the agent's metrics path, "/metrics".
	Path    string
	Metrics *Metrics
}

// URL is where a target's agent serves its metrics.
func (c *Collector) URL(t store.Target) string {
	return "http://" + net.JoinHostPort(t.IP, strconv.Itoa(t.Port)) + c.Path
}

// Round scrapes every current target once, at most Workers at a time, and returns when all are
// done. A target deleted while it was scraped is dropped by the store (its reading is refused).
func (c *Collector) Round(ctx context.Context) {
	start := c.Clock.Now()
	targets := c.Sink.Targets()
	work := make(chan store.Target)
	var wg sync.WaitGroup
	for range min(c.Workers, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := NewWorker()
			for t := range work {
				c.scrapeOne(ctx, t, w)
			}
		}()
	}
feed:
	for _, t := range targets {
		select {
		case work <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	end := c.Clock.Now()
	if c.Metrics != nil {
		c.Metrics.RoundDuration.Observe(end.Sub(start).Seconds())
		c.Metrics.Targets.Set(float64(len(targets)))
		c.Metrics.Pods.Set(float64(c.Sink.Len()))
		if ctx.Err() == nil {
			c.Metrics.LastRound.Set(float64(end.UnixNano()) / 1e9)
		}
	}
}

func (c *Collector) scrapeOne(ctx context.Context, t store.Target, w *Worker) {
	start := c.Clock.Now()
	rd, err := c.Scraper.Scrape(ctx, c.URL(t), w)
	now := c.Clock.Now()
	if c.Metrics != nil {
		c.Metrics.ScrapeDuration.Observe(now.Sub(start).Seconds())
	}
	if err == nil {
		c.Sink.Record(t.Key, t.UID, now, rd)
		return
	}
	if ctx.Err() != nil {
		return // shutting down: not the agent's fault
	}
	reason := ScrapeErrorLabel(err)
	if c.Metrics != nil {
		c.Metrics.ScrapeErrors.WithLabelValues(reason).Inc()
	}
	if c.Sink.RecordFailure(t.Key, t.UID, now, reason) {
		klog.V(4).InfoS("Scrape failed", "pod", klog.KRef(t.Key.Namespace, t.Key.Name), "reason", reason, "err", err)
	}
}
