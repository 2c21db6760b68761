package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// HSDSMix: per domain a domain GET, a dataset read and a POST selection, weights adding up to 1
// with HSDSPostShare of POSTs.
func TestHSDSMix(t *testing.T) {
	mix := HSDSMix([]HSDSDomain{{Path: "/home/a.h5", Dataset: "d-1"}, {Path: "/home/b.h5", Dataset: "d-2"}})
	var total, post float64
	var paths []string
	for _, r := range mix {
		total += r.Weight
		if r.Method == http.MethodPost {
			post += r.Weight
			if r.Body != HSDSPoints {
				t.Errorf("POST %s: body %q, want the point selection", r.Path, r.Body)
			}
		}
		paths = append(paths, r.Method+" "+r.Path)
	}
	want := []string{"GET /?domain=/home/a.h5", "GET /datasets/d-1/value?select=[0:1000]&domain=/home/a.h5", "POST /datasets/d-1/value?domain=/home/a.h5",
		"GET /?domain=/home/b.h5", "GET /datasets/d-2/value?select=[0:1000]&domain=/home/b.h5", "POST /datasets/d-2/value?domain=/home/b.h5"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("mix (-want +got):\n%s", diff)
	}
	if d := total - 1; d > 1e-9 || d < -1e-9 || post != HSDSPostShare {
		t.Errorf("weights add up to %g (want 1), POSTs %g (want %g)", total, post, HSDSPostShare)
	}
}

// With TargetFunc every attempt, retries too, goes to the next target; each carries the basic
// auth and the JSON body; OnAttempt sees every attempt and marks the last one final.
func TestTargetFuncAuthBodyAndOnAttempt(t *testing.T) {
	type seen struct{ Srv, Auth, CType, Body string }
	var mu sync.Mutex
	var got []seen
	handler := func(name string, code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, _ := r.BasicAuth()
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, seen{name, u + ":" + p, r.Header.Get("Content-Type"), string(b)})
			mu.Unlock()
			w.WriteHeader(code)
		})
	}
	a := httptest.NewServer(handler("a", http.StatusInternalServerError))
	b := httptest.NewServer(handler("b", http.StatusOK))
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	var attempts []Attempt
	r := H5pydRetry()
	r.BackoffFactor = time.Millisecond
	g, err := New(Config{TargetFunc: func() []string { return []string{a.URL, b.URL} },
		Mix: []Request{{Method: http.MethodGet, Path: "/x", Body: `{"k":1}`, Weight: 1}}, Username: "u", Password: "p",
		Retry: r, MaxOutstanding: 4, OnAttempt: func(at Attempt) { attempts = append(attempts, at) }})
	if err != nil {
		t.Fatal(err)
	}
	req, target := g.pick()
	if target != "" {
		t.Errorf("pick with TargetFunc chose %q; the target is chosen per attempt", target)
	}
	g.do(context.Background(), req, target)
	want := []seen{{"a", "u:p", "application/json", `{"k":1}`}, {"b", "u:p", "application/json", `{"k":1}`}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests the servers saw (-want +got):\n%s", diff)
	}
	if len(attempts) != 2 || attempts[0].Code != 500 || attempts[0].Final || attempts[1].Code != 200 || !attempts[1].Final || attempts[1].Try != 1 {
		t.Errorf("OnAttempt saw %+v; want a 500 (try 0, not final) then a 200 (try 1, final)", attempts)
	}
	if s := g.Stats(); s.Succeeded != 1 || s.Attempts != 2 {
		t.Errorf("stats %+v", s)
	}
}

// No target (no pod running): the attempt fails with status 0 and is not retried.
func TestTargetFuncWithoutTargets(t *testing.T) {
	g, err := New(Config{TargetFunc: func() []string { return nil }, Retry: H5pydRetry(), MaxOutstanding: 1})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := g.pick()
	g.do(context.Background(), req, "")
	if s := g.Stats(); s.Failed != 1 || s.ByStatus[0] != 1 {
		t.Errorf("stats %+v, want one failed attempt with status 0", s)
	}
}

// CreateHSDSDomains: the folders, then per domain the domain, its dataset, and one of each request
// of the mix, all as admin.
func TestCreateHSDSDomains(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != HSDSAdmin || p != HSDSAdmin {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		if r.Method == http.MethodPost && r.URL.Path == "/datasets" {
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"d-7"}`)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	ds, err := CreateHSDSDomains(context.Background(), srv.URL, "/home/t", 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]HSDSDomain{{Path: "/home/t/d0.h5", Dataset: "d-7"}}, ds); diff != "" {
		t.Errorf("domains (-want +got):\n%s", diff)
	}
	if len(calls) != 7 || calls[0] != "PUT /?domain=/home" || calls[3] != "POST /datasets?domain=/home/t/d0.h5" {
		t.Errorf("calls: %q", calls)
	}
}
