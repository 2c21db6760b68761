package fakekubelet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// realRuntime runs real HSDS pods (ModeReal): one network namespace per pod on a bridge of its
// own, the API server forwarded to the bridge address, port 443, and a run directory with the
// pods' service account files, hosts files and (by default) logs and data.
type realRuntime struct {
	cfg    Config
	r      RealConfig // defaulted
	client kubernetes.Interface
	net    *network
	fwd    *forwarder
	dir    string // run directory, <run id>-*
	data   string
	ca     []byte
	http   *http.Client
	// publish writes a pod Running with its IP (Kubelet.report); used before the processes start
	// when the start delay after the IP is set.
	publish    func(ctx context.Context, pod *corev1.Pod, p *Pod) error
	delayAfter atomic.Int64 // RealConfig.StartDelayAfterIP, changed by Kubelet.SetStartDelayAfterIP
}

// newRealRuntime removes the leftovers of killed runs, then makes the bridge, the run directory
// and the API server forwarder.
func newRealRuntime(ctx context.Context, client kubernetes.Interface, cfg Config) (*realRuntime, error) {
	r := cfg.Real.withDefaults()
	if err := CheckReal(r.Dir); err != nil {
		return nil, err
	}
	if err := RemoveLeftovers(ctx, r.Prefix, r.TempDir); err != nil {
		return nil, fmt.Errorf("removing the leftovers of an earlier run: %w", err)
	}
	ca, err := os.ReadFile(r.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the API server CA: %w", err)
	}
	api, err := url.Parse(r.APIServerURL)
	if err != nil {
		return nil, err
	}
	nw, err := newNetwork(ctx, r.Prefix, r.CIDR, os.Getpid())
	if err != nil {
		return nil, err
	}
	rt := &realRuntime{cfg: cfg, r: r, client: client, net: nw, ca: ca,
		http: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	rt.delayAfter.Store(int64(r.StartDelayAfterIP))
	if err := rt.setup(api.Host); err != nil {
		return nil, errors.Join(err, rt.close())
	}
	klog.InfoS("Fake kubelet: real HSDS pod network ready", "bridge", nw.bridge, "hostIP", nw.hostIP, "cidr", nw.pods, "dir", rt.dir)
	return rt, nil
}

func (rt *realRuntime) setup(apiHost string) error {
	var err error
	if rt.dir, err = os.MkdirTemp(rt.r.TempDir, rt.net.runID+"-"); err != nil {
		return fmt.Errorf("creating the run directory: %w", err)
	}
	rt.data = rt.r.DataDir
	if rt.data == "" {
		rt.data = filepath.Join(rt.dir, "data")
	}
	if err := os.MkdirAll(rt.data, 0o755); err != nil {
		return err
	}
	rt.fwd, err = startForwarder(net.JoinHostPort(rt.net.hostIP.String(), "443"), apiHost)
	return err
}

// close stops the forwarder and removes the network and the run directory.
func (rt *realRuntime) close() error {
	var errs []error
	if rt.fwd != nil {
		errs = append(errs, rt.fwd.close())
	}
	errs = append(errs, rt.net.close(context.Background()))
	if rt.dir != "" {
		errs = append(errs, os.RemoveAll(rt.dir))
	}
	return errors.Join(errs...)
}

// realPod is what a real pod holds: its namespace, address, directory and processes.
type realPod struct {
	ns    string
	addr  netip.Addr
	dir   string
	procs procSet
}

// start gives pod a namespace and address, writes its service account token, hosts file and
// CA, starts its DN, SN and agent, and waits until all three answer.
func (rt *realRuntime) start(ctx context.Context, pod *corev1.Pod) (*Pod, error) {
	ns, addr, err := rt.net.addPod(ctx, pod.Name)
	if err != nil {
		return nil, err
	}
	rp := &realPod{ns: ns, addr: addr, dir: filepath.Join(rt.dir, "pods", pod.Name)}
	ip := addr.String()
	p := &Pod{Name: pod.Name, IP: ip, HostIP: rt.net.hostIP.String(), Netns: ns, real: rp,
		SNURL: rt.url(ip, RealSNPort), DNURL: rt.url(ip, RealDNPort)}
	p.AgentPort = rt.agentPort()
	p.AgentURL = rt.url(ip, p.AgentPort)
	if rt.cfg.Agent.Source == schema.SourceProxy {
		p.ProxyURL = rt.url(ip, rt.proxyPort())
	}
	err = rt.prepare(ctx, pod, rp)
	if delay := time.Duration(rt.delayAfter.Load()); err == nil && delay > 0 {
		err = rt.publishFirst(ctx, pod, p, delay)
	}
	if err == nil {
		err = rt.launch(pod.Name, rp)
	}
	if err == nil {
		err = rt.waitServing(ctx, p)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("pod %s: %w", pod.Name, err), rt.stop(p, 0))
	}
	return p, nil
}

