package fakehsds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"k8s.io/klog/v2"
)

// Server headers as the real HSDS 0.9.4 sends them (curl -i against a real SN and DN): HSDS's
// jsonResponse sets its own Server header and X-XSS-Protection; an error it raises
// (HTTPNotFound, HTTPServiceUnavailable, ...) is written by aiohttp with aiohttp's defaults.
const (
	serverHSDS    = "Highly Scalable Data Service (HSDS)"
	serverAIOHTTP = "Python/3.11 aiohttp/3.8.4"
)

// writeStatus writes what aiohttp's HTTPException writes when HSDS raises it without text:
// "<code>: <reason>" as text/plain; charset=utf-8, Server: Python/3.11 aiohttp/3.8.4, and no
// other header (no Retry-After). For 503 that is the 24-byte body "503: Service Unavailable";
// for 500, "500: Internal Server Error"; for 404, "404: Not Found".
func writeStatus(w http.ResponseWriter, code int) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Server", serverAIOHTTP)
	body := fmt.Sprintf("%d: %s", code, http.StatusText(code))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if _, err := w.Write([]byte(body)); err != nil {
		klog.V(4).InfoS("Fake HSDS: writing response failed", "code", code, "err", err)
	}
}

// writeJSON writes what HSDS's jsonResponse writes: Python's json.dumps text (", " and ": "
// separators, keys in the order HSDS sets them), application/json; charset=utf-8, HSDS's Server
// header and X-XSS-Protection.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		klog.ErrorS(err, "Fake HSDS: encoding JSON failed", "code", code)
		writeStatus(w, http.StatusInternalServerError)
		return
	}
	b = pythonJSON(b)
	h := w.Header()
	h.Set("Server", serverHSDS)
	h.Set("X-XSS-Protection", "1; mode=block")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	if _, err := w.Write(b); err != nil {
		klog.V(4).InfoS("Fake HSDS: writing response failed", "code", code, "err", err)
	}
}

// pythonJSON respaces compact JSON as Python's json.dumps does by default: a space after every
// ',' and ':' outside strings.
func pythonJSON(compact []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(compact) + len(compact)/8)
	inString, escaped := false, false
	for _, c := range compact {
		out.WriteByte(c)
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out.WriteByte(' ')
		}
	}
	return out.Bytes()
}

// pyFloat is a JSON number written as Python writes a float: always with a fraction (0.0, 19.0).
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !bytes.ContainsAny([]byte(s), ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}
