package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// stubPoller commits up or down results, as told.
type stubPoller struct {
	st    *Store
	clk   *clocktesting.FakeClock
	up    atomic.Bool
	polls atomic.Int64
}

func (p *stubPoller) Poll(context.Context) {
	r := Result{Up: p.up.Load()}
	if !r.Up {
		r.Errors = []error{&ScrapeError{Reason: ReadErrorConnect, Err: errors.New("refused")}}
	}
	p.st.Commit(p.clk.Now(), r)
	p.polls.Add(1)
}

func probeCode(t *testing.T, h http.Handler, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}

func TestLoopProbes(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	st := NewStore(schema.SourceInfo, false, nil)
	p := &stubPoller{st: st, clk: clk}
	l := NewLoop(p, st, clk, time.Second, 5*time.Second)
	h := l.Handler(registryFor(t, st))

	if probeCode(t, h, "/healthz") != 200 || probeCode(t, h, "/readyz") != 503 {
		t.Fatalf("at start: want healthz 200, readyz 503")
	}
	p.Poll(context.Background()) // down
	if probeCode(t, h, "/readyz") != 503 {
		t.Errorf("readyz after a failed read: want 503")
	}
	p.up.Store(true)
	p.Poll(context.Background())
	if probeCode(t, h, "/readyz") != 200 {
		t.Errorf("readyz after a good read: want 200")
	}
	p.up.Store(false)
	p.Poll(context.Background())
	if probeCode(t, h, "/readyz") != 200 {
		t.Errorf("readyz stays 200 once HSDS was read (up=0 tells the rest)")
	}
	clk.Step(6 * time.Second) // no poll finished for longer than stale
	if probeCode(t, h, "/healthz") != 503 {
		t.Errorf("healthz with a stalled poll loop: want 503")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(rec.Body.String(), schema.Up+" 0") {
		t.Errorf("/metrics lacks %s 0:\n%s", schema.Up, rec.Body.String())
	}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "hsds_agent_") {
			t.Errorf("/metrics serves a name outside agent/schema: %s", line)
		}
	}
}

func TestLoopRunTicks(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	st := NewStore(schema.SourceInfo, false, nil)
	p := &stubPoller{st: st, clk: clk}
	l := NewLoop(p, st, clk, time.Second, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	testwait.For(t, "the first poll", func() bool { return p.polls.Load() == 1 }) // polls at once
	for i := int64(2); i <= 4; i++ {
		testwait.For(t, "the ticker", clk.HasWaiters)
		clk.Step(time.Second)
		testwait.For(t, "the next poll", func() bool { return p.polls.Load() == i })
	}
	if err := l.Healthz(); err != nil {
		t.Errorf("healthz while ticking: %v", err)
	}
}
