package boundedget

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReasons: each way a read can fail gets its reason; a good read fills the buffer.
func TestReasons(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte("hello " + r.Header.Get("Accept")))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 100)))
		case "/slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		url, reason string
		code        int
	}{
		{srv.URL + "/ok", "", 0},
		{srv.URL + "/missing", Status, 404},
		{srv.URL + "/big", TooLarge, 0},
		{srv.URL + "/slow", Timeout, 0},
		{closed.URL + "/ok", Connect, 0},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		err := Request{Client: srv.Client(), URL: tc.url, Accept: "text/plain", Timeout: 200 * time.Millisecond, MaxBody: 50}.Into(context.Background(), &buf)
		reason, _ := ReasonOf(err)
		if reason != tc.reason || StatusOf(err) != tc.code {
			t.Errorf("%s: reason %q status %d (%v), want %q %d", tc.url, reason, StatusOf(err), err, tc.reason, tc.code)
		}
		if tc.reason == "" && buf.String() != "hello text/plain" {
			t.Errorf("body %q", buf.String())
		}
	}
	if _, ok := ReasonOf(context.Canceled); ok {
		t.Error("a foreign error has no reason")
	}
}
