package fakehsds

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	testclock "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// epoch is the fake clock's start, so start_time and goldens are stable.
var epoch = time.Unix(1_700_000_000, 0)

// newTestPod builds a pod on a fake clock with a fixed 5ms service time; mutate adjusts the config.
func newTestPod(t *testing.T, mutate func(*Config)) (*Pod, *testclock.FakeClock) {
	t.Helper()
	clk := testclock.NewFakeClock(epoch)
	cfg := DefaultConfig()
	cfg.Clock = clk
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, clk
}

func do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// inflight starts a request that blocks on the fake clock; its recorder arrives on the channel
// when it ends. The test must step the clock (or let the gate reject it) so that it ends.
func inflight(h http.Handler, method, target string) <-chan *httptest.ResponseRecorder {
	ch := make(chan *httptest.ResponseRecorder, 1)
	go func() { ch <- do(h, method, target) }()
	return ch
}

func waitTasks(t *testing.T, p *Pod, want int) {
	t.Helper()
	testwait.For(t, "SN tasks", func() bool { return p.Truth().TasksActive == want })
}

// infoOf decodes GET /info of h.
func infoOf(t *testing.T, h http.Handler) infoResponse {
	t.Helper()
	rec := do(h, http.MethodGet, "/info")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /info: status %d", rec.Code)
	}
	var in infoResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &in); err != nil {
		t.Fatalf("decode /info: %v", err)
	}
	return in
}
