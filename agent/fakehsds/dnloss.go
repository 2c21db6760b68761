package fakehsds

import (
	"hash/fnv"
	"net/http"
	"strings"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// StopDN stops this pod's DN as its process ending would (docs/hsds.md, measured on 0.9.4): the DN
// refuses every request, /info included; the SN stays READY and answers 500 (not 503) for the keys
// that DN owns, at once (connection refused), until the roster drops the DN after DNDropAfter
// (head 10-30 s, Kubernetes 9-20 s, standalone never). Then node_count falls by one; with no DN
// left the SN is WAITING (measured: "503 WAITING node_count 0" after the drop). A second StopDN
// is a no-op.
func (p *Pod) StopDN() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dnDown {
		return
	}
	p.dnDown = true
	p.dnGen++
	gen := p.dnGen
	if d := p.dnDropAfterLocked(); d > 0 {
		p.clock.AfterFunc(d, func() { p.dropDN(gen) })
	}
}

// StartDN starts the DN again: it serves, and if the roster had dropped it, it is back in the
// roster (node_count + 1) and an SN left WAITING by an empty roster is READY again.
func (p *Pod) StartDN() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dnDown {
		return
	}
	p.dnDown = false
	p.dnGen++
	if p.dnDropped {
		p.dnDropped = false
		p.dnCount++
		p.sn.logs.Info++ // "number of dn nodes has changed"
		if p.sn.state == schema.StateWaiting && p.rosterEmptied {
			p.sn.setState(schema.StateReady, false)
		}
		p.rosterEmptied = false
	}
}

// dnDropAfterLocked is the configured or measured time a stopped DN stays in the roster; 0 means
// never. Callers hold p.mu (the Kubernetes draw uses the seeded generator).
func (p *Pod) dnDropAfterLocked() time.Duration {
	switch d := p.cfg.DNDropAfter; {
	case d < 0:
		return 0
	case d > 0:
		return d
	}
	switch p.cfg.Roster {
	case RosterHead:
		return HeadDNDropMin + time.Duration(p.rng.Int64N(int64(HeadDNDropMax-HeadDNDropMin)+1))
	case RosterStandalone:
		return 0
	}
	return KubeDNDropMin + time.Duration(p.rng.Int64N(int64(KubeDNDropMax-KubeDNDropMin)+1))
}

func (p *Pod) dropDN(gen int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.dnGen || !p.dnDown || p.dnDropped {
		return
	}
	p.dnDropped = true
	p.dnCount--
	p.sn.logs.Info++
	if p.dnCount == 0 {
		p.rosterEmptied = p.sn.state == schema.StateReady
		p.sn.setState(schema.StateWaiting, p.cfg.StickyWaiting)
	}
}

// ownKeyDownLocked reports whether key belongs to this pod's DN while it is stopped and still in
// the roster. Keys are placed by hash(key) % node_count (docs/hsds.md "Topology"); this pod's DN is
// number 0 of the fake roster. Callers hold p.mu.
func (p *Pod) ownKeyDownLocked(key string) bool {
	if !p.dnDown || p.dnDropped || p.dnCount < 1 {
		return false
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return h.Sum32()%uint32(p.dnCount) == 0
}

// requestKey is the object a request addresses: its domain if it names one, else the object id
// in the path (/datasets/{id}/..., /groups/{id}), else the path.
func requestKey(r *http.Request) string {
	if d := r.URL.Query().Get("domain"); d != "" {
		return d
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) >= 2 {
		return parts[1]
	}
	return r.URL.Path
}

// refuseIfDown ends a request to a stopped DN the way a closed port does for the client: the
// connection closes without an answer. Off a real socket (httptest) it answers 502.
func (p *Pod) refuseIfDown(w http.ResponseWriter) bool {
	p.mu.Lock()
	down := p.dnDown
	p.mu.Unlock()
	if !down {
		return false
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return true
		}
	}
	writeStatus(w, http.StatusBadGateway)
	return true
}
