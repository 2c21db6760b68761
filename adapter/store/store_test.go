package store_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func cfg() store.Config {
	return store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 6 * time.Second}
}

func running(name string) store.PodMeta {
	return store.PodMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{"app": "hsds"},
		Phase: heuristics.PodRunning, Ready: true, Scheduled: true, Created: t0.Add(-time.Hour),
		Started: t0.Add(-59 * time.Minute), IP: "127.0.0.2", Port: 9090, Deployment: "hsds"}
}

func reading(resp, overload, inFlight float64) agentmetrics.Reading {
	return agentmetrics.Reading{Responses: resp, Rejected: [3]float64{overload, 0, 0}, InFlight: inFlight, HasInFlight: true,
		Limit: 100, HasLimit: true, NodeState: schema.StateReady, NodeCount: 3, Up: true, Exact: true}
}

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestPodSamples(t *testing.T) {
	s := store.New(cfg())
	a, p := running("a"), running("pending")
	p.Phase, p.Ready, p.Scheduled, p.Started, p.IP = heuristics.PodPending, false, false, time.Time{}, ""
	other := running("other")
	other.Labels = map[string]string{"app": "else"}
	for _, m := range []store.PodMeta{a, p, other} {
		s.UpsertPod(m)
	}
	for i := 0; i <= 30; i++ {
		if !s.Record(a.Key(), a.UID, at(float64(i)), reading(float64(20*i), float64(2*i), 40)) {
			t.Fatalf("Record %d refused", i)
		}
	}
	sel := labels.SelectorFromSet(labels.Set{"app": "hsds"})
	got := s.PodSamples("ns", sel, at(31))
	want := []heuristics.PodSample{
		{Name: "a", Phase: heuristics.PodRunning, Ready: true, Scheduled: true, Created: a.Created, Started: a.Started,
			Known: true, SampleTime: at(30), Window: 30 * time.Second, NodeState: schema.StateReady, NodeCount: 3,
			InFlight: 40, Limit: 100, RequestRate: 20, Rejected503: heuristics.ByCause{Overload: 2}, Exact503: true,
			// The newest reading's raw counters and gauge, as scraped.
			Exposed: heuristics.Exposition{Time: at(30), Responses: 600, Rejected503: heuristics.ByCause{Overload: 60},
				InFlight: 40, HasInFlight: true, Limit: 100}},
		{Name: "pending", Phase: heuristics.PodPending, Created: p.Created},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PodSamples (-want +got):\n%s", diff)
	}
	short, ok := s.Get("ns", "a", at(31), store.Short)
	if !ok || short.Window != 10*time.Second || short.RequestRate != 20 {
		t.Errorf("short window view = %+v, want 10s window at 20/s", short)
	}
	// One reading: no rate yet (Known false), but its counters are exposed.
	b := running("b")
	s.UpsertPod(b)
	s.Record(b.Key(), b.UID, at(30), reading(7, 1, 3))
	one, _ := s.Get("ns", "b", at(31), store.Long)
	if one.Known || one.Exposed.Time != at(30) || one.Exposed.Responses != 7 || one.Exposed.Rejected503.Overload != 1 {
		t.Errorf("first reading: Known %v, Exposed %+v; want unknown with counters 7, 1 at t=30", one.Known, one.Exposed)
	}
	// A stale reading exposes nothing.
	if old, _ := s.Get("ns", "b", at(40), store.Long); !old.Exposed.Time.IsZero() {
		t.Errorf("stale reading exposed: %+v", old.Exposed)
	}
}

func TestUnknownAndRecovery(t *testing.T) {
	a := running("a")
	tests := []struct {
		name      string
		steps     func(s *store.Store)
		now       float64
		wantKnown bool
		wantRate  float64
	}{
		{name: "one reading: no rate yet", steps: func(s *store.Store) {
			s.Record(a.Key(), a.UID, at(0), reading(0, 0, 1))
		}, now: 1},
		{name: "last scrape failed", steps: func(s *store.Store) {
			s.Record(a.Key(), a.UID, at(0), reading(0, 0, 1))
			s.Record(a.Key(), a.UID, at(1), reading(10, 0, 1))
			s.RecordFailure(a.Key(), a.UID, at(2), "timeout")
		}, now: 2},
		{name: "recovers over the real gap", steps: func(s *store.Store) {
			s.Record(a.Key(), a.UID, at(0), reading(0, 0, 1))
			s.RecordFailure(a.Key(), a.UID, at(1), "timeout")
			s.RecordFailure(a.Key(), a.UID, at(2), "timeout")
			s.Record(a.Key(), a.UID, at(4), reading(40, 0, 1))
		}, now: 4, wantKnown: true, wantRate: 10},
		{name: "stale: collector stopped", steps: func(s *store.Store) {
			s.Record(a.Key(), a.UID, at(0), reading(0, 0, 1))
			s.Record(a.Key(), a.UID, at(1), reading(10, 0, 1))
		}, now: 8},
		{name: "duplicate timestamp is ignored", steps: func(s *store.Store) {
			s.Record(a.Key(), a.UID, at(0), reading(0, 0, 1))
			s.Record(a.Key(), a.UID, at(1), reading(10, 0, 1))
			s.Record(a.Key(), a.UID, at(1), reading(999, 0, 1))
		}, now: 1, wantKnown: true, wantRate: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := store.New(cfg())
			s.UpsertPod(a)
			tt.steps(s)
			got := s.PodSamples("ns", labels.Everything(), at(tt.now))[0]
			if got.Known != tt.wantKnown || got.RequestRate != tt.wantRate {
				t.Errorf("Known=%v RequestRate=%v, want %v %v", got.Known, got.RequestRate, tt.wantKnown, tt.wantRate)
			}
			if !got.Known && (got.InFlight != 0 || got.Limit != 0 || !got.SampleTime.IsZero()) {
				t.Errorf("unknown pod carries figures: %+v", got)
			}
		})
	}
}

