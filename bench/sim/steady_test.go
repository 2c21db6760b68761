package sim

import (
	"math"
	"testing"
)

// TestSteadyReadings: with KeepReadings, RunSteady keeps the in-flight figure every pod's agent
// exports after each of its polls (AgentInfo; absent ones left out): the task count the last
// gated request saw on arrival (its own tasks included), while at most 1 s old. By PASTA their
// mean is the mean in-flight plus the arriving request's OverheadTasks.
func TestSteadyReadings(t *testing.T) {
	sc := DefaultScenario()
	sc.Retries, sc.IdleConnectionsPerPod, sc.LoadSkew = 0, 0, 0
	steady := func(sc Scenario, rate float64, keep bool) Steady {
		t.Helper()
		st, err := RunSteady(sc, SteadyRun{Pods: 2, Rate: rate, WarmupSeconds: 60, Seconds: 1800, Seed: 3, KeepReadings: keep})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Polls fall on the ticks that are multiples of the poll period in ticks (0.25 s / 0.02 s
	// rounds to 13 ticks: one poll per 0.26 simulated seconds).
	every, wantPolls := int64(math.Round(sc.AgentPollSeconds/sc.TickSeconds)), int64(0)
	for tick := int64(math.Round(60 / sc.TickSeconds)); tick < int64(math.Round(1860/sc.TickSeconds)); tick++ {
		if tick%every == 0 {
			wantPolls += 2
		}
	}
	st := steady(sc, 4, true)
	if st.Polls != wantPolls || len(st.Readings) == 0 || int64(len(st.Readings)) > st.Polls {
		t.Fatalf("%d polls, %d readings: want %d polls and up to as many readings", st.Polls, len(st.Readings), wantPolls)
	}
	sum, low := 0.0, float64(sc.BackgroundTasks+sc.OverheadTasks)
	for _, v := range st.Readings {
		if v < low || v != math.Trunc(v) {
			t.Fatalf("reading %g: want a whole task count >= %g (background and own tasks)", v, low)
		}
		sum += v
	}
	mean, want := sum/float64(len(st.Readings)), st.MeanInFlight+float64(sc.OverheadTasks)
	if math.Abs(mean-want) > 0.1*want {
		t.Errorf("mean reading %.2f, want about mean in-flight + own tasks %.2f", mean, want)
	}
	if st := steady(sc, 4, false); st.Polls != wantPolls || st.Readings != nil {
		t.Errorf("without KeepReadings: %d polls, %d readings; want %d polls, none kept", st.Polls, len(st.Readings), wantPolls)
	}
	if st := steady(sc, 0, true); st.Polls != wantPolls || len(st.Readings) != 0 {
		t.Errorf("no load: %d polls, %d readings; want %d polls and no reading (no gated request: absent)", st.Polls, len(st.Readings), wantPolls)
	}
	sc.AgentSource = AgentExact
	if st := steady(sc, 4, true); st.Polls != 0 || len(st.Readings) != 0 {
		t.Errorf("agent source exact: %d polls, %d readings; want none (no /info polls)", st.Polls, len(st.Readings))
	}
}
