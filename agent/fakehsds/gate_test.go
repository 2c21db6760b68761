package fakehsds

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// docs/hsds.md "Where 503 comes from": one request fans out to up to 16 x dn_count chunk workers, or
// 40 for a domain crawl, "so a single SN's capacity in requests shrinks as the cluster grows".
// With max_task_count 100 a request is admitted while live tasks + 1 <= 100, and each admitted
// request holds 1 handler task + its workers: admitted = floor(99 / (1 + workers)) + 1.
func TestGate_FanOutShrinksCapacityAsDNCountGrows(t *testing.T) {
	tests := []struct {
		name         string
		dnCount      int
		method, path string
		wantAdmitted int
	}{
		{"chunk read dn=1", 1, "GET", "/datasets/d1/value", 6},
		{"chunk read dn=2", 2, "GET", "/datasets/d1/value", 4},
		{"chunk write dn=4", 4, "PUT", "/datasets/d1/value", 2},
		{"selection dn=8", 8, "POST", "/datasets/d1/value", 1},
		{"chunk read dn=4 capped at 2 chunks", 4, "GET", "/datasets/d1/value?chunks=2", 34},
		{"domain crawl", 1, "GET", "/", 3},
		{"simple request", 8, "GET", "/groups/g1", 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, clk := newTestPod(t, func(c *Config) { c.DNCount = tc.dnCount })
			got, live := 0, 0
			var pending []<-chan *httptest.ResponseRecorder
			for {
				ch := inflight(p.SN(), tc.method, tc.path)
				testwait.For(t, "admission or rejection", func() bool {
					return p.Truth().TasksActive > live || p.Truth().Rejected[schema.CauseOverload] > 0
				})
				if p.Truth().Rejected[schema.CauseOverload] > 0 {
					if rec := <-ch; rec.Code != http.StatusServiceUnavailable {
						t.Fatalf("rejected request: status %d, want 503", rec.Code)
					}
					break
				}
				got++
				live = p.Truth().TasksActive
				pending = append(pending, ch)
			}
			if got != tc.wantAdmitted {
				t.Errorf("admitted %d requests before the first 503, want %d", got, tc.wantAdmitted)
			}
			testwait.For(t, "timers", func() bool { return clk.HasWaiters() })
			clk.Step(DefaultServiceTime)
			for _, ch := range pending {
				if rec := <-ch; rec.Code >= 300 {
					t.Errorf("admitted request: status %d", rec.Code)
				}
			}
			waitTasks(t, p, 0)
		})
	}
}

// docs/hsds.md: "Tasks are not requests: idle keep-alive connections count" (aiohttp runs one task
// per connection; hsds_logger.request counts all unfinished tasks, its own included).
func TestGate_IdleKeepAliveConnectionsCountOnRealSocket(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) {
		c.MaxTaskCount = 5
		c.ServiceTime = Fixed(0)
	})
	snURL, _ := serveForTest(t, p)
	idle := dialIdle(t, snURL, 3)
	waitTasks(t, p, len(idle))

	client := newClient(t)
	get := func() int {
		t.Helper()
		rsp, err := client.Get(snURL + "/groups/g1")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		drain(t, rsp)
		return rsp.StatusCode
	}
	// 3 idle + own connection + own handler = 5: not above 5.
	if got := get(); got != http.StatusOK {
		t.Fatalf("with 3 idle connections: status %d, want 200", got)
	}
	// The client's connection is now idle keep-alive too: 4 connections + handler = 5.
	waitTasks(t, p, 4)
	if got := get(); got != http.StatusOK {
		t.Fatalf("with 4 open connections: status %d, want 200", got)
	}
	// One more idle connection: 5 + handler = 6 > 5.
	dialIdle(t, snURL, 1)
	waitTasks(t, p, 5)
	if got := get(); got != http.StatusServiceUnavailable {
		t.Fatalf("with 5 open connections: status %d, want 503", got)
	}
	want := map[string]int64{schema.CauseOverload: 1}
	if diff := cmp.Diff(want, p.Truth().Rejected); diff != "" {
		t.Errorf("Truth.Rejected (-want +got):\n%s", diff)
	}
	if got := infoOf(t, p.SN()).ReqCount.NumTasks; got != 6 {
		t.Errorf("req_count.num_tasks = %d, want 6 (5 connections + the request's task)", got)
	}
}

