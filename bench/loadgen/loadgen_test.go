package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

// docs/hsds.md: h5pyd retries with urllib3 backoff_factor=1: waits 0, 2, 4, 8 ... s, capped at 120 s.
func TestBackoffFollowsUrllib3Schedule(t *testing.T) {
	r := H5pydRetry()
	var got []time.Duration
	for n := 1; n <= 10; n++ {
		got = append(got, r.Backoff(n))
	}
	s := time.Second
	want := []time.Duration{0, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 120 * s, 120 * s, 120 * s}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff schedule (-want +got):\n%s", diff)
	}
	var total time.Duration
	for _, d := range got {
		total += d
	}
	// docs/hsds.md: "10 retries (about 486 s of waiting in all)".
	if total != 486*s {
		t.Errorf("total wait over 10 retries = %v, want 486s", total)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	err := Config{Mix: []Request{{Weight: -1}}, Retry: Retry{Retries: -1}}.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, s := range []string{"targets", "mix[0]", "mix: weights", "maxOutstanding", "retry.retries"} {
		if !contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// docs/hsds.md: POST is never retried; GET/PUT are, and Retry-After is honoured.
func TestRetriesGetButNeverPost(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1)%2 == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "503: Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	r := H5pydRetry()
	r.BackoffFactor = time.Millisecond
	for _, tc := range []struct {
		method                   string
		attempts, succ, failures int64
	}{
		{http.MethodGet, 2, 1, 0},  // 503, then 200 after one retry
		{http.MethodPost, 1, 0, 1}, // 503, no retry: a user-visible failure
	} {
		hits.Store(0)
		g, err := New(Config{Targets: []string{srv.URL}, Mix: []Request{{Method: tc.method, Path: "/x", Weight: 1}}, Retry: r, MaxOutstanding: 4})
		if err != nil {
			t.Fatal(err)
		}
		g.do(context.Background(), g.cfg.Mix[0], srv.URL)
		s := g.Stats()
		if s.Attempts != tc.attempts || s.Succeeded != tc.succ || s.Failed != tc.failures {
			t.Errorf("%s: attempts=%d succeeded=%d failed=%d, want %d/%d/%d", tc.method, s.Attempts, s.Succeeded, s.Failed, tc.attempts, tc.succ, tc.failures)
		}
	}
}

// Load above a fake HSDS pod's task gate produces 503s the clients see; the books balance.
func TestRunAgainstFakeHSDS(t *testing.T) {
	cfg := fakehsds.DefaultConfig()
	cfg.MaxTaskCount = 20
	cfg.ServiceTime = fakehsds.Fixed(20 * time.Millisecond)
	pod, err := fakehsds.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); pod.Wait() })
	sn, _, err := pod.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := H5pydRetry()
	r.Retries = 0
	g, err := New(Config{Targets: []string{sn}, Retry: r, MaxOutstanding: 1000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	s := g.Run(ctx, time.Second, func(time.Duration) float64 { return 400 })
	if s.Requests < 200 {
		t.Fatalf("only %d requests in 1 s at 400/s", s.Requests)
	}
	if s.ByStatus[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 at 400/s against max_task_count=20: %v", s.ByStatus)
	}
	if s.Succeeded+s.Failed != s.Requests {
		t.Errorf("succeeded %d + failed %d != requests %d", s.Succeeded, s.Failed, s.Requests)
	}
	truth := pod.Truth()
	var served int64
	for _, v := range truth.Requests {
		served += v
	}
	if served != s.Attempts {
		t.Errorf("fake HSDS answered %d requests, clients counted %d attempts", served, s.Attempts)
	}
}
