package fakekubelet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// Pod is one pod the fake node runs: in ModeFake a fake HSDS pod and its agent on the pod's
// loopback address, in ModeReal real HSDS and the hsds-agent binary in the pod's network
// namespace. Exported fields are read-only.
type Pod struct {
	// Name is the Kubernetes pod name; IP its podIP (127.0.0.x, or in the real pod network).
	Name, IP string
	// HostIP is the node's address (status.hostIP): 127.0.0.1, or the bridge address.
	HostIP string
	// Netns is the pod's network namespace (ModeReal); empty in ModeFake.
	Netns string
	// HSDS is the fake HSDS pod (SetState, SetDNCount, Restart, Truth ...); nil in ModeReal.
	HSDS *fakehsds.Pod
	// Agent is the pod's in-process hsds-agent; nil in ModeReal (the agent is a process).
	Agent *agent.Agent
	// SNURL and DNURL are HSDS's base URLs (http://<IP>:port).
	SNURL, DNURL string
	// AgentURL is the agent's base URL (its /metrics, /healthz, /readyz).
	AgentURL string
	// AgentPort is the agent's port (what the adapter scrapes).
	AgentPort int
	// ProxyURL is the agent's proxy in front of the SN (source proxy); empty otherwise.
	ProxyURL string

	cancel      context.CancelFunc // stops everything of the pod (ModeFake)
	agentCancel context.CancelFunc // stops the agent's listeners only (ModeFake)
	wg          sync.WaitGroup
	real        *realPod // ModeReal

	ready       atomic.Bool        // the Ready condition last written
	probeCancel context.CancelFunc // stops the readiness prober; nil without one

	mu   sync.Mutex
	hang chan struct{} // non-nil while agent requests hang; closed to release them
}

// Ready reports the pod's Ready condition as the fake node last wrote it: in ModeFake from the
// start, in ModeReal while the SN's /info says READY.
func (p *Pod) Ready() bool { return p.ready.Load() }

// PIDs returns the process ids (each also its process group's) of a real pod's SN, DN and agent;
// none in ModeFake.
func (p *Pod) PIDs() []int {
	if p.real == nil {
		return nil
	}
	var pids []int
	for _, q := range p.real.procs.all() {
		pids = append(pids, q.PID())
	}
	return pids
}

// Logs returns the last lines of each process log of a real pod (for failure messages); empty in
// ModeFake.
func (p *Pod) Logs(lines int) string {
	if p.real == nil {
		return ""
	}
	var b strings.Builder
	for _, q := range p.real.procs.all() {
		fmt.Fprintf(&b, "--- %s %s (%s)\n%s\n", p.Name, q.Name(), q.LogPath(), controlplane.TailFile(q.LogPath(), lines))
	}
	return b.String()
}

// ClientURL is where clients of this pod send HSDS requests: the agent's proxy when the agent
// runs as one, else the SN.
func (p *Pod) ClientURL() string {
	if p.ProxyURL != "" {
		return p.ProxyURL
	}
	return p.SNURL
}

// SetState sets the state of the pod's "sn" or "dn" node (fakehsds.Pod.SetState); ModeFake only.
func (p *Pod) SetState(node, state string) error {
	if p.HSDS == nil {
		return errors.New("SetState: not a fake HSDS pod")
	}
	return p.HSDS.SetState(node, state)
}

// Truth is the fake HSDS's ground truth (fakehsds.Pod.Truth); zero in ModeReal.
func (p *Pod) Truth() fakehsds.Truth {
	if p.HSDS == nil {
		return fakehsds.Truth{}
	}
	return p.HSDS.Truth()
}

// SetAgentHang makes requests to the agent's listener hang (true) until the client gives up or
// hang is turned off again (false): an agent that stopped answering. Its poll loop keeps running.
func (p *Pod) SetAgentHang(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case on && p.hang == nil:
		p.hang = make(chan struct{})
	case !on && p.hang != nil:
		close(p.hang)
		p.hang = nil
	}
}