// docs/hsds.md "What HSDS exposes": req_count.<METHOD> counts gated requests including those rejected
// by the task gate but not those rejected for not being READY; every gate rejection logs one WARN
// (hsds_logger.request; the not-READY rejection logs one WARN too: "returning 503 - node_state").
func TestGate_ReqCountAndWarnPerRejection(t *testing.T) {
	p, clk := newTestPod(t, func(c *Config) { c.MaxTaskCount = 1 })
	held := inflight(p.SN(), "GET", "/groups/g1") // holds the only task slot
	waitTasks(t, p, 1)

	steps := []struct {
		name      string
		setup     func()
		method    string
		wantCode  int
		wantCount reqCount
		wantWarn  int64
	}{
		{"gate rejection is counted and warns", nil, "PUT", 503, reqCount{Get: 1, Put: 1, NumTasks: 2}, 1},
		{"second gate rejection", nil, "DELETE", 503, reqCount{Get: 1, Put: 1, Delete: 1, NumTasks: 2}, 2},
		{"not READY is not counted but warns", func() { mustSetState(t, p, "sn", schema.StateWaiting) },
			"POST", 503, reqCount{Get: 1, Put: 1, Delete: 1, NumTasks: 2}, 3},
		{"HEAD is gated but not counted", func() { mustSetState(t, p, "sn", schema.StateReady) },
			"HEAD", 503, reqCount{Get: 1, Put: 1, Delete: 1, NumTasks: 2}, 4},
	}
	for _, s := range steps {
		if s.setup != nil {
			s.setup()
		}
		if rec := do(p.SN(), s.method, "/groups/g1"); rec.Code != s.wantCode {
			t.Errorf("%s: status %d, want %d", s.name, rec.Code, s.wantCode)
		}
		in := infoOf(t, p.SN())
		if diff := cmp.Diff(s.wantCount, in.ReqCount); diff != "" {
			t.Errorf("%s: req_count (-want +got):\n%s", s.name, diff)
		}
		if in.LogStats.Warn != s.wantWarn {
			t.Errorf("%s: log_stats.WARN = %d, want %d", s.name, in.LogStats.Warn, s.wantWarn)
		}
	}
	clk.Step(DefaultServiceTime)
	<-held
	want := map[string]int64{schema.CauseOverload: 3, schema.CauseNotReady: 1}
	if diff := cmp.Diff(want, p.Truth().Rejected); diff != "" {
		t.Errorf("Truth.Rejected (-want +got):\n%s", diff)
	}
}

// docs/hsds.md: req_count.num_tasks is "a stale sample taken at the last gated request": it keeps
// the value of the last gated request after the tasks are gone, and /info does not refresh it.
func TestGate_NumTasksIsStaleSample(t *testing.T) {
	p, clk := newTestPod(t, nil)
	read := inflight(p.SN(), "GET", "/datasets/d1/value") // 1 handler + 16 workers
	waitTasks(t, p, 17)
	simple := inflight(p.SN(), "GET", "/groups/g1") // samples 17 + its own task
	waitTasks(t, p, 18)
	testwait.For(t, "timers", func() bool { return clk.HasWaiters() })
	clk.Step(DefaultServiceTime)
	<-read
	<-simple
	waitTasks(t, p, 0)
	for i := 0; i < 2; i++ {
		if got := infoOf(t, p.SN()).ReqCount.NumTasks; got != 18 {
			t.Fatalf("/info #%d: num_tasks = %d, want the stale 18 with 0 tasks live", i, got)
		}
	}
}

// HSDS's crawlers cancel their workers only after the queue's join (chunk_crawl.py): every worker
// of a request lives until its last item is done, so the live count holds the whole fan-out and
// then drops at once (real 0.9.4: TestRealChunkWorkersLiveUntilTheSelectionEnds). With ?chunks=N
// above 16 x dnCount the workers share the chunks: the request takes about N/workers draws.
func TestWork_WorkersLiveUntilTheLastItem(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		minDraws   float64 // the makespan, in fixed 10 ms draws
	}{
		{"one chunk per worker", "/datasets/d1/value", 1},
		{"four chunks per worker", "/datasets/d1/value?chunks=64", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, clk := newTestPod(t, func(c *Config) { c.ServiceTime = Fixed(10 * time.Millisecond) })
			done := inflight(p.SN(), "GET", tc.path)
			waitTasks(t, p, 17)
			seen := map[int]bool{}
			start := clk.Now()
			for p.Truth().TasksActive > 0 {
				testwait.For(t, "timer or end", func() bool { return clk.HasWaiters() || p.Truth().TasksActive == 0 })
				seen[p.Truth().TasksActive] = true
				clk.Step(time.Millisecond)
			}
			if rec := <-done; rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if len(seen) != 2 || !seen[17] {
				t.Errorf("saw task counts %v: want 17 (16 workers and the request) until the end, then 0", seen)
			}
			if took := clk.Since(start); took < time.Duration(tc.minDraws*10)*time.Millisecond {
				t.Errorf("the workers were released after %s: want at least %g draws of 10ms", took, tc.minDraws)
			}
		})
	}
}

func mustSetState(t *testing.T, p *Pod, node, state string) {
	t.Helper()
	if err := p.SetState(node, state); err != nil {
		t.Fatalf("SetState(%s, %s): %v", node, state, err)
	}
}

func ExamplePod_SN() {
	p, _ := New(DefaultConfig())
	rec := do(p.SN(), "GET", "/info")
	fmt.Println(rec.Code)
	// Output: 200
}
