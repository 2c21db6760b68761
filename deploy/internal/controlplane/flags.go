package controlplane

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Loopback is the only address the control plane binds to.
const Loopback = "127.0.0.1"

// FreePorts returns n distinct free TCP ports on Loopback. The listeners are all held open until
// every port is known, so the ports differ; another process may still take one before it is used.
func FreePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(Loopback, "0"))
		if err != nil {
			return nil, fmt.Errorf("picking a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// hostPort formats Loopback:port.
func hostPort(port int) string { return net.JoinHostPort(Loopback, strconv.Itoa(port)) }

// EtcdParams are the inputs of EtcdArgs.
type EtcdParams struct {
	DataDir    string
	ClientPort int
	PeerPort   int
}

// EtcdArgs are etcd's flags: a single member on loopback, data in DataDir.
func EtcdArgs(p EtcdParams) []string {
	client := "http://" + hostPort(p.ClientPort)
	peer := "http://" + hostPort(p.PeerPort)
	return []string{
		"--name=hsds-e2e",
		"--data-dir=" + p.DataDir,
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=hsds-e2e=" + peer,
		"--log-level=warn",
	}
}

// APIServerParams are the inputs of APIServerArgs.
type APIServerParams struct {
	EtcdURL               string
	Port                  int
	CertDir               string
	TokenFile             string
	PKI                   PKIFiles
	ServiceClusterIPRange string
	Extra                 []string
}

// APIServerArgs are kube-apiserver's flags: RBAC, token auth, service accounts, and the
// aggregation layer (front-proxy client certificate and requestheader settings).
func APIServerArgs(p APIServerParams) []string {
	args := []string{
		"--etcd-servers=" + p.EtcdURL,
		"--bind-address=" + Loopback,
		"--advertise-address=" + Loopback,
		"--secure-port=" + strconv.Itoa(p.Port),
		"--cert-dir=" + p.CertDir,
		"--tls-cert-file=" + p.PKI.ServingCert,
		"--tls-private-key-file=" + p.PKI.ServingKey,
		"--service-cluster-ip-range=" + p.ServiceClusterIPRange,
		"--authorization-mode=RBAC",
		"--token-auth-file=" + p.TokenFile,
		"--client-ca-file=" + p.PKI.ClientCA,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + p.PKI.ServiceAccountKey,
		"--service-account-signing-key-file=" + p.PKI.ServiceAccountKey,
		"--requestheader-client-ca-file=" + p.PKI.FrontProxyCA,
		"--requestheader-allowed-names=" + FrontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + p.PKI.FrontProxyCert,
		"--proxy-client-key-file=" + p.PKI.FrontProxyKey,
	}
	return append(args, p.Extra...)
}

// ControllerManagerParams are the inputs of ControllerManagerArgs.
type ControllerManagerParams struct {
	Kubeconfig    string
	Port          int
	CertDir       string
	RootCAFile    string
	HPASyncPeriod time.Duration
	Extra         []string
}

// ControllerManagerArgs are kube-controller-manager's flags: every controller except the
// service account token controller, no leader election, a short HPA sync period.
func ControllerManagerArgs(p ControllerManagerParams) []string {
	args := []string{
		"--kubeconfig=" + p.Kubeconfig,
		"--authentication-kubeconfig=" + p.Kubeconfig,
		"--authorization-kubeconfig=" + p.Kubeconfig,
		"--leader-elect=false",
		"--controllers=*,-serviceaccount-token",
		"--bind-address=" + Loopback,
		"--secure-port=" + strconv.Itoa(p.Port),
		"--cert-dir=" + p.CertDir,
		"--root-ca-file=" + p.RootCAFile,
		"--horizontal-pod-autoscaler-sync-period=" + p.HPASyncPeriod.String(),
	}
	return append(args, p.Extra...)
}
