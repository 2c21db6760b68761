package controlplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// etcdHealthy checks etcd's /health endpoint.
func (c *Cluster) etcdHealthy(ctx context.Context) error {
	body, err := httpGet(ctx, http.DefaultClient, c.EtcdURL+"/health", "")
	if err != nil {
		return err
	}
	if !strings.Contains(body, `"health":"true"`) {
		return fmt.Errorf("etcd /health says %q", body)
	}
	return nil
}

// apiserverReady checks kube-apiserver's /readyz with the admin token, verifying its certificate.
func (c *Cluster) apiserverReady(ctx context.Context) error {
	ca, err := os.ReadFile(c.PKI.ServingCA)
	if err != nil {
		return fmt.Errorf("reading the serving CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer client.CloseIdleConnections()
	_, err = httpGet(ctx, client, c.APIServerURL+"/readyz", c.adminToken)
	return err
}

// getHealthz checks a component's /healthz; its certificate is self-signed, so it is not verified
// (the address is loopback and the port ours).
func getHealthz(ctx context.Context, url string) error {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback health check
	client := &http.Client{Transport: tr}
	defer client.CloseIdleConnections()
	_, err := httpGet(ctx, client, url, "")
	return err
}

func httpGet(ctx context.Context, client *http.Client, url, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("building GET %s: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("reading GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// NewKubeconfig builds a kubeconfig for server, trusting caFile, authenticating with token.
func NewKubeconfig(server, caFile, user, token string) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hsds-e2e"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: caFile}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["hsds-e2e"] = &clientcmdapi.Context{Cluster: "hsds-e2e", AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = "hsds-e2e"
	return cfg
}

// writeKubeconfigs writes the admin and controller-manager kubeconfigs and builds the clients.
func (c *Cluster) writeKubeconfigs() error {
	c.Kubeconfig = c.path("admin.kubeconfig")
	files := map[string]*clientcmdapi.Config{
		c.Kubeconfig:                            NewKubeconfig(c.APIServerURL, c.PKI.ServingCA, "hsds-e2e-admin", c.adminToken),
		c.path("controller-manager.kubeconfig"): NewKubeconfig(c.APIServerURL, c.PKI.ServingCA, ControllerManagerUser, c.kcmToken),
	}
	for path, kc := range files {
		if err := clientcmd.WriteToFile(*kc, path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	var err error
	if c.RESTConfig, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return fmt.Errorf("loading %s: %w", c.Kubeconfig, err)
	}
	c.RESTConfig.QPS, c.RESTConfig.Burst = 100, 200
	if c.Client, err = kubernetes.NewForConfig(c.RESTConfig); err != nil {
		return fmt.Errorf("building the clientset: %w", err)
	}
	return nil
}

// Kubectl runs kubectl against the cluster and returns its standard output. The error carries
// standard error.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	stdout, _, err := c.KubectlInput(ctx, nil, args...)
	return stdout, err
}

// KubectlInput runs kubectl with stdin (nil: none; for `apply -f -`) and returns standard output
// and standard error (where kubectl prints server warnings).
func (c *Cluster) KubectlInput(ctx context.Context, stdin []byte, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, c.Binaries.Kubectl, append([]string{"--kubeconfig=" + c.Kubeconfig, "--cache-dir=" + c.path("kubectl-cache")}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.String(), errOut.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), nil
}

// Kustomize renders the kustomization in dir with kubectl (which embeds kustomize). File loads
// outside dir are allowed: deploy/base generates its ConfigMap from ../policy.
func Kustomize(ctx context.Context, kubectl, dir string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, kubectl, "kustomize", dir)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kubectl kustomize %s: %w: %s", dir, err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}
