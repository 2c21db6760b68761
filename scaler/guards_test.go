package scaler

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// pod returns a Running, Ready, scraped, READY pod with fresh figures at t0.
func pod(name string) heuristics.PodSample {
	return heuristics.PodSample{
		Name: name, Phase: heuristics.PodRunning, Ready: true, Scheduled: true,
		Created: t0.Add(-time.Hour), Started: t0.Add(-time.Hour),
		Known: true, SampleTime: t0, Window: 30 * time.Second, NodeState: "READY", NodeCount: 1,
		InFlight: 10, Limit: 100, RequestRate: 50, Exact503: true,
	}
}

func with(p heuristics.PodSample, f func(*heuristics.PodSample)) heuristics.PodSample {
	f(&p)
	return p
}

func TestSanitizePod(t *testing.T) {
	all := heuristics.ByCause{Overload: 3, NotReady: 2, Upstream: 1}
	tests := []struct {
		name string
		in   heuristics.PodSample
		want heuristics.PodSample
	}{
		{"READY pod untouched",
			with(pod("a"), func(p *heuristics.PodSample) { p.Rejected503 = all }),
			with(pod("a"), func(p *heuristics.PodSample) { p.Rejected503 = all })},
		{"WAITING pod: every 503 is not_ready, not capacity",
			with(pod("a"), func(p *heuristics.PodSample) { p.Rejected503 = all; p.NodeState = "WAITING" }),
			with(pod("a"), func(p *heuristics.PodSample) { p.NodeState = "WAITING"; p.Ready = false; p.Rejected503.NotReady = 6 })},
		{"TERMINATING pod: every 503 is not_ready",
			with(pod("a"), func(p *heuristics.PodSample) { p.Rejected503 = all; p.NodeState = "TERMINATING" }),
			with(pod("a"), func(p *heuristics.PodSample) {
				p.NodeState = "TERMINATING"
				p.Ready = false
				p.Rejected503.NotReady = 6
			})},
		{"known pod with unknown state is not READY",
			with(pod("a"), func(p *heuristics.PodSample) { p.Rejected503 = all; p.NodeState = "" }),
			with(pod("a"), func(p *heuristics.PodSample) { p.NodeState = ""; p.Ready = false; p.Rejected503.NotReady = 6 })},
		{"unscraped pod untouched (possibly hot)",
			with(pod("a"), func(p *heuristics.PodSample) { p.Known = false; p.Rejected503 = all; p.NodeState = "" }),
			with(pod("a"), func(p *heuristics.PodSample) { p.Known = false; p.Rejected503 = all; p.NodeState = "" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, sanitizePod(tt.in)); diff != "" {
				t.Errorf("sanitizePod (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSanitizePodsCopies(t *testing.T) {
	in := []heuristics.PodSample{with(pod("a"), func(p *heuristics.PodSample) { p.NodeState = "WAITING"; p.Rejected503.Overload = 9 })}
	_ = sanitizePods(in)
	if in[0].Rejected503.Overload != 9 || !in[0].Ready {
		t.Errorf("sanitizePods modified its input: %+v", in[0])
	}
}

func TestCountPods(t *testing.T) {
	pending := func(name string, scheduled bool, created time.Time) heuristics.PodSample {
		return heuristics.PodSample{Name: name, Phase: heuristics.PodPending, Scheduled: scheduled, Created: created}
	}
	tests := []struct {
		name string
		pods []heuristics.PodSample
		want podCounts
	}{
		{"empty", nil, podCounts{}},
		{"ready and not READY", []heuristics.PodSample{pod("a"), with(pod("b"), func(p *heuristics.PodSample) { p.NodeState = "WAITING" }),
			with(pod("c"), func(p *heuristics.PodSample) { p.Known = false }), with(pod("d"), func(p *heuristics.PodSample) { p.Ready = false })},
			podCounts{Ready: 1}},
		{"pending split by scheduling, oldest unscheduled, newest scheduled", []heuristics.PodSample{
			pending("p1", true, t0.Add(-time.Hour)), pending("p2", false, t0.Add(-time.Minute)), pending("p3", false, t0.Add(-2*time.Minute)),
			pending("p4", true, t0.Add(-3*time.Minute))},
			podCounts{Pending: 4, Unscheduled: 2, OldestUnscheduled: t0.Add(-2 * time.Minute), NewestScheduledPending: t0.Add(-3 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, countPods(tt.pods)); diff != "" {
				t.Errorf("countPods (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStaleData(t *testing.T) {
	maxAge := 15 * time.Second
	tests := []struct {
		name string
		pods []heuristics.PodSample
		spec int32
		now  time.Time
		want bool
	}{
		{"fresh", []heuristics.PodSample{pod("a"), pod("b")}, 2, t0.Add(10 * time.Second), false},
		{"at the limit", []heuristics.PodSample{pod("a")}, 1, t0.Add(maxAge), false},
		{"one old", []heuristics.PodSample{pod("a"), with(pod("b"), func(p *heuristics.PodSample) { p.SampleTime = t0.Add(-time.Minute) })}, 2, t0, true},
		{"one never scraped", []heuristics.PodSample{pod("a"), with(pod("b"), func(p *heuristics.PodSample) { p.Known = false })}, 2, t0, true},
		{"no pods while spec > 0", nil, 3, t0, true},
		{"no pods, spec 0", nil, 0, t0, false},
		{"pending pods cannot be scraped and do not count", []heuristics.PodSample{pod("a"), {Name: "p", Phase: heuristics.PodPending}}, 2, t0, false},
		{"terminating pods do not count", []heuristics.PodSample{pod("a"), {Name: "x", Phase: heuristics.PodOther}}, 2, t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := staleData(markFresh(tt.pods, tt.now, maxAge), tt.spec); got != tt.want {
				t.Errorf("staleData = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSettling(t *testing.T) {
	settle := 50 * time.Second
	tests := []struct {
		name       string
		lastChange time.Time
		now        time.Time
		want       bool
	}{
		{"never changed", time.Time{}, t0, false},
		{"just changed", t0, t0, true},
		{"49s later", t0, t0.Add(49 * time.Second), true},
		{"50s later", t0, t0.Add(50 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := settling(tt.lastChange, tt.now, settle); got != tt.want {
				t.Errorf("settling = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPendingHold(t *testing.T) {
	timeout := 5 * time.Minute
	tests := []struct {
		name string
		c    podCounts
		now  time.Time
		want bool
	}{
		{"none pending", podCounts{}, t0, false},
		{"scheduled pending pods do not hold", podCounts{Pending: 2}, t0, false},
		{"unscheduled, young", podCounts{Pending: 2, Unscheduled: 1, OldestUnscheduled: t0}, t0.Add(time.Minute), true},
		{"unscheduled past timeout", podCounts{Pending: 2, Unscheduled: 1, OldestUnscheduled: t0}, t0.Add(timeout), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pendingHold(tt.c, tt.now, timeout); got != tt.want {
				t.Errorf("pendingHold = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestApplyGuards(t *testing.T) {
	rec := func(n int32) heuristics.Decision {
		return heuristics.Decision{Valid: true, Replicas: n, Reason: "rec"}
	}
	tests := []struct {
		name string
		in   guardInput
		want guardResult
	}{
		{"up passes", guardInput{Current: 3, Recommended: rec(5), Min: 1, Max: 10}, guardResult{Desired: 5, Reason: "rec"}},
		{"invalid decision holds", guardInput{Current: 3, Recommended: heuristics.Decision{Replicas: 9, Reason: "no-data"}, Min: 1, Max: 10},
			guardResult{Desired: 3, Reason: "no-data"}},
		{"clamped to max", guardInput{Current: 3, Recommended: rec(50), Min: 1, Max: 10},
			guardResult{Desired: 10, Reason: GuardBounds, Active: []string{GuardBounds}}},
		{"clamped to min", guardInput{Current: 3, Recommended: rec(0), Min: 2, Max: 10},
			guardResult{Desired: 2, Reason: GuardBounds, Active: []string{GuardBounds}}},
		{"invalid decision below min still brought to min", guardInput{Current: 1, Recommended: heuristics.Decision{Reason: "no-data"}, Min: 2, Max: 10},
			guardResult{Desired: 2, Reason: GuardBounds, Active: []string{GuardBounds}}},
		{"down on stale data held", guardInput{Current: 5, Recommended: rec(3), Min: 1, Max: 10, Stale: true},
			guardResult{Desired: 5, Reason: GuardStaleData, Active: []string{GuardStaleData}}},
		{"up on stale data passes", guardInput{Current: 5, Recommended: rec(7), Min: 1, Max: 10, Stale: true},
			guardResult{Desired: 7, Reason: "rec"}},
		{"above max on stale data: no down", guardInput{Current: 12, Recommended: rec(12), Min: 1, Max: 10, Stale: true},
			guardResult{Desired: 12, Reason: GuardStaleData, Active: []string{GuardBounds, GuardStaleData}}},
		{"settling holds up", guardInput{Current: 3, Recommended: rec(5), Min: 1, Max: 10, Settling: true},
			guardResult{Desired: 3, Reason: GuardSettling, Active: []string{GuardSettling}}},
		{"settling holds down", guardInput{Current: 5, Recommended: rec(3), Min: 1, Max: 10, Settling: true},
			guardResult{Desired: 5, Reason: GuardSettling, Active: []string{GuardSettling}}},
		{"settling, no change: not active", guardInput{Current: 5, Recommended: rec(5), Min: 1, Max: 10, Settling: true},
			guardResult{Desired: 5, Reason: "rec"}},
		{"pending holds up", guardInput{Current: 3, Recommended: rec(6), Min: 1, Max: 10, PendingHold: true},
			guardResult{Desired: 3, Reason: GuardPendingPods, Active: []string{GuardPendingPods}}},
		{"pending lets down through", guardInput{Current: 6, Recommended: rec(4), Min: 1, Max: 10, PendingHold: true},
			guardResult{Desired: 4, Reason: "rec"}},
		{"stuck: one pod fewer when nothing changes", guardInput{Current: 3, Recommended: rec(3), Min: 1, Max: 10, Release: true},
			guardResult{Desired: 2, Reason: ReasonStuckRelease}},
		{"stuck: one pod fewer when an invalid decision holds", guardInput{Current: 3, Recommended: heuristics.Decision{Reason: "no-data"}, Min: 1, Max: 10, Release: true},
			guardResult{Desired: 2, Reason: ReasonStuckRelease}},
		{"stuck: at min, one pod more", guardInput{Current: 2, Recommended: rec(2), Min: 2, Max: 10, Release: true},
			guardResult{Desired: 3, Reason: ReasonStuckRelease}},
		{"stuck: on stale data never down, one pod more", guardInput{Current: 5, Recommended: rec(3), Min: 1, Max: 10, Stale: true, Release: true},
			guardResult{Desired: 6, Reason: ReasonStuckRelease, Active: []string{GuardStaleData}}},
		{"stuck: a wanted scale-down is change enough", guardInput{Current: 5, Recommended: rec(4), Min: 1, Max: 10, Release: true},
			guardResult{Desired: 4, Reason: "rec"}},
		{"stuck: a wanted scale-up is not changed", guardInput{Current: 3, Recommended: rec(5), Min: 1, Max: 10, Release: true},
			guardResult{Desired: 5, Reason: "rec"}},
		{"stuck: at max, one pod fewer", guardInput{Current: 10, Recommended: rec(10), Min: 1, Max: 10, Release: true},
			guardResult{Desired: 9, Reason: ReasonStuckRelease}},
		{"stuck: min == max, stale: nothing", guardInput{Current: 3, Recommended: rec(3), Min: 3, Max: 3, Stale: true, Release: true},
			guardResult{Desired: 3, Reason: "rec"}},
		{"stuck: another pod starting: wait for it", guardInput{Current: 3, Recommended: rec(3), Min: 1, Max: 10, Release: true, Starting: true},
			guardResult{Desired: 3, Reason: "rec"}},
		{"stuck: settling holds the change", guardInput{Current: 3, Recommended: rec(3), Min: 1, Max: 10, Settling: true, Release: true},
			guardResult{Desired: 3, Reason: GuardSettling, Active: []string{GuardSettling}}},
		{"stuck: pending pods hold the added pod", guardInput{Current: 3, Recommended: rec(3), Min: 3, Max: 10, PendingHold: true, Release: true},
			guardResult{Desired: 3, Reason: GuardPendingPods, Active: []string{GuardPendingPods}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, applyGuards(tt.in)); diff != "" {
				t.Errorf("applyGuards (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStarting(t *testing.T) {
	timeout := 5 * time.Minute
	for _, tt := range []struct {
		name            string
		c               podCounts
		notReady, stuck int
		want            bool
	}{
		{"nothing", podCounts{Ready: 3}, 1, 1, false},
		{"scheduled and Pending", podCounts{Pending: 1, NewestScheduledPending: t0.Add(-time.Minute)}, 1, 1, true},
		{"scheduled and Pending past the timeout (never starts)", podCounts{Pending: 1, NewestScheduledPending: t0.Add(-timeout)}, 1, 1, false},
		{"unscheduled within the timeout", podCounts{Pending: 1, Unscheduled: 1, OldestUnscheduled: t0.Add(-time.Minute)}, 1, 1, true},
		{"unscheduled past the timeout", podCounts{Pending: 1, Unscheduled: 1, OldestUnscheduled: t0.Add(-timeout)}, 1, 1, false},
		{"Running, not READY, not yet stuck", podCounts{}, 2, 1, true},
	} {
		if got := starting(tt.c, tt.notReady, tt.stuck, t0, timeout); got != tt.want {
			t.Errorf("%s: starting = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStuckTracking(t *testing.T) {
	waiting := func(name string) heuristics.PodSample {
		return with(pod(name), func(p *heuristics.PodSample) { p.NodeState = "WAITING" })
	}
	threshold := 10 * time.Minute
	since := trackNotReady(nil, []heuristics.PodSample{waiting("a"), pod("b"), with(waiting("c"), func(p *heuristics.PodSample) { p.Known = false })}, t0)
	if diff := cmp.Diff(map[string]time.Time{"a": t0}, since); diff != "" {
		t.Fatalf("first track (-want +got):\n%s", diff)
	}
	t1 := t0.Add(6 * time.Minute)
	since = trackNotReady(since, []heuristics.PodSample{waiting("a"), waiting("b")}, t1)
	if diff := cmp.Diff(map[string]time.Time{"a": t0, "b": t1}, since); diff != "" {
		t.Fatalf("second track (-want +got):\n%s", diff)
	}
	if got := stuckPods(since, nil, t0.Add(threshold-time.Second), threshold, time.Second); len(got) != 0 {
		t.Errorf("stuck before threshold: %v", got)
	}
	if diff := cmp.Diff([]string{"a"}, stuckPods(since, nil, t0.Add(threshold), threshold, time.Second)); diff != "" {
		t.Errorf("stuck at threshold (-want +got):\n%s", diff)
	}
	// A failed scrape (unknown) keeps a tracked pod's time; it does not add an untracked one.
	kept := trackNotReady(since, []heuristics.PodSample{with(waiting("a"), func(p *heuristics.PodSample) { p.Known = false }),
		with(waiting("z"), func(p *heuristics.PodSample) { p.Known = false })}, t1.Add(time.Second))
	if diff := cmp.Diff(map[string]time.Time{"a": t0}, kept); diff != "" {
		t.Errorf("unknown for a tick (-want +got):\n%s", diff)
	}
	// a recovers: forgotten, and starts afresh when it goes WAITING again.
	since = trackNotReady(since, []heuristics.PodSample{pod("a"), waiting("b")}, t0.Add(20*time.Minute))
	since = trackNotReady(since, []heuristics.PodSample{waiting("a"), waiting("b")}, t0.Add(21*time.Minute))
	if diff := cmp.Diff([]string{"b"}, stuckPods(since, nil, t0.Add(21*time.Minute), threshold, time.Second)); diff != "" {
		t.Errorf("after recovery (-want +got):\n%s", diff)
	}
}

// TestStuckAfterReady: a pod whose node was READY before is stuck after the shorter threshold
// (on 0.9.4 old nodes never leave READY on a rescale: one that does is HSDS issue 423); a new pod
// that has never been READY gets the longer one (its start-up).
func TestStuckAfterReady(t *testing.T) {
	waiting := func(name string) heuristics.PodSample {
		return with(pod(name), func(p *heuristics.PodSample) { p.NodeState = "WAITING" })
	}
	was := trackReady(nil, []heuristics.PodSample{pod("old"), waiting("new")})
	if diff := cmp.Diff(map[string]bool{"old": true}, was); diff != "" {
		t.Fatalf("trackReady (-want +got):\n%s", diff)
	}
	since := trackNotReady(nil, []heuristics.PodSample{waiting("old"), waiting("new")}, t0)
	was = trackReady(was, []heuristics.PodSample{waiting("old"), waiting("new")})
	if !was["old"] || was["new"] {
		t.Fatalf("a READY pod that goes WAITING must stay known as was-READY: %v", was)
	}
	notReady, afterReady := 60*time.Second, 20*time.Second
	if diff := cmp.Diff([]string{"old"}, stuckPods(since, was, t0.Add(afterReady), notReady, afterReady)); diff != "" {
		t.Errorf("at 20 s (-want +got):\n%s", diff)
	}
	if got := stuckPods(since, was, t0.Add(afterReady-time.Second), notReady, afterReady); len(got) != 0 {
		t.Errorf("at 19 s: %v", got)
	}
	if diff := cmp.Diff([]string{"new", "old"}, stuckPods(since, was, t0.Add(notReady), notReady, afterReady)); diff != "" {
		t.Errorf("at 60 s (-want +got):\n%s", diff)
	}
	if was = trackReady(was, []heuristics.PodSample{waiting("new")}); len(was) != 0 {
		t.Errorf("a pod gone must drop out: %v", was)
	}
}

func TestPickStuckToDelete(t *testing.T) {
	interval := 10 * time.Minute
	tests := []struct {
		name       string
		stuck      []string
		lastDelete time.Time
		now        time.Time
		want       string
		ok         bool
	}{
		{"none stuck", nil, time.Time{}, t0, "", false},
		{"first deletion, first pod only", []string{"a", "b"}, time.Time{}, t0, "a", true},
		{"rate limited", []string{"b"}, t0, t0.Add(interval - time.Second), "", false},
		{"after interval", []string{"b"}, t0, t0.Add(interval), "b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := pickStuckToDelete(tt.stuck, tt.lastDelete, tt.now, interval)
			if got != tt.want || ok != tt.ok {
				t.Errorf("pickStuckToDelete = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestClampAndDirection(t *testing.T) {
	for _, tt := range []struct{ n, lo, hi, want int32 }{{5, 1, 10, 5}, {0, 1, 10, 1}, {11, 1, 10, 10}, {-3, 2, 2, 2}} {
		if got := clamp(tt.n, tt.lo, tt.hi); got != tt.want {
			t.Errorf("clamp(%d, %d, %d) = %d, want %d", tt.n, tt.lo, tt.hi, got, tt.want)
		}
	}
	for _, tt := range []struct {
		from, to int32
		want     string
	}{{1, 2, "up"}, {2, 1, "down"}, {2, 2, "none"}} {
		if got := direction(tt.from, tt.to); got != tt.want {
			t.Errorf("direction(%d, %d) = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}

func BenchmarkApplyGuards(b *testing.B) {
	in := guardInput{Current: 5, Recommended: heuristics.Decision{Valid: true, Replicas: 3}, Min: 1, Max: 10, Stale: true}
	for b.Loop() {
		_ = applyGuards(in)
	}
}

func BenchmarkSanitizePods(b *testing.B) {
	pods := make([]heuristics.PodSample, 100)
	for i := range pods {
		pods[i] = pod("p")
	}
	for b.Loop() {
		_ = sanitizePods(pods)
	}
}
