package fakehsds

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds"
)

// workerProbe is one side of TestRealChunkWorkersLiveUntilTheSelectionEnds: an SN in a 2-DN
// cluster, a dataset value path whose selection touches 32 chunks, and a way to make some of
// those chunks hang and to let them go.
type workerProbe struct {
	name      string
	sn        string
	valuePath string // /datasets/{id}/value?... touching 32 chunks
	hang      func() // from now on, part of the chunks' DN calls hang
	release   func()
}

// workerFigures: /info num_tasks after a gated request on an idle SN, and after one sent while a
// 32-chunk selection hangs on part of its chunks.
type workerFigures struct{ idle, during int }

func probeWorkers(t *testing.T, ctx context.Context, pr workerProbe) workerFigures {
	t.Helper()
	var f workerFigures
	gated := pr.sn + "/?domain=" + realhsds.Domain
	// One read first: the SN caches the dataset's metadata, so the hanging read goes straight to
	// its chunks (else it may wait on the stopped DN for the metadata, before any worker starts).
	if _, c, err := realhsds.Do(ctx, http.MethodGet, pr.sn+pr.valuePath, nil, false); err != nil || c != http.StatusOK {
		t.Fatalf("%s: first read: %d %v", pr.name, c, err)
	}
	if _, _, err := realhsds.Do(ctx, http.MethodGet, gated, nil, false); err != nil {
		t.Fatalf("%s: %v", pr.name, err)
	}
	f.idle = readInfo(ctx, t, pr.sn).numTasks

	pr.hang()
	released := false
	defer func() {
		if !released {
			pr.release()
		}
	}()
	var code atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, c, err := realhsds.Do(ctx, http.MethodGet, pr.sn+pr.valuePath, nil, false)
		if err != nil {
			t.Errorf("%s: selection: %v", pr.name, err)
		}
		code.Store(int64(c))
	}()
	time.Sleep(time.Second) // the chunks on the running DN are done, the others hang
	gatedDone := make(chan struct{})
	go func() { // its DN may be the hanging one: its count is taken on arrival all the same
		defer close(gatedDone)
		_, _, _ = realhsds.Do(ctx, http.MethodGet, gated, nil, false)
	}()
	time.Sleep(300 * time.Millisecond)
	f.during = readInfo(ctx, t, pr.sn).numTasks
	pr.release()
	released = true
	<-done
	<-gatedDone
	if c := code.Load(); c != http.StatusOK {
		t.Errorf("%s: the selection answered %d after the release, want 200", pr.name, c)
	}
	return f
}

// TestRealChunkWorkersLiveUntilTheSelectionEnds decides how long a selection's chunk workers hold
// the SN's gate. HSDS 0.9.4's ChunkCrawler starts min(chunks, 16 x dn_count) workers, each takes
// the next chunk off a queue, and crawl() cancels them only after the queue's join; so a worker
// whose chunks are done stays an unfinished asyncio task, counted by the gate, until the whole
// selection is. The real side: 2 SN/DN pairs, a dataset of 32 one-MiB chunks read with a stride
// that touches each once (32 workers), the DN of the second pair stopped (SIGSTOP) so the
// chunks it owns hang while the first DN's are served at once; a gated request then samples the
// SN's task count (/info num_tasks). If workers ended with their own chunk, only the hanging
// chunks' workers would count; they all do. The fake does the same with a service time that
// hangs every other chunk. The simulator (bench/sim, TestWorkersHeldUntilTheLastItem) follows.
func TestRealChunkWorkersLiveUntilTheSelectionEnds(t *testing.T) {
	const chunks, workers = 32, 32 // 16 x 2 DNs
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c := realhsds.Start(t, realhsds.Options{Pods: 2, MaxTaskCount: 1000})
	sn := c.Pods[0].SN.URL()
	if err := realhsds.CreateDomain(ctx, sn); err != nil {
		t.Fatal(err)
	}
	body := `{"type":"H5T_STD_I32LE","shape":[8388608],"creationProperties":{"layout":{"class":"H5D_CHUNKED","dims":[262144]}}}`
	out, code, err := realhsds.Do(ctx, http.MethodPost, sn+"/datasets?domain="+realhsds.Domain, strings.NewReader(body), true)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create dataset: %d %v %s", code, err, out)
	}
	var ds struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &ds); err != nil {
		t.Fatal(err)
	}
	dn := c.Pods[1].DN.PID()
	signal := func(sig syscall.Signal) {
		if err := syscall.Kill(dn, sig); err != nil {
			t.Errorf("signal %v to DN %d: %v", sig, dn, err)
		}
	}
	real := probeWorkers(t, ctx, workerProbe{
		name: "real", sn: sn,
		valuePath: "/datasets/" + ds.ID + "/value?domain=" + realhsds.Domain + "&select=%5B0:8388608:262144%5D",
		hang:      func() { signal(syscall.SIGSTOP) },
		release:   func() { signal(syscall.SIGCONT) },
	})
	if log := c.Pods[0].SN.Log(); !strings.Contains(log, "ChunkCrawler max_tasks 32 = await queue.join - count: 32") {
		t.Errorf("the real SN did not crawl 32 chunks with 32 workers:\n%s", c.Logs())
	}
	t.Logf("real HSDS 0.9.4: num_tasks idle %d, with a 32-chunk selection hanging on one of 2 DNs %d", real.idle, real.during)
	c.Stop()

	hanging := &hangEveryOther{}
	cfg := Measured094()
	cfg.DNCount = 2
	cfg.MaxTaskCount = 1000
	cfg.ServiceTime = hanging
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fakeSN, _ := serveForTest(t, p)
	fake := probeWorkers(t, ctx, workerProbe{
		name: "fake", sn: fakeSN, valuePath: "/datasets/d1/value?chunks=32",
		hang:    func() { hanging.on.Store(true) },
		release: func() { hanging.on.Store(false) },
	})
	t.Logf("fake: num_tasks idle %d, with the selection hanging %d", fake.idle, fake.during)

	for _, s := range []struct {
		name string
		f    workerFigures
	}{{"real", real}, {"fake", fake}} {
		if got := s.f.during - s.f.idle; got < workers {
			t.Errorf("%s: the hanging selection adds %d tasks, want its %d workers (and its own tasks)", s.name, got, workers)
		}
	}
	if d := (real.during - real.idle) - (fake.during - fake.idle); d < -2 || d > 2 {
		t.Errorf("the selection's tasks: real %d, fake %d", real.during-real.idle, fake.during-fake.idle)
	}
}

// hangEveryOther is a service time that, while on, makes every other draw take 3 s (a chunk on
// a stopped DN) and the others 1 ms; off, every draw takes 1 ms. A draw already made keeps its
// time, as a request to a DN that resumes completes late.
type hangEveryOther struct {
	on atomic.Bool
	n  atomic.Int64
}

func (h *hangEveryOther) Sample(*rand.Rand) time.Duration {
	if h.on.Load() && h.n.Add(1)%2 == 0 {
		return 3 * time.Second
	}
	return time.Millisecond
}