// publishFirst writes pod Running (not Ready) with its IP before anything listens on it, then
// waits delay: a real kubelet's order, with a slow start (RealConfig.StartDelayAfterIP).
func (rt *realRuntime) publishFirst(ctx context.Context, pod *corev1.Pod, p *Pod, delay time.Duration) error {
	if rt.publish == nil {
		return errors.New("no status writer for the start delay after the IP")
	}
	if err := rt.publish(ctx, pod, p); err != nil {
		return err
	}
	klog.InfoS("Fake kubelet: pod IP published, processes start later", "pod", klog.KObj(pod), "ip", p.IP, "delay", delay)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (rt *realRuntime) url(ip string, port int) string {
	return "http://" + net.JoinHostPort(ip, strconv.Itoa(port))
}

func (rt *realRuntime) agentPort() int {
	if rt.cfg.AgentPort != 0 {
		return rt.cfg.AgentPort
	}
	return schema.DefaultAgentPort
}

func (rt *realRuntime) proxyPort() int {
	if rt.cfg.ProxyPort != 0 {
		return rt.cfg.ProxyPort
	}
	return 5190
}

// prepare writes the pod directory: serviceaccount/{token,namespace,ca.crt} (a token bound to
// the pod, for its service account, as the kubelet projects it), hosts, and run-netns (a mount
// point, see podMounts).
func (rt *realRuntime) prepare(ctx context.Context, pod *corev1.Pod, rp *realPod) error {
	sa := filepath.Join(rp.dir, "serviceaccount")
	for _, d := range []string{sa, filepath.Join(rp.dir, "run-netns")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	token, err := rt.token(ctx, pod)
	if err != nil {
		return err
	}
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n%s\t%s\n%s\tkubernetes.default.svc kubernetes.default kubernetes\n", rp.addr, pod.Name, rt.net.hostIP)
	files := map[string][]byte{
		filepath.Join(sa, "token"): []byte(token), filepath.Join(sa, "namespace"): []byte(pod.Namespace),
		filepath.Join(sa, "ca.crt"): rt.ca, filepath.Join(rp.dir, "hosts"): []byte(hosts),
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o644); err != nil { // readable by the pod, as a projected volume
			return err
		}
	}
	return nil
}

// token requests a token of the pod's service account bound to the pod (valid one day).
func (rt *realRuntime) token(ctx context.Context, pod *corev1.Pod) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(24 * time.Hour / time.Second)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	res, err := rt.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token of service account %s/%s: %w", pod.Namespace, sa, err)
	}
	return res.Status.Token, nil
}

