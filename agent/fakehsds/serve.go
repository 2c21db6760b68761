package fakehsds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnState:         p.connState(n),
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

// connState counts open connections as tasks of n: +1 when accepted, -1 when closed or hijacked.
func (p *Pod) connState(n *node) func(net.Conn, http.ConnState) {
	return func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			p.mu.Lock()
			n.tasks++
			p.mu.Unlock()
		case http.StateClosed, http.StateHijacked:
			p.release(n, 1)
		}
	}
}
