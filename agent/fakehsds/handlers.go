package fakehsds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Paths HSDS always serves regardless of node state and task load (hsds_logger.py INFO_METHODS).
// /register, /nodeinfo and /nodestate are head-node routes: SN and DN answer them 404.
func exemptPath(path string) bool {
	switch path {
	case "/about", "/info", "/register", "/nodeinfo", "/nodestate":
		return true
	}
	return false
}

// statusRecorder remembers the status written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (p *Pod) serveSN(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/fake/") {
		p.serveControl(w, r)
		return
	}
	p.serveNode(p.sn, w, r)
}

func (p *Pod) serveDN(w http.ResponseWriter, r *http.Request) { p.serveNode(p.dn, w, r) }

// serveNode routes one request and records its response the way HSDS 1.x's metrics middleware
// does (every response, 503s included); SN responses also go into Truth.
func (p *Pod) serveNode(n *node, w http.ResponseWriter, r *http.Request) {
	start := p.clock.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	p.route(n, rec, r)
	p.mu.Lock()
	m := n.metrics
	if n == p.sn {
		p.truth.requests[strconv.Itoa(rec.status)]++
	}
	p.mu.Unlock()
	m.observe(r.Method, rec.status, p.clock.Since(start))
}

func (p *Pod) route(n *node, w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/info":
		writeJSON(w, http.StatusOK, p.info(n))
	case r.URL.Path == "/about":
		writeJSON(w, http.StatusOK, p.about(n))
	case exemptPath(r.URL.Path):
		writeStatus(w, http.StatusNotFound)
	case r.URL.Path == "/metrics":
		p.serveMetrics(n, w, r)
	case n == p.sn:
		p.serveSNData(w, r)
	default:
		p.serveDNData(w, r)
	}
}

// serveMetrics serves 1.x /metrics, also when the node is not READY; 0.9.x has no such route.
func (p *Pod) serveMetrics(n *node, w http.ResponseWriter, r *http.Request) {
	if !p.cfg.Metrics {
		writeStatus(w, http.StatusNotFound)
		return
	}
	p.mu.Lock()
	h := n.metrics.handler
	p.mu.Unlock()
	h.ServeHTTP(w, r)
}

// serveSNData serves a gated SN request: gate, SN->DN call, fan-out, answer.
func (p *Pod) serveSNData(w http.ResponseWriter, r *http.Request) {
	cause, nWorkers := p.admitSN(r)
	if cause != "" {
		p.reject(w, cause)
		return
	}
	defer p.release(p.sn, 1) // the handler task
	start := p.clock.Now()
	dnAdmitted := p.admitDN(r.Method, true)
	if !dnAdmitted || r.URL.Query().Get("fail") == "upstream" {
		p.upstream503(r, nWorkers, dnAdmitted)
		p.reject(w, schema.CauseUpstream)
		return
	}
	p.work(r.Context(), nWorkers)
	p.release(p.dn, 1)
	p.dnMetrics().observe(r.Method, http.StatusOK, p.clock.Since(start))
	writeJSON(w, successStatus(r), struct{}{})
}

// upstream503 is the SN side of a DN 503: the workers never start; HSDS's httpUtil logs a WARN
// ("503 error for http_get_Json ...") and raises HTTPServiceUnavailable, which reaches the client.
// With ?fail=upstream the DN admitted the request and then answered 503 (as when its chunk cache
// is full of dirty data), so its held task is released too.
func (p *Pod) upstream503(r *http.Request, nWorkers int, dnAdmitted bool) {
	p.release(p.sn, nWorkers)
	p.mu.Lock()
	p.sn.logs.Warn++
	p.mu.Unlock()
	if dnAdmitted {
		p.release(p.dn, 1)
	}
	p.dnMetrics().observe(r.Method, http.StatusServiceUnavailable, 0)
}

func (p *Pod) dnMetrics() *nodeMetrics {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dn.metrics
}

// serveDNData answers a request sent straight to the DN: gated on state only, served at once.
func (p *Pod) serveDNData(w http.ResponseWriter, r *http.Request) {
	if !p.admitDN(r.Method, false) {
		writeStatus(w, http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, successStatus(r), struct{}{})
}

// successStatus is 201 for object creation (POST /groups, POST /datasets), 200 otherwise.
func successStatus(r *http.Request) int {
	if r.Method == http.MethodPost && (r.URL.Path == "/groups" || r.URL.Path == "/datasets") {
		return http.StatusCreated
	}
	return http.StatusOK
}

// reject answers an SN 503 and counts it by cause in Truth.
func (p *Pod) reject(w http.ResponseWriter, cause string) {
	p.mu.Lock()
	p.truth.rejected[cause]++
	p.mu.Unlock()
	writeStatus(w, http.StatusServiceUnavailable)
}

// writeStatus writes what aiohttp's HTTPException writes when HSDS raises it without text:
// "<code>: <reason>" as text/plain; charset=utf-8, and no other header (no Retry-After).
// For 503 that is the 24-byte body "503: Service Unavailable".
func writeStatus(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	if _, err := fmt.Fprintf(w, "%d: %s", code, http.StatusText(code)); err != nil {
		klog.V(4).InfoS("Fake HSDS: writing response failed", "code", code, "err", err)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		klog.V(4).InfoS("Fake HSDS: writing response failed", "code", code, "err", err)
	}
}
