package fakehsds

import (
	"net/http"

	"github.com/gorilla/mux"
)

// newSNRouter routes the SN's REST surface: /info and /about (never gated), the head-node routes
// SN and DN do not serve (404), 1.x /metrics, the fake's /fake/ control endpoints and, for every
// other path, a gated data request.
func (p *Pod) newSNRouter() *mux.Router {
	r := mux.NewRouter().SkipClean(true)
	p.nodeRoutes(r, p.sn)
	c := r.PathPrefix("/fake").Subrouter() // paths below are appended to /fake
	c.HandleFunc("/state", p.controlState)
	c.HandleFunc("/dncount", p.controlDNCount)
	c.HandleFunc("/dn", p.controlDN)
	c.HandleFunc("/restart", p.controlRestart)
	c.HandleFunc("/truth", p.controlTruth)
	c.PathPrefix("/").HandlerFunc(http.NotFound)
	r.PathPrefix("/").HandlerFunc(p.serveSNData)
	return r
}

// newDNRouter routes the DN: the same node routes; any other path is served as DN data.
func (p *Pod) newDNRouter() *mux.Router {
	r := mux.NewRouter().SkipClean(true)
	p.nodeRoutes(r, p.dn)
	r.PathPrefix("/").HandlerFunc(p.serveDNData)
	return r
}

// nodeRoutes are served by SN and DN alike (hsds_logger.py INFO_METHODS: never gated).
func (p *Pod) nodeRoutes(r *mux.Router, n *node) {
	r.Path("/info").HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, p.info(n))
	})
	r.Path("/about").HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, p.about(n))
	})
	// Head-node routes: exempt from the gate, but SN and DN have no handler for them.
	for _, path := range []string{"/register", "/nodeinfo", "/nodestate"} {
		r.Path(path).HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeStatus(w, http.StatusNotFound)
		})
	}
	r.Path("/metrics").HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p.serveMetrics(n, w, req)
	})
}