// StopAgent closes the agent's listeners for good: scrapes then fail with "connection refused".
// ModeFake only.
func (p *Pod) StopAgent() {
	if p.agentCancel != nil {
		p.agentCancel()
	}
}

func (p *Pod) hangChan() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hang
}

// fakeRuntime runs fake HSDS pods (ModeFake) in this process, one loopback address each.
type fakeRuntime struct {
	cfg Config
	mu  sync.Mutex
	ips *controlplane.IPPool
}

func (f *fakeRuntime) start(_ context.Context, pod *corev1.Pod) (*Pod, error) {
	f.mu.Lock()
	ip, err := f.ips.Get(pod.Name)
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return startPod(f.cfg, pod.Name, ip)
}

// stop stops the fake HSDS and the agent and waits for their goroutines (at once: no grace).
func (f *fakeRuntime) stop(p *Pod, _ time.Duration) error {
	p.cancel()
	p.wg.Wait()
	return nil
}

func (f *fakeRuntime) probe(context.Context, *Pod) (bool, error) { return true, nil }
func (f *fakeRuntime) probes() bool                              { return false }
func (f *fakeRuntime) close() error                              { return nil }

// startPod starts the fake HSDS and the agent of pod name on ip.
func startPod(cfg Config, name, ip string) (*Pod, error) {
	hcfg := cfg.HSDS
	hcfg.NodeID = name
	fake, err := fakehsds.New(hcfg)
	if err != nil {
		return nil, fmt.Errorf("fake hsds for pod %s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	agentCtx, agentCancel := context.WithCancel(ctx)
	p := &Pod{Name: name, IP: ip, HostIP: controlplane.Loopback, HSDS: fake, cancel: cancel, agentCancel: agentCancel}
	p.SNURL, p.DNURL, err = fake.ListenAndServe(ctx, hostPort(ip, cfg.SNPort), hostPort(ip, cfg.DNPort))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("pod %s: %w", name, err)
	}
	p.wg.Go(fake.Wait)
	if err := p.startAgent(ctx, agentCtx, cfg.podAgentOptions(ip, p.SNURL, p.DNURL)); err != nil {
		cancel()
		p.wg.Wait()
		return nil, fmt.Errorf("pod %s: %w", name, err)
	}
	return p, nil
}

// startAgent builds the agent, serves its handler (and proxy) on listeners that close with
// agentCtx, and runs its poll loop until ctx ends.
func (p *Pod) startAgent(ctx, agentCtx context.Context, o agent.Options) error {
	a, err := agent.New(o, clock.RealClock{})
	if err != nil {
		return err
	}
	p.Agent = a
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("agent listener: %w", err)
	}
	p.AgentURL = "http://" + ln.Addr().String()
	p.AgentPort = ln.Addr().(*net.TCPAddr).Port
	p.serve(agentCtx, ln, p.hangable(ctx, a.Handler()))
	if a.Proxy != nil {
		pln, err := net.Listen("tcp", o.ProxyListen)
		if err != nil {
			return fmt.Errorf("agent proxy listener: %w", err)
		}
		p.ProxyURL = "http://" + pln.Addr().String()
		p.serve(agentCtx, pln, a.Proxy)
	}
	p.wg.Go(func() { a.Run(ctx) })
	return nil
}

// hangable wraps h: while SetAgentHang(true), requests wait for their client, the release, or ctx.
func (p *Pod) hangable(ctx context.Context, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ch := p.hangChan(); ch != nil {
			select {
			case <-ch:
			case <-r.Context().Done():
				return
			case <-ctx.Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// serve serves h on ln until ctx ends.
func (p *Pod) serve(ctx context.Context, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	p.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "Fake pod server stopped", "pod", p.Name, "addr", ln.Addr().String())
		}
	})
	p.wg.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
	})
}

func hostPort(ip string, port int) string { return net.JoinHostPort(ip, fmt.Sprint(port)) }
