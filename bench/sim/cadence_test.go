package sim

import (
	"strings"
	"testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter"
)

// TestDefaultScenarioHasServesCadence: the bench's policy must see what the deployed one sees, so
// the simulated agents are scraped, windowed and aged as serve's defaults do (adapter.NewOptions).
// The bench once scraped every 5 s over a 60 s window while serve scraped every second; the
// utilization rule then acted on a fifth of the in-flight readings and the bench understated the
// default policy's pod-seconds by ~1.6x (docs/bench.md, "Cadence").
func TestDefaultScenarioHasServesCadence(t *testing.T) {
	o, sc := adapter.NewOptions(), DefaultScenario()
	for _, c := range []struct {
		name     string
		sim, srv float64
	}{
		{"scrape interval", sc.ScrapeIntervalSeconds, o.Interval.Seconds()},
		{"rate window", sc.RateWindowSeconds, o.Window.Seconds()},
		{"short rate window", sc.ShortRateWindowSeconds, o.ShortWindow.Seconds()},
		{"stale after", sc.StaleAfterSeconds, o.StaleAfter.Seconds()},
	} {
		if c.sim != c.srv {
			t.Errorf("%s: bench %gs, serve %gs", c.name, c.sim, c.srv)
		}
	}
	_, err := DecodeScenario([]byte("scrapeIntervalSeconds: 2\nstaleAfterSeconds: 1\nrateWindowSeconds: 5\nshortRateWindowSeconds: 10\n"))
	for _, want := range []string{"staleAfterSeconds 1: must be >= scrapeIntervalSeconds 2", "shortRateWindowSeconds 10: must be <= rateWindowSeconds 5"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("scenario with a short window above the window and staleness below a scrape: %v, want %q", err, want)
		}
	}
}
