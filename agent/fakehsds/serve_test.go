package fakehsds

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
)

// serveForTest serves p on free loopback ports until the test ends.
func serveForTest(t *testing.T, p *Pod) (snURL, dnURL string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	snURL, dnURL, err := p.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatalf("ListenAndServe: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		p.Wait()
	})
	return snURL, dnURL
}

// dialIdle opens n TCP connections that never send a request; they close when the test ends.
func dialIdle(t *testing.T, base string, n int) []net.Conn {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatalf("dial %s: %v", u.Host, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
	}
	return conns
}

// newClient returns a keep-alive client with one connection per host, closed when the test ends.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func drain(t *testing.T, rsp *http.Response) []byte {
	t.Helper()
	defer func() { _ = rsp.Body.Close() }()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

// Connections are tasks of their own node and stop counting when they close.
func TestListenAndServe_ConnectionsComeAndGo(t *testing.T) {
	p, _ := newTestPod(t, nil)
	snURL, dnURL := serveForTest(t, p)
	conns := dialIdle(t, snURL, 2)
	dialIdle(t, dnURL, 1)
	waitTasks(t, p, 2)
	for _, c := range conns {
		_ = c.Close()
	}
	waitTasks(t, p, 0)
	p.mu.Lock()
	dnTasks := p.dn.tasks
	p.mu.Unlock()
	if dnTasks != 1 {
		t.Errorf("DN tasks = %d, want 1 (its idle connection)", dnTasks)
	}
}

func TestListenAndServe_BadAddress(t *testing.T) {
	p, _ := newTestPod(t, nil)
	if _, _, err := p.ListenAndServe(context.Background(), "256.0.0.1:0", "127.0.0.1:0"); err == nil {
		t.Fatal("ListenAndServe on a bad address: no error")
	}
}
