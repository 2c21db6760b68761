package sim

import (
	"math"
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

// TestPeriodStarts: a period of a fractional number of ticks starts every floor or ceil of it,
// averaging the period; an integral one every p ticks.
func TestPeriodStarts(t *testing.T) {
	for _, p := range []float64{1, 12.5, 50, 7.25} {
		starts, prev := 0, int64(-1)
		for k := range int64(100_000) {
			if !PeriodStarts(k, p) {
				continue
			}
			if prev >= 0 {
				if gap := float64(k - prev); gap < math.Floor(p) || gap > math.Ceil(p) {
					t.Fatalf("p %g: starts at %d and %d, gap %g not in [floor, ceil] of p", p, prev, k, gap)
				}
			}
			starts, prev = starts+1, k
		}
		if want := int(math.Floor(99_999/p)) + 1; starts != want {
			t.Errorf("p %g: %d starts in 100,000 ticks, want %d", p, starts, want)
		}
	}
	if got := PeriodTicks(0.25, 0.02); got != 12.5 {
		t.Errorf("PeriodTicks(0.25, 0.02) = %v, want 12.5", got)
	}
	if got := PeriodTicks(0.001, 0.02); got != 1 {
		t.Errorf("PeriodTicks(0.001, 0.02) = %v, want 1 (at least every tick)", got)
	}
}

// TestAgentPollsAtItsPeriod: the simulated agents poll /info every AgentPollSeconds on average
// (0.25 s by default, the agent's --poll-interval); rounding the period to whole ticks had
// made it 0.26 s (4 % fewer readings than the real agent takes).
func TestAgentPollsAtItsPeriod(t *testing.T) {
	sc := DefaultScenario()
	sc.AgentSource = AgentInfo
	st, err := RunSteady(sc, SteadyRun{Pods: 2, Rate: 1, WarmupSeconds: 10, Seconds: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2 * 100 / sc.AgentPollSeconds); st.Polls < want-2 || st.Polls > want+2 {
		t.Errorf("%d pod polls in 100 s on 2 pods, want %d (every %g s; --poll-interval)", st.Polls, want, sc.AgentPollSeconds)
	}
}

// TestScrapesAtTheirPeriod: the simulated scrapes keep ScrapeIntervalSeconds on average when it
// is not a whole number of ticks, as the polls do; rounding it (0.25 s on 0.02 s ticks to 13
// ticks, 0.26 s) had scraped 385 times in 100 s where 400 are due.
func TestScrapesAtTheirPeriod(t *testing.T) {
	sc := DefaultScenario()
	sc.ScrapeIntervalSeconds = 0.25
	s, err := New(sc, func(float64) float64 { return 1 }, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range int(100 / sc.TickSeconds) {
		s.Tick()
	}
	if want := int64(100 / sc.ScrapeIntervalSeconds); s.scrapes != want {
		t.Errorf("%d scrapes in 100 s, want %d (every %g s)", s.scrapes, want, sc.ScrapeIntervalSeconds)
	}
}
