package provider

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
	"k8s.io/apiserver/pkg/endpoints/request"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/utils/clock"
)

// DefaultBodyMaxEntries bounds the number of cached encoded answers (about 250 KB each for
// 1,000 pods).
const DefaultBodyMaxEntries = 64

// BodyCache caches the encoded HTTP answers of custom.metrics.k8s.io list requests
// (.../pods/*/<metric>), keyed by the request URI and the headers that shape the encoding
// (Accept, Accept-Encoding, User-Agent: kubectl and curl get pretty-printed JSON), and valid
// while the store's generation and the max-age period are unchanged (see Versioner).
// Concurrent misses of one key run the API handler once and share its answer.
//
// It must sit after authentication and authorization: install it with BuildHandlerChain, which
// wraps the API handler that the generic API server's filter chain (authn, authz, audit,
// priority and fairness, timeouts) then wraps. Every caller is thus authorized on its own before
// a cached body is written. Only 200 answers are cached.
//
// Cached answers bypass the handler's own instrumentation: the generic server's
// apiserver_request_* metrics and hsds_adapter_api_request_duration_seconds count computed
// answers only; hsds_adapter_api_body_cache_requests_total counts every request.
type BodyCache struct {
	Version    *Versioner
	MaxEntries int

	requests *prometheus.CounterVec

	mu      sync.Mutex
	entries map[string]cachedBody
	flights singleflight.Group
}

type cachedBody struct {
	v      Version
	status int
	header http.Header
	body   []byte
}

// NewBodyCache returns a body cache keyed to src's generation and clk's max-age period. Its
// counter hsds_adapter_api_body_cache_requests_total{result} is registered on reg.
func NewBodyCache(src Versioned, clk clock.PassiveClock, maxAge time.Duration, reg prometheus.Registerer) (*BodyCache, error) {
	if maxAge <= 0 {
		return nil, fmt.Errorf("body cache max-age %s: want > 0", maxAge)
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hsds_adapter_api_body_cache_requests_total",
		Help: "Custom-metrics list requests by encoded-answer cache result: hit (cached body), shared (waited for a concurrent request's body), miss (ran the API handler).",
	}, []string{"result"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("register body cache metrics: %w", err)
	}
	for _, r := range []string{CacheHit, CacheShared, CacheMiss} {
		c.WithLabelValues(r)
	}
	return &BodyCache{Version: &Versioner{Source: src, Clock: clk, MaxAge: maxAge}, MaxEntries: DefaultBodyMaxEntries,
		requests: c, entries: map[string]cachedBody{}}, nil
}

// BuildHandlerChain returns a genericapiserver.Config.BuildHandlerChainFunc that puts the cache
// in front of the API handler and then builds prev's chain (authn, authz, ...) around it.
func (c *BodyCache) BuildHandlerChain(prev func(http.Handler, *genericapiserver.Config) http.Handler) func(http.Handler, *genericapiserver.Config) http.Handler {
	return func(apiHandler http.Handler, cfg *genericapiserver.Config) http.Handler {
		return prev(c.Wrap(apiHandler), cfg)
	}
}

// Wrap returns next with the cache in front of custom-metrics list requests; other requests go
// straight to next.
func (c *BodyCache) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !cacheable(r) {
			next.ServeHTTP(w, r)
			return
		}
		key := strings.Join([]string{r.URL.RequestURI(), r.Header.Get("Accept"), r.Header.Get("Accept-Encoding"), r.Header.Get("User-Agent")}, "\x00")
		if b, ok := c.lookup(key, c.Version.Now()); ok {
			c.requests.WithLabelValues(CacheHit).Inc()
			b.write(w)
			return
		}
		leader := false
		res, _, _ := c.flights.Do(key, func() (any, error) {
			leader = true
			v := c.Version.Now()
			if b, ok := c.lookup(key, v); ok {
				return b, nil
			}
			rec := &recorder{header: http.Header{}}
			// The answer is shared: the leaving of its first caller must not cut it short.
			next.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
			b := cachedBody{v: v, status: rec.status, header: rec.header, body: rec.buf.Bytes()}
			if b.status == 0 {
				b.status = http.StatusOK
			}
			if b.status == http.StatusOK {
				c.store(key, b)
			}
			return b, nil
		})
		result := CacheShared
		if leader {
			result = CacheMiss
		}
		c.requests.WithLabelValues(result).Inc()
		res.(cachedBody).write(w)
	})
}

// cacheable is true for GET list requests of custom.metrics.k8s.io (name "*").
func cacheable(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	info, ok := request.RequestInfoFrom(r.Context())
	return ok && info.IsResourceRequest && info.APIGroup == custom_metrics.GroupName && info.Name == "*"
}

func (c *BodyCache) lookup(key string, v Version) (cachedBody, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.entries[key]
	return b, ok && b.v == v
}

// store keeps b, dropping entries of older versions (and, if still full, one arbitrary entry)
// to stay within MaxEntries.
func (c *BodyCache) store(key string, b cachedBody) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := max(c.MaxEntries, 1)
	if _, ok := c.entries[key]; !ok && len(c.entries) >= limit {
		for k, e := range c.entries {
			if e.v != b.v {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < limit {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = b
}

// write sends a recorded answer; the recording itself is never modified.
func (b cachedBody) write(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range b.header {
		h[k] = slices.Clone(vs)
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body)
}

// recorder captures an answer.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(p)
}
