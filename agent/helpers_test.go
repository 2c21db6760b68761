package agent

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	clocktesting "k8s.io/utils/clock/testing"
)

// aboutBody is an HSDS 0.9.4 /about answer, trimmed to what the agent reads and the state.
var aboutBody = []byte(`{"state": "READY", "hsds_version": "0.9.4", "node_count": 1}`)

// t0 is the fake clocks' start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture is an HTTP server answering fixed bodies by path; bodies can be swapped at run time.
type fixture struct {
	mu     sync.Mutex
	bodies map[string][]byte
	codes  map[string]int
	delay  time.Duration
	srv    *httptest.Server
}

func newFixture(t testing.TB, bodies map[string][]byte) *fixture {
	t.Helper()
	f := &fixture{bodies: bodies, codes: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	body, ok := f.bodies[r.URL.Path]
	code, delay := f.codes[r.URL.Path], f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if code != 0 {
		w.WriteHeader(code)
	}
	_, _ = w.Write(body)
}

func (f *fixture) set(path string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[path] = body
}

func (f *fixture) setCode(path string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[path] = code
}

func (f *fixture) setDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

func (f *fixture) url() string { return f.srv.URL }

func fakeClock() *clocktesting.FakeClock { return clocktesting.NewFakeClock(t0) }

// registryFor registers a collector over st on a fresh registry.
func registryFor(t testing.TB, st Snapshotter) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(NewCollector(st)); err != nil {
		t.Fatal(err)
	}
	return reg
}

// exposition renders reg in the text format.
func exposition(t testing.TB, reg *prometheus.Registry) []byte {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// series returns every sample of st as "name{l="v",...}" -> value, labels sorted.
func series(t testing.TB, st Snapshotter) map[string]float64 {
	t.Helper()
	mfs, err := registryFor(t, st).Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+"="+`"`+lp.GetValue()+`"`)
			}
			sort.Strings(labels)
			v := m.GetGauge().GetValue()
			if m.GetCounter() != nil {
				v = m.GetCounter().GetValue()
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// names returns the metric names present in st.
func names(t testing.TB, st Snapshotter) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for s := range series(t, st) {
		out[s[:strings.IndexByte(s, '{')]] = true
	}
	return out
}
