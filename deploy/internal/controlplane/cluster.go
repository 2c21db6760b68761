package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Component names: also the base names of their log files in Cluster.Dir.
const (
	ComponentEtcd              = "etcd"
	ComponentAPIServer         = "kube-apiserver"
	ComponentControllerManager = "kube-controller-manager"
)

// ControllerManagerUser is the user kube-controller-manager (and so its HPA controller)
// authenticates as; it is also in system:masters.
const ControllerManagerUser = "system:kube-controller-manager"

// Cluster is a running control plane. All exported fields are read-only.
type Cluster struct {
	// Dir holds certificates, kubeconfigs, etcd data and one <component>.log per process.
	Dir string
	// Kubeconfig is an admin (system:masters) kubeconfig for the cluster.
	Kubeconfig string
	// RESTConfig is the admin client configuration; copy it before changing it.
	RESTConfig *rest.Config
	// Client is an admin clientset.
	Client kubernetes.Interface
	// Binaries are the programs in use (Kubectl runs Binaries.Kubectl).
	Binaries Binaries
	// APIServerURL is https://127.0.0.1:<port>; EtcdURL is http://127.0.0.1:<port>.
	APIServerURL string
	EtcdURL      string
	// PKI holds the paths of the generated certificates and keys (PKI.ServingCA verifies the
	// API server; PKI.ClientCA and PKI.FrontProxyCA are what extension servers trust).
	PKI PKIFiles

	cfg           Config
	adminToken    string
	kcmToken      string
	apiserverArgs []string

	mu      sync.Mutex
	procs   map[string]*Process
	stopped bool
}

// Start launches etcd, kube-apiserver and kube-controller-manager and waits until each is
// healthy. On error everything already started is stopped and the error carries log tails.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid control plane config: %w", err)
	}
	bins, err := FindBinaries(ctx, cfg)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.TempDir, "hsds-e2e-")
	if err != nil {
		return nil, fmt.Errorf("creating the cluster directory: %w", err)
	}
	c := &Cluster{Dir: dir, Binaries: bins, cfg: cfg, procs: map[string]*Process{}}
	if err := c.start(ctx); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	ports, err := FreePorts(4)
	if err != nil {
		return err
	}
	etcdPort, peerPort, apiPort, kcmPort := ports[0], ports[1], ports[2], ports[3]
	if err := c.writeSecrets(); err != nil {
		return err
	}
	fmt.Fprintf(c.cfg.progress(), ">>> control plane in %s\n", c.Dir)
	c.EtcdURL = "http://" + hostPort(etcdPort)
	etcdArgs := EtcdArgs(EtcdParams{DataDir: c.path("etcd-data"), ClientPort: etcdPort, PeerPort: peerPort})
	if err := c.launch(ctx, ComponentEtcd, c.Binaries.Etcd, etcdArgs, c.etcdHealthy); err != nil {
		return err
	}
	c.APIServerURL = "https://" + hostPort(apiPort)
	c.apiserverArgs = APIServerArgs(APIServerParams{
		EtcdURL: c.EtcdURL, Port: apiPort, CertDir: c.path("apiserver-certs"), TokenFile: c.path("tokens.csv"),
		PKI: c.PKI, ServiceClusterIPRange: DefaultServiceClusterIPRange, Extra: c.cfg.ExtraAPIServerArgs,
	})
	if err := c.launch(ctx, ComponentAPIServer, c.Binaries.APIServer, c.apiserverArgs, c.apiserverReady); err != nil {
		return err
	}
	if err := c.writeKubeconfigs(); err != nil {
		return err
	}
	kcmArgs := ControllerManagerArgs(ControllerManagerParams{
		Kubeconfig: c.path("controller-manager.kubeconfig"), Port: kcmPort, CertDir: c.path("kcm-certs"),
		RootCAFile: c.PKI.ServingCA, HPASyncPeriod: c.cfg.HPASyncPeriod, Extra: c.cfg.ExtraControllerManagerArgs,
	})
	kcmHealthy := func(ctx context.Context) error { return getHealthz(ctx, "https://"+hostPort(kcmPort)+"/healthz") }
	return c.launch(ctx, ComponentControllerManager, c.Binaries.ControllerManager, kcmArgs, kcmHealthy)
}