// launch starts the DN, the SN (hsds-node --kubernetes, in the pod's mounts) and the agent (in
// the pod's network namespace).
func (rt *realRuntime) launch(pod string, rp *realPod) error {
	for _, role := range []string{"dn", "sn"} {
		port := RealDNPort
		if role == "sn" {
			port = RealSNPort
		}
		argv := []string{filepath.Join(rt.r.Dir, "hsds-node"), role, "--kubernetes", rt.net.hostIP.String(),
			"--netns", rp.ns, "--port", strconv.Itoa(port), "--root", rt.data,
			"--max-task-count", strconv.Itoa(rt.r.MaxTaskCount), "--log-level", rt.r.LogLevel}
		if rt.r.NodeSleepTime > 0 {
			argv = append(argv, "--node-sleep-time", strconv.Itoa(rt.r.NodeSleepTime))
		}
		p, err := startProc(role, inPodMounts(rp.dir, argv), nil, rt.logPath(pod, rp, role))
		if err != nil {
			return err
		}
		rp.procs.add(p)
	}
	argv := append([]string{"ip", "netns", "exec", rp.ns, rt.r.AgentBin}, rt.agentArgs()...)
	p, err := startProc("agent", argv, nil, rt.logPath(pod, rp, "agent"))
	if err != nil {
		return err
	}
	rp.procs.add(p)
	return nil
}

func (rt *realRuntime) logPath(pod string, rp *realPod, role string) string {
	if rt.r.LogDir != "" {
		return filepath.Join(rt.r.LogDir, pod+"-"+role+".log")
	}
	return filepath.Join(rp.dir, role+".log")
}

// agentArgs are the agent's flags: Config.Agent with the pod's own SN and DN on localhost (a
// sidecar's view), its listen addresses and the task limit, then RealConfig.AgentArgs.
func (rt *realRuntime) agentArgs() []string {
	o := rt.cfg.Agent
	o.SNURL = rt.url("127.0.0.1", RealSNPort)
	o.DNURL = rt.url("127.0.0.1", RealDNPort)
	o.Listen = ":" + strconv.Itoa(rt.agentPort())
	o.ProxyListen = ":" + strconv.Itoa(rt.proxyPort())
	o.MaxTaskCount = rt.r.MaxTaskCount
	return append(AgentFlags(o), rt.r.AgentArgs...)
}

// waitServing polls until the SN's and DN's /info and the agent's /healthz answer, a process
// exits, or RealConfig.StartTimeout passes.
func (rt *realRuntime) waitServing(ctx context.Context, p *Pod) error {
	ctx, cancel := context.WithTimeout(ctx, rt.r.StartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := p.real.procs.firstExit(); err != nil {
			return err
		}
		last := rt.answers(ctx, p.SNURL+"/info", p.DNURL+"/info", p.AgentURL+"/healthz")
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not serving after %s: %w", rt.r.StartTimeout, last)
		case <-tick.C:
		}
	}
}

// answers returns the first of urls that does not answer HTTP (any status), or nil.
func (rt *realRuntime) answers(ctx context.Context, urls ...string) error {
	for _, u := range urls {
		if _, err := rt.get(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

func (rt *realRuntime) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := rt.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotServing, err)
	}
	defer func() { _ = resp.Body.Close() }()
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// probe reports whether the pod's SN says READY on /info.
func (rt *realRuntime) probe(ctx context.Context, p *Pod) (bool, error) {
	body, err := rt.get(ctx, p.SNURL+"/info")
	if err != nil {
		return false, err
	}
	var info struct {
		Node struct {
			State string `json:"state"`
		} `json:"node"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return false, fmt.Errorf("SN /info: %w", err)
	}
	return info.Node.State == "READY", nil
}

// stop ends the pod's processes (SIGTERM, SIGKILL after grace) and removes its namespace and
// directory.
func (rt *realRuntime) stop(p *Pod, grace time.Duration) error {
	rp := p.real
	return errors.Join(stopProcs(rp.procs.all(), grace), rt.net.delPod(context.Background(), rp.ns, rp.addr), os.RemoveAll(rp.dir))
}

func (rt *realRuntime) probes() bool { return true }
