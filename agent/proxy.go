package agent

import (
	"context"
	"net"
	"net/http"
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

// snStatus is what the request path knows of the SN: its state at the last /info poll, the
// task limit, whether the gate was seen rejecting, and how many connections the proxy holds to it.
type snStatus struct {
	readiness atomic.Int32
	limit     atomic.Int64 // max_task_count; 0 when unknown
	gateBusy  atomic.Bool  // the last /info poll saw the gate rejecting (gateWatch.busy)
	conns     atomic.Int64 // open proxy->SN connections, idle ones included: each is an SN task
	// undecided counts 503s of a READY SN answered while the gate was not seen busy; the next
	// poll gives them their cause (settle503s).
	undecided atomic.Int64
}

// ProxyConfig configures the counting reverse proxy.
type ProxyConfig struct {
	Target *url.URL // the SN, e.g. http://127.0.0.1:5101
	// RetryAfter, when > 0, is sent as Retry-After (whole seconds, rounded up) on every 503 that
	// has none.
	RetryAfter time.Duration
	// MaxIdleConns bounds the proxy's idle connections to the SN: each one is an SN task that
	// counts against max_task_count (docs/hsds.md). < 0 sizes the pool from the limit
	// (IdleConnsFor).
	MaxIdleConns int
	// Limit is --max-task-count, used to size the idle pool when MaxIdleConns < 0.
	Limit int
	// IdleTimeout closes an idle connection to the SN after this long, handing its task slot back.
	IdleTimeout time.Duration
}

// IdleConnsFor is the idle pool the proxy keeps for an SN with task limit limit: 1 per 4 slots,
// at least 1. Idle connections are SN tasks (16 of them against max_task_count 10 made every
// request 503 on the real server), so the pool is bounded by the limit, and they are released
// after ProxyConfig.IdleTimeout; a pool smaller than the clients' concurrency makes the proxy
// open and close a connection per request, which costs the Python SN more CPU than the reuse
// saves slots (docs/metrics.md, "Proxy cost").
func IdleConnsFor(limit int) int { return max(1, limit/4) }

// Proxy is a reverse proxy in front of the SN that counts every response by status and cause and
// keeps an exact count of requests in flight.
type Proxy struct {
	rp     *httputil.ReverseProxy
	tr     *http.Transport
	store  *Store
	status *snStatus
	clk    clock.PassiveClock
	cfg    ProxyConfig
}

// reqInfo travels with one proxied request.
type reqInfo struct {
	cause string
}

type reqInfoKey struct{}

// newProxy returns the proxy; it counts into store (made live) and reads SN readiness from status.
func newProxy(cfg ProxyConfig, store *Store, status *snStatus, clk clock.PassiveClock) *Proxy {
	if cfg.MaxIdleConns < 0 {
		cfg.MaxIdleConns = IdleConnsFor(cfg.Limit)
	}
	p := &Proxy{store: store, status: status, clk: clk, cfg: cfg}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			status.conns.Add(1)
			return &countedConn{Conn: c, n: &status.conns}, nil
		},
		MaxIdleConns:        max(cfg.MaxIdleConns, 0),
		MaxIdleConnsPerHost: max(cfg.MaxIdleConns, 0),
		IdleConnTimeout:     cfg.IdleTimeout,
		DisableKeepAlives:   cfg.MaxIdleConns == 0,
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
	p.tr = tr
	store.enableLive()
	return p
}

// closeIdle closes the idle connections to the SN now.
func (p *Proxy) closeIdle() { p.tr.CloseIdleConnections() }

// countedConn decrements the open-connection count once, on the first Close.
type countedConn struct {
	net.Conn
	n    *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.n.Add(-1) })
	return c.Conn.Close()
}

// ServeHTTP proxies one request and counts the status the client was sent.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.store.addInFlight(1)
	defer p.store.addInFlight(-1)
	info := &reqInfo{}
	rec := &statusRecorder{ResponseWriter: w}
	p.rp.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info)))
	code := rec.code
	if code == 0 {
		code = http.StatusOK // handler wrote nothing: net/http sends 200
	}
	k := RespKey{Code: strconv.Itoa(code)}
	if code == http.StatusServiceUnavailable {
		k.Cause = info.cause
		if k.Cause == "" {
			p.status.undecided.Add(1) // counted by the next poll (settle503s)
			return
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
		info.cause = classifyProxy503(p.status.readiness.Load(), p.gateBusy())
	}
	if p.cfg.RetryAfter > 0 && resp.Header.Get("Retry-After") == "" {
		secs := int64((p.cfg.RetryAfter + time.Second - 1) / time.Second)
		resp.Header.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	return nil
}

// gateBusy reports whether the SN's task gate can have rejected a request just now: the proxy's
// own connections to the SN plus the SN's background tasks exceed the limit (every connection is
// an SN task, idle or not), or the last /info poll saw an over-limit task sample.
func (p *Proxy) gateBusy() bool {
	limit := p.status.limit.Load()
	if limit > 0 && p.status.conns.Load()+snBackgroundTasks > limit {
		return true
	}
	return p.status.gateBusy.Load()
}

// errorHandler answers 502 when the SN gave no response (down, reset, or the client went away).
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	klog.V(2).InfoS("Proxy to SN failed", "path", r.URL.Path, "err", err)
	w.WriteHeader(http.StatusBadGateway)
}

// classifyProxy503 gives the cause of a 503 the SN sent, when the request path can tell. Every
// 503 of HSDS 0.9.4 has the same body and headers, and latency cannot tell them apart either
// (gate 503s queue in the SN's event loop like served requests; docs/hsds.md), so the cause comes
// from the SN's state:
//   - the SN not READY at the last /info poll -> not_ready;
//   - else the gate busy (gateBusy) -> overload: the gate rejects only above max_task_count;
//   - else "" (undecided): the next poll decides with settleCause, once it has seen the gate's
//     task sample of the interval (the first 503s of a burst come before any poll saw it).
func classifyProxy503(readiness int32, gateBusy bool) string {
	switch {
	case readiness == readinessNotReady:
		return schema.CauseNotReady
	case gateBusy:
		return schema.CauseOverload
	}
	return ""
}

// settleCause is the cause of the undecided 503s of one poll interval, from the poll that ends
// it: the SN not READY now -> not_ready (it left READY during the interval); the gate seen busy at
// either end of the interval -> overload; otherwise upstream: a READY SN whose gate was never
// near its limit passed on a DN's 503 (not READY, cache full) or an SN->DN timeout. read is
// false when the poll could not read the SN: no evidence of the gate, upstream.
func settleCause(read, ready, busyBefore, busyNow bool) string {
	switch {
	case read && !ready:
		return schema.CauseNotReady
	case busyBefore || busyNow:
		return schema.CauseOverload
	}
	return schema.CauseUpstream
}

// settle503s counts the undecided 503s under cause.
func (p *Proxy) settle503s(cause string) {
	if n := p.status.undecided.Swap(0); n > 0 {
		p.store.AddResponses(RespKey{Code: schema.Code503, Cause: cause}, float64(n))
	}
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
