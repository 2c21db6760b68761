package fakehsds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/klog/v2"
)

// shutdownGrace is how long in-flight requests get to finish when the serving context ends.
const shutdownGrace = 2 * time.Second

// ListenAndServe serves the SN and the DN on real sockets ("127.0.0.1:0" picks a free port) and
// returns their base URLs once both listen. Every open connection, idle keep-alive ones
// included, counts as one task of its node (HSDS runs one asyncio task per connection). The
// servers stop when ctx ends; Wait blocks until they have.
func (p *Pod) ListenAndServe(ctx context.Context, snAddr, dnAddr string) (snURL, dnURL string, err error) {
	snLn, err := net.Listen("tcp", snAddr)
	if err != nil {
		return "", "", fmt.Errorf("listen sn %s: %w", snAddr, err)
	}
	dnLn, err := net.Listen("tcp", dnAddr)
	if err != nil {
		_ = snLn.Close()
		return "", "", fmt.Errorf("listen dn %s: %w", dnAddr, err)
	}
	p.serve(ctx, snLn, p.sn, p.SN())
	p.serve(ctx, dnLn, p.dn, p.DN())
	snURL, dnURL = "http://"+snLn.Addr().String(), "http://"+dnLn.Addr().String()
	p.mu.Lock()
	p.dnURL = dnURL
	p.mu.Unlock()
	return snURL, dnURL, nil
}

// Wait blocks until every server started by ListenAndServe has stopped.
func (p *Pod) Wait() { p.servers.Wait() }

func (p *Pod) serve(ctx context.Context, ln net.Listener, n *node, h http.Handler) {
	var conns sync.Map // net.Conn -> *connTask
	srv := &http.Server{
		Handler:           endConnTaskOnClose(h),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext: func(cctx context.Context, c net.Conn) context.Context {
			task := &connTask{pod: p, n: n}
			p.mu.Lock()
			n.tasks++
			p.mu.Unlock()
			conns.Store(c, task)
			return context.WithValue(cctx, connTaskKey{}, task)
		},
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateClosed || s == http.StateHijacked {
				if task, ok := conns.LoadAndDelete(c); ok {
					task.(*connTask).end()
				}
			}
		},
	}
	p.servers.Add(2)
	go func() {
		defer p.servers.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "Fake HSDS server stopped", "node", n.kind, "addr", ln.Addr().String())
		}
	}()
	go func() {
		defer p.servers.Done()
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
	}()
}

// connTask is an open connection counted as one task of its node (aiohttp runs one task per
// connection): +1 when accepted, -1 once, when it closes or when its last response is written.
type connTask struct {
	pod   *Pod
	n     *node
	ended atomic.Bool
}

type connTaskKey struct{}

func (c *connTask) end() {
	if c.ended.CompareAndSwap(false, true) {
		c.pod.release(c.n, 1)
	}
}

// endConnTaskOnClose ends a connection's task as soon as the response to a request that closes
// it is written. aiohttp's connection task ends then; Go's server keeps the socket another 500 ms
// (closeWriteAndWait), which made the fake count up to 10 tasks where the real SN counted 5 under
// a steady 10 req/s of one-request connections (calibration, first run).
func endConnTaskOnClose(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.Close {
			if task, ok := r.Context().Value(connTaskKey{}).(*connTask); ok {
				task.end()
			}
		}
	})
}
