package fakehsds

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// statusRecorder remembers the status written through it. It passes Hijack on, so a stopped DN
// can close the connection.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot hijack")
	}
	return hj.Hijack()
}

func (p *Pod) serveSN(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/fake/") {
		p.snRouter.ServeHTTP(w, r) // control endpoints: never counted
		return
	}
	p.serveNode(p.sn, p.snRouter, w, r)
}

func (p *Pod) serveDN(w http.ResponseWriter, r *http.Request) {
	if p.refuseIfDown(w) {
		return
	}
	p.serveNode(p.dn, p.dnRouter, w, r)
}

// serveNode routes one request and records its response the way HSDS 1.x's metrics middleware
// does (every response, 503s included); SN responses also go into Truth.
func (p *Pod) serveNode(n *node, h http.Handler, w http.ResponseWriter, r *http.Request) {
	start := p.clock.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	h.ServeHTTP(rec, r)
	p.mu.Lock()
	m := n.metrics
	if n == p.sn {
		p.truth.requests[strconv.Itoa(rec.status)]++
	}
	p.mu.Unlock()
	m.observe(r.Method, rec.status, p.clock.Since(start))
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

// serveSNData serves a gated SN request. Its own task counts from arrival (aiohttp runs one task
// per request); it waits for a pass of the event loop, then the gate decides; an admitted
// request calls the DN (off the loop), fans out, and takes a second pass for the reply.
func (p *Pod) serveSNData(w http.ResponseWriter, r *http.Request) {
	p.arrive(p.sn)
	defer p.release(p.sn, 1) // the request's own task
	p.loop.pass()
	cause, nWorkers := p.admitSN(r)
	if cause != "" {
		p.reject(w, cause)
		return
	}
	key, domain := requestKey(r), r.URL.Query().Get("domain")
	if p.snDNUnreachable(key) {
		p.release(p.sn, nWorkers)
		p.loop.pass()
		writeStatus(w, http.StatusInternalServerError)
		return
	}
	start := p.clock.Now()
	dnAdmitted := p.admitDN(r.Method, true)
	if !dnAdmitted || r.URL.Query().Get("fail") == "upstream" {
		p.upstream503(r, nWorkers, dnAdmitted)
		p.reject(w, schema.CauseUpstream)
		return
	}
	p.work(r.Context(), nWorkers, workItems(r, nWorkers))
	code := p.domainOutcome(r, domain)
	p.release(p.dn, 1)
	dnCode := http.StatusOK // the DN's answer to the SN's call
	if code == http.StatusNotFound {
		dnCode = code
	}
	p.dnMetrics().observe(r.Method, dnCode, p.clock.Since(start))
	p.loop.pass()
	if code == http.StatusNotFound {
		writeStatus(w, code)
		return
	}
	writeJSON(w, code, struct{}{})
}

// snDNUnreachable is the SN side of a stopped DN (docs/hsds.md, measured: "An unreachable DN makes the
// SN answer 500 (not 503) for the keys that DN owns, while the SN stays READY"): the connection
// is refused at once, httpUtil logs one WARN ("ClientError: Cannot connect to host") and the
// SN raises 500. INFO: the 3 lines before the DN call.
func (p *Pod) snDNUnreachable(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ownKeyDownLocked(key) {
		return false
	}
	p.sn.logs.Warn++
	p.sn.logs.Info += 3
	return true
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
// (A stopped DN never gets here: serveDN refuses it.)
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
