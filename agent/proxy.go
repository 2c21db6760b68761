package agent

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// snReadiness values shared between the proxy's poller and its request path.
const (
	readinessUnknown int32 = iota
	readinessReady
	readinessNotReady
)

// snStatus is what the request path knows of the SN: its state at the last /info poll and how long
// that poll took (the SN's own answer time, no DN round trip).
type snStatus struct {
	readiness   atomic.Int32
	infoLatency atomic.Int64 // nanoseconds
}

// ProxyConfig configures the counting reverse proxy.
type ProxyConfig struct {
	Target *url.URL // the SN, e.g. http://127.0.0.1:5101
	// UpstreamLatency is the answer time from which a 503 of a READY SN counts as upstream; faster
	// ones count as overload. The cutoff used is max(UpstreamLatency, 2 x the last /info latency).
	UpstreamLatency time.Duration
	// RetryAfter, when > 0, is sent as Retry-After (whole seconds, rounded up) on every 503 that
	// has none.
	RetryAfter time.Duration
	// MaxIdleConns bounds the proxy's idle connections to the SN: each one is an SN task.
	MaxIdleConns int
}

// Proxy is a reverse proxy in front of the SN that counts every response by status and cause and
// keeps an exact count of requests in flight.
type Proxy struct {
	rp     *httputil.ReverseProxy
	store  *Store
	status *snStatus
	clk    clock.PassiveClock
	cfg    ProxyConfig
}

// reqInfo travels with one proxied request. wrote and firstByte are set by the transport's
// goroutines (httptrace), hence atomic.
type reqInfo struct {
	start     time.Time
	wrote     atomic.Int64 // UnixNano when the request was written to the SN
	firstByte atomic.Int64 // UnixNano when the SN's first response byte arrived
	cause     string
}

// latency is the SN's answer time: first response byte minus request written, so connection
// set-up and the proxy's own queueing do not count. It falls back to the time since start.
func (i *reqInfo) latency(now time.Time) time.Duration {
	w, f := i.wrote.Load(), i.firstByte.Load()
	switch {
	case w != 0 && f >= w:
		return time.Duration(f - w)
	case w != 0:
		return now.Sub(time.Unix(0, w))
	}
	return now.Sub(i.start)
}

// trace records when the request was written and when the answer started.
func (p *Proxy) trace(info *reqInfo) *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { info.wrote.Store(p.clk.Now().UnixNano()) },
		GotFirstResponseByte: func() { info.firstByte.Store(p.clk.Now().UnixNano()) },
	}
}

type reqInfoKey struct{}

// newProxy returns the proxy; it counts into store (made live) and reads SN readiness from status.
func newProxy(cfg ProxyConfig, store *Store, status *snStatus, clk clock.PassiveClock) *Proxy {
	p := &Proxy{store: store, status: status, clk: clk, cfg: cfg}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.MaxIdleConns,
		MaxIdleConnsPerHost: cfg.MaxIdleConns,
		IdleConnTimeout:     30 * time.Second,
		// Pass the client's Accept-Encoding through untouched: no transparent gzip in a proxy.
		DisableCompression: true,
	}
	p.rp = &httputil.ReverseProxy{
		BufferPool: newBufferPool(),
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(cfg.Target)
			pr.Out.Host = pr.In.Host // HSDS may take the domain from the Host header
			pr.SetXForwarded()
		},
		Transport:      tr,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
	}
	store.enableLive()
	return p
}

// ServeHTTP proxies one request and counts the status the client was sent.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.store.addInFlight(1)
	defer p.store.addInFlight(-1)
	info := &reqInfo{start: p.clk.Now()}
	rec := &statusRecorder{ResponseWriter: w}
	ctx := httptrace.WithClientTrace(context.WithValue(r.Context(), reqInfoKey{}, info), p.trace(info))
	p.rp.ServeHTTP(rec, r.WithContext(ctx))
	code := rec.code
	if code == 0 {
		code = http.StatusOK // handler wrote nothing: net/http sends 200
	}
	k := RespKey{Code: strconv.Itoa(code)}
	if code == http.StatusServiceUnavailable {
		k.Cause = info.cause
		if k.Cause == "" {
			k.Cause = schema.CauseUpstream // a 503 not from the SN's answer path: cannot happen today
		}
	}
	p.store.AddResponse(k)
}

// modifyResponse runs when the SN's response headers arrive: it classifies a 503 and adds
// Retry-After when configured.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	if resp.StatusCode != http.StatusServiceUnavailable {
		return nil
	}
	info, _ := resp.Request.Context().Value(reqInfoKey{}).(*reqInfo)
	if info != nil {
		info.cause = classifyProxy503(p.status.readiness.Load(), info.latency(p.clk.Now()), p.cutoff())
	}
	if p.cfg.RetryAfter > 0 && resp.Header.Get("Retry-After") == "" {
		secs := int64((p.cfg.RetryAfter + time.Second - 1) / time.Second)
		resp.Header.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	return nil
}

// cutoff is the answer time from which a 503 of a READY SN counts as upstream.
func (p *Proxy) cutoff() time.Duration {
	return max(p.cfg.UpstreamLatency, 2*time.Duration(p.status.infoLatency.Load()))
}

// errorHandler answers 502 when the SN gave no response (down, reset, or the client went away).
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	klog.V(2).InfoS("Proxy to SN failed", "path", r.URL.Path, "err", err)
	w.WriteHeader(http.StatusBadGateway)
}

// classifyProxy503 gives the cause of a 503 the SN sent (HSDS.md, "Where 503 comes from"):
//   - the SN not READY at the last /info poll -> not_ready;
//   - else an answer faster than cutoff -> overload: the task gate answers at once, before any
//     DN round trip;
//   - else upstream: a DN 503 or SN->DN timeout comes after at least one DN round trip.
//
// With readiness unknown (the last poll failed) only the latency rule applies.
func classifyProxy503(readiness int32, latency, cutoff time.Duration) string {
	switch {
	case readiness == readinessNotReady:
		return schema.CauseNotReady
	case latency < cutoff:
		return schema.CauseOverload
	}
	return schema.CauseUpstream
}

// bufferPool recycles the proxy's 32 KiB body copy buffers.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(v []byte) { b.p.Put(&v) }

// statusRecorder remembers the final status written to the client.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and friends.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
