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
	// One poll of each pod every 0.25 simulated seconds (12.5 ticks of 0.02 s: 13 and 12 in turn).
	wantPolls := int64(2 * 1800 / sc.AgentPollSeconds)
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