func TestDeletedMidScrape(t *testing.T) {
	s := store.New(cfg())
	a := running("a")
	s.UpsertPod(a)
	s.DeletePod("ns", "a")
	if s.Record(a.Key(), a.UID, at(0), reading(0, 0, 1)) {
		t.Error("Record accepted a reading of a deleted pod")
	}
	if s.RecordFailure(a.Key(), a.UID, at(0), "connect") {
		t.Error("RecordFailure accepted a deleted pod")
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len = %d, want 0", n)
	}
	// Recreated under the same name: the old UID's late reading must not land.
	b := a
	b.UID = "new"
	s.UpsertPod(b)
	if s.Record(a.Key(), a.UID, at(1), reading(0, 0, 1)) {
		t.Error("Record accepted the old UID's reading")
	}
}

func TestTargetsAndDeployment(t *testing.T) {
	s := store.New(cfg())
	b, a, p := running("b"), running("a"), running("p")
	p.Phase = heuristics.PodPending
	for _, m := range []store.PodMeta{b, a, p} {
		s.UpsertPod(m)
	}
	var names []string
	for _, tg := range s.Targets() {
		names = append(names, tg.Key.Name)
	}
	if diff := cmp.Diff([]string{"a", "b"}, names); diff != "" {
		t.Errorf("Targets (-want +got):\n%s", diff)
	}
	if got := len(s.ListDeployment("ns", "hsds", t0, store.Long)); got != 3 {
		t.Errorf("ListDeployment = %d pods, want 3", got)
	}
	if _, ok := s.Get("ns", "zzz", t0, store.Long); ok {
		t.Error("Get found a pod that does not exist")
	}
}

// TestGeneration: every change bumps the generation; refused writes and reads do not.
func TestGeneration(t *testing.T) {
	s := store.New(cfg())
	a := running("a")
	gone := store.Key{Namespace: "ns", Name: "gone"}
	steps := []struct {
		name    string
		do      func()
		changed bool
	}{
		{"upsert new pod", func() { s.UpsertPod(a) }, true},
		{"upsert same pod", func() { s.UpsertPod(a) }, true},
		{"record", func() { s.Record(a.Key(), a.UID, at(1), reading(1, 0, 1)) }, true},
		{"record not after newest", func() { s.Record(a.Key(), a.UID, at(1), reading(2, 0, 1)) }, false},
		{"record of unknown pod", func() { s.Record(gone, "x", at(2), reading(1, 0, 1)) }, false},
		{"record with old UID", func() { s.Record(a.Key(), "old", at(2), reading(1, 0, 1)) }, false},
		{"failure", func() { s.RecordFailure(a.Key(), a.UID, at(2), "timeout") }, true},
		{"failure of unknown pod", func() { s.RecordFailure(gone, "x", at(2), "timeout") }, false},
		{"reads", func() { s.PodSamples("ns", nil, at(3)); s.Targets(); s.Len() }, false},
		{"delete", func() { s.DeletePod("ns", "a") }, true},
	}
	for _, st := range steps {
		before := s.Generation()
		st.do()
		if got := s.Generation() != before; got != st.changed {
			t.Errorf("%s: generation changed = %t, want %t", st.name, got, st.changed)
		}
	}
}

// TestPodSamplesCountANewPodsLoadOnce runs serve's path from scrapes to the policy's signals
// (this store's rates, then heuristics.Measure) through a scale-up under a constant load: 2 pods
// serve 8 req/s each for a minute, then 2 new pods start and the 4 serve 4 req/s each. 10 s
// later the old pods' 30 s rates still hold 20 s of their former share: summed as they are the
// rates read ~21 req/s, and the policy must read the cluster's 16 (docs/policy.md "Signals",
// window share).
func TestPodSamplesCountANewPodsLoadOnce(t *testing.T) {
	s := store.New(cfg())
	counts := map[string]float64{}
	scrape := func(sec int, perPod float64, names ...string) {
		for _, n := range names {
			counts[n] += perPod
			s.Record(store.Key{Namespace: "ns", Name: n}, types.UID("uid-"+n), at(float64(sec)), reading(counts[n], 0, 10))
		}
	}
	s.UpsertPod(running("a"))
	s.UpsertPod(running("b"))
	for sec := 0; sec <= 60; sec++ {
		scrape(sec, 8, "a", "b")
	}
	for _, n := range []string{"c", "d"} {
		m := running(n)
		m.Created, m.Started = at(59), at(60)
		s.UpsertPod(m)
	}
	for sec := 61; sec <= 70; sec++ {
		scrape(sec, 4, "a", "b", "c", "d")
	}
	pods := s.PodSamples("ns", labels.Everything(), at(70))
	naive := 0.0
	for i := range pods {
		pods[i].Fresh = true // the scaler's call; every pod was scraped just now
		naive += pods[i].RequestRate
	}
	snap := heuristics.Snapshot{Time: at(70), SpecReplicas: 4, MinReplicas: 1, MaxReplicas: 10, Pods: pods}
	got := heuristics.Measure(snap, heuristics.DefaultPolicy()).Attempts
	// The cluster's requests in the last 30 s over 30 s: (2 x (20 x 8 + 10 x 4) + 2 x 9 x 4) / 30
	// (the new pods' first scrapes at 61 s start their counts).
	want := (2*(20*8+10*4) + 2*9*4) / 30.0
	if math.Abs(got-want) > 0.05 || naive < want+4 {
		t.Errorf("attempts %.2f req/s, want %.2f (the rates summed as they are: %.2f)", got, want, naive)
	}
}