func (c *Cluster) path(name string) string { return filepath.Join(c.Dir, name) }

// writeSecrets generates the PKI and the token file.
func (c *Cluster) writeSecrets() error {
	pki, err := NewPKI(time.Now())
	if err != nil {
		return err
	}
	if c.PKI, err = WritePKI(pki, c.Dir); err != nil {
		return err
	}
	admin, err := randomToken()
	if err != nil {
		return err
	}
	kcm, err := randomToken()
	if err != nil {
		return err
	}
	c.adminToken, c.kcmToken = admin, kcm
	return os.WriteFile(c.path("tokens.csv"), []byte(TokenFile(admin, kcm)), 0o600)
}

// TokenFile is the --token-auth-file content: an admin and the controller manager, both in
// system:masters.
func TokenFile(adminToken, kcmToken string) string {
	return fmt.Sprintf("%s,hsds-e2e-admin,uid-admin,\"system:masters\"\n%s,%s,uid-kcm,\"system:masters\"\n",
		adminToken, kcmToken, ControllerManagerUser)
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// launch starts one component and waits for healthy to succeed.
func (c *Cluster) launch(ctx context.Context, name, bin string, args []string, healthy func(context.Context) error) error {
	fmt.Fprintf(c.cfg.progress(), ">>> starting %s\n", name)
	p, err := StartProcess(name, bin, args, nil, c.path(name+".log"))
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
	start := time.Now()
	if err := waitHealthy(ctx, p, c.cfg.StartTimeout, healthy); err != nil {
		return err
	}
	klog.InfoS("Component healthy", "component", name, "after", time.Since(start).Round(time.Millisecond))
	return nil
}

// waitHealthy polls healthy every 100 ms until it succeeds, the process exits, or timeout.
func waitHealthy(ctx context.Context, p *Process, timeout time.Duration, healthy func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		reqCtx, reqCancel := context.WithTimeout(ctx, 2*time.Second)
		last = healthy(reqCtx)
		reqCancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.Done():
			return p.ExitError()
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy after %s (last check: %w); last log lines:\n%s",
				p.name, timeout, last, TailFile(p.logPath, tailLines))
		case <-tick.C:
		}
	}
}

// Stop stops every process this cluster started (controller manager, API server, etcd, by
// their own process groups) and removes Dir unless Config.Keep. It is safe to call twice.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	var errs []error
	for _, name := range []string{ComponentControllerManager, ComponentAPIServer, ComponentEtcd} {
		if p := c.procs[name]; p != nil {
			errs = append(errs, p.Stop(c.cfg.StopTimeout))
		}
	}
	if c.cfg.Keep {
		fmt.Fprintf(c.cfg.progress(), ">>> kept %s (logs, certs, kubeconfig)\n", c.Dir)
	} else if err := os.RemoveAll(c.Dir); err != nil {
		errs = append(errs, fmt.Errorf("removing %s: %w", c.Dir, err))
	}
	return errors.Join(errs...)
}

// RestartAPIServer stops kube-apiserver and starts it again with the same flags, port and etcd
// data, and waits until it is ready. Clients built from RESTConfig keep working afterwards.
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	old, stopped := c.procs[ComponentAPIServer], c.stopped
	c.mu.Unlock()
	if stopped {
		return errors.New("cluster is stopped")
	}
	if err := old.Stop(c.cfg.StopTimeout); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return c.launch(ctx, ComponentAPIServer, c.Binaries.APIServer, c.apiserverArgs, c.apiserverReady)
}

// LogPath is the log file of a component (ComponentEtcd, ComponentAPIServer, ...).
func (c *Cluster) LogPath(component string) string { return c.path(component + ".log") }

// LogTail returns the last n lines of a component's log.
func (c *Cluster) LogTail(component string, n int) string { return TailFile(c.LogPath(component), n) }

// AdminToken is the bearer token of the admin user (system:masters).
func (c *Cluster) AdminToken() string { return c.adminToken }
