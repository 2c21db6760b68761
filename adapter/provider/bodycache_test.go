package provider_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
)

const listPath = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/hsds_503_rate?labelSelector=app%3Dhsds"

// bodyFixture serves the cache fixture's store through an uncached provider (counting its
// computations) behind a body cache and the test authorizer.
func bodyFixture(t *testing.T) (*cacheFixture, *prometheus.Registry, *httptest.Server) {
	t.Helper()
	f := newCacheFixture(t)
	reg := prometheus.NewRegistry()
	bc, err := provider.NewBodyCache(f.st, f.clk, provider.DefaultMaxAge, reg)
	if err != nil {
		t.Fatal(err)
	}
	return f, reg, serveWith(t, f.next, bc, true)
}

func get(t *testing.T, url, user string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set(userHeader, user)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func bodyCounts(hit, miss int) string {
	return `
# HELP hsds_adapter_api_body_cache_requests_total Custom-metrics list requests by encoded-answer cache result: hit (cached body), shared (waited for a concurrent request's body), miss (ran the API handler).
# TYPE hsds_adapter_api_body_cache_requests_total counter
hsds_adapter_api_body_cache_requests_total{result="hit"} ` + strconv.Itoa(hit) + `
hsds_adapter_api_body_cache_requests_total{result="miss"} ` + strconv.Itoa(miss) + `
hsds_adapter_api_body_cache_requests_total{result="shared"} 0
`
}

// TestBodyCacheAfterAuthorization: a cached body is written only to an authenticated, authorized
// caller; the others are refused before the cache is consulted.
func TestBodyCacheAfterAuthorization(t *testing.T) {
	f, reg, ts := bodyFixture(t)
	status, want := get(t, ts.URL+listPath, allowedUser)
	if status != http.StatusOK || !strings.Contains(want, `"hsds_503_rate"`) {
		t.Fatalf("authorized: %d %s", status, want)
	}
	for _, tt := range []struct {
		user   string
		status int
	}{{"", http.StatusUnauthorized}, {"eve", http.StatusForbidden}} {
		status, body := get(t, ts.URL+listPath, tt.user)
		if status != tt.status || strings.Contains(body, "hsds_503_rate\"") {
			t.Errorf("user %q: status %d (want %d), body %s", tt.user, status, tt.status, body)
		}
	}
	if status, got := get(t, ts.URL+listPath, allowedUser); status != http.StatusOK || got != want {
		t.Errorf("cached answer: %d, body differs: %t", status, got != want)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(bodyCounts(1, 1))); err != nil {
		t.Error(err)
	}
	if n := f.next.calls.Load(); n != 1 {
		t.Errorf("%d computations, want 1", n)
	}
}

func TestBodyCacheInvalidation(t *testing.T) {
	f, _, ts := bodyFixture(t)
	steps := []struct {
		name      string
		do        func()
		header    []string
		wantCalls int64
		wantIn    string
	}{
		{name: "first", wantCalls: 1, wantIn: `"value":"1"`},
		{name: "hit", wantCalls: 1, wantIn: `"value":"1"`},
		{name: "pretty for curl is another body", header: []string{"User-Agent", "curl/8.5"}, wantCalls: 2, wantIn: `"value": "1"`},
		{name: "store write", do: func() { f.record("a", 1, 4) }, wantCalls: 3, wantIn: `"value":"2"`},
		{name: "same period", do: func() { f.clk.Step(100 * time.Millisecond) }, wantCalls: 3, wantIn: `"value":"2"`},
		{name: "next period", do: func() { f.clk.Step(provider.DefaultMaxAge) }, wantCalls: 4, wantIn: `"value":"2"`},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		status, body := get(t, ts.URL+listPath, allowedUser, st.header...)
		if status != http.StatusOK || !strings.Contains(body, st.wantIn) {
			t.Errorf("%s: status %d, body without %s: %s", st.name, status, st.wantIn, body)
		}
		if n := f.next.calls.Load(); n != st.wantCalls {
			t.Errorf("%s: %d computations, want %d", st.name, n, st.wantCalls)
		}
	}
}

// TestBodyCacheOnlyLists: single objects, errors and discovery go straight to the API handler.
func TestBodyCacheOnlyLists(t *testing.T) {
	_, reg, ts := bodyFixture(t)
	for _, path := range []string{
		"/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/a/hsds_503_rate",
		"/apis/custom.metrics.k8s.io/v1beta2",
		"/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/no_such_metric",
	} {
		get(t, ts.URL+path, allowedUser)
		get(t, ts.URL+path, allowedUser)
	}
	// The unknown metric's 404 passed through the cache (a miss each time) but was not stored.
	if err := testutil.GatherAndCompare(reg, strings.NewReader(bodyCounts(0, 2))); err != nil {
		t.Error(err)
	}
}

// TestBodyCacheConcurrentMisses: concurrent misses run the handler once and all get its answer.
func TestBodyCacheConcurrentMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newCacheFixture(t)
		bc, err := provider.NewBodyCache(f.st, f.clk, provider.DefaultMaxAge, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		calls := 0
		h := bc.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls++
			<-release
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"items":[]}`)
		}))
		const callers = 10
		recs := make([]*httptest.ResponseRecorder, callers)
		var wg sync.WaitGroup
		for i := range callers {
			r := httptest.NewRequest(http.MethodGet, listPath, nil)
			r = r.WithContext(request.WithRequestInfo(r.Context(), &request.RequestInfo{IsResourceRequest: true,
				APIGroup: "custom.metrics.k8s.io", Name: "*", Verb: "get"}))
			recs[i] = httptest.NewRecorder()
			wg.Go(func() { h.ServeHTTP(recs[i], r) })
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		if calls != 1 {
			t.Errorf("handler ran %d times, want 1", calls)
		}
		for i, rec := range recs {
			got := []string{rec.Result().Status, rec.Header().Get("Content-Type"), rec.Body.String()}
			if diff := cmp.Diff([]string{"200 OK", "application/json", `{"items":[]}`}, got); diff != "" {
				t.Errorf("caller %d (-want +got):\n%s", i, diff)
			}
		}
	})
}

func TestNewBodyCacheRejectsZeroMaxAge(t *testing.T) {
	f := newCacheFixture(t)
	if _, err := provider.NewBodyCache(f.st, f.clk, 0, prometheus.NewRegistry()); err == nil {
		t.Error("NewBodyCache with max-age 0 succeeded; want an error")
	}
}

// TestBodyCacheStalePodLeaves: with no store write, a pod whose reading ages past stale-after
// leaves the answers within one max-age period.
func TestBodyCacheStalePodLeaves(t *testing.T) {
	f, _, ts := bodyFixture(t)
	f.record("b", 4, 2)  // b is fresher than a (last read at t0)
	f.clk.SetTime(at(5)) // a is exactly stale-after old: still served
	if _, body := get(t, ts.URL+listPath, allowedUser); !strings.Contains(body, `"name":"a"`) || !strings.Contains(body, `"name":"b"`) {
		t.Fatalf("at stale-after: want a and b: %s", body)
	}
	gen := f.st.Generation()
	f.clk.SetTime(at(5).Add(provider.DefaultMaxAge))
	_, body := get(t, ts.URL+listPath, allowedUser)
	if strings.Contains(body, `"name":"a"`) || !strings.Contains(body, `"name":"b"`) || !strings.Contains(body, `"value":"400m"`) {
		t.Errorf("one max-age later: want b alone at 400m (2 overload 503s over [-1 s, 4 s]): %s", body)
	}
	if f.st.Generation() != gen {
		t.Error("the store changed; the test wants no write")
	}
}
