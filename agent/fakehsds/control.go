package fakehsds

import (
	"errors"
	"net/http"
	"strconv"
)

// serveControl serves the fake's own control endpoints on the SN (not HSDS; never gated, never
// counted):
//
//	PUT  /fake/state?node=sn|dn&state=READY|WAITING|TERMINATING   200, 400, 409 if stuck WAITING
//	PUT  /fake/dncount?n=3                                         200, 400
//	POST /fake/restart                                             200
//	GET  /fake/truth                                               200, JSON of Truth
func (p *Pod) serveControl(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/fake/state":
		if !allowMethod(w, r, http.MethodPut) {
			return
		}
		err := p.SetState(q.Get("node"), q.Get("state"))
		switch {
		case errors.Is(err, ErrStuckWaiting):
			http.Error(w, err.Error(), http.StatusConflict)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			writeJSON(w, http.StatusOK, p.Truth())
		}
	case "/fake/dncount":
		if !allowMethod(w, r, http.MethodPut) {
			return
		}
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 1 {
			http.Error(w, "n: want an integer >= 1", http.StatusBadRequest)
			return
		}
		p.SetDNCount(n)
		writeJSON(w, http.StatusOK, p.Truth())
	case "/fake/restart":
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		p.Restart()
		writeJSON(w, http.StatusOK, p.Truth())
	case "/fake/truth":
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		writeJSON(w, http.StatusOK, p.Truth())
	default:
		http.NotFound(w, r)
	}
}

func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
