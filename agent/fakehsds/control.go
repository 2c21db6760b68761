package fakehsds

import (
	"errors"
	"net/http"
	"strconv"
)

// The fake's own control endpoints on the SN (not HSDS; never gated, never counted), routed by
// newSNRouter:
//
//	PUT  /fake/state?node=sn|dn&state=READY|WAITING|TERMINATING   200, 400, 409 if stuck WAITING
//	PUT  /fake/dncount?n=3                                         200, 400
//	PUT  /fake/dn?up=false|true                                    200 (StopDN / StartDN), 400
//	POST /fake/restart                                             200
//	GET  /fake/truth                                               200, JSON of Truth
//
// A wrong method answers 405 with Allow.

func (p *Pod) controlState(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPut) {
		return
	}
	q := r.URL.Query()
	err := p.SetState(q.Get("node"), q.Get("state"))
	switch {
	case errors.Is(err, ErrStuckWaiting):
		http.Error(w, err.Error(), http.StatusConflict)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		writeJSON(w, http.StatusOK, p.Truth())
	}
}

func (p *Pod) controlDNCount(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPut) {
		return
	}
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 1 {
		http.Error(w, "n: want an integer >= 1", http.StatusBadRequest)
		return
	}
	p.SetDNCount(n)
	writeJSON(w, http.StatusOK, p.Truth())
}

func (p *Pod) controlDN(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPut) {
		return
	}
	up, err := strconv.ParseBool(r.URL.Query().Get("up"))
	if err != nil {
		http.Error(w, "up: want true or false", http.StatusBadRequest)
		return
	}
	if up {
		p.StartDN()
	} else {
		p.StopDN()
	}
	writeJSON(w, http.StatusOK, p.Truth())
}

func (p *Pod) controlRestart(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	p.Restart()
	writeJSON(w, http.StatusOK, p.Truth())
}

func (p *Pod) controlTruth(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	writeJSON(w, http.StatusOK, p.Truth())
}

func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
