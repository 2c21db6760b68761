package fakehsds

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkGatedRequest measures one admitted SN chunk read (gate, DN call, 16 zero-time
// workers, response) through the plain handler.
func BenchmarkGatedRequest(b *testing.B) {
	cfg := DefaultConfig()
	cfg.ServiceTime = Fixed(0)
	p, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h := p.SN()
	req := httptest.NewRequest(http.MethodGet, "/datasets/d1/value", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
