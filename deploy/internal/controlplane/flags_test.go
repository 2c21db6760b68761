package controlplane

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func testPKIFiles() PKIFiles {
	return PKIFiles{
		ServingCA: "/d/serving-ca.crt", ServingCert: "/d/apiserver.crt", ServingKey: "/d/apiserver.key",
		ClientCA: "/d/client-ca.crt", FrontProxyCA: "/d/front-proxy-ca.crt",
		FrontProxyCert: "/d/front-proxy-client.crt", FrontProxyKey: "/d/front-proxy-client.key",
		ServiceAccountKey: "/d/sa.key",
	}
}

func TestArgsGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"etcd.args", EtcdArgs(EtcdParams{DataDir: "/d/etcd-data", ClientPort: 2001, PeerPort: 2002})},
		{"kube-apiserver.args", APIServerArgs(APIServerParams{
			EtcdURL: "http://127.0.0.1:2001", Port: 2003, CertDir: "/d/apiserver-certs", TokenFile: "/d/tokens.csv",
			PKI: testPKIFiles(), ServiceClusterIPRange: DefaultServiceClusterIPRange, Extra: []string{"--v=2"},
		})},
		{"kube-controller-manager.args", ControllerManagerArgs(ControllerManagerParams{
			Kubeconfig: "/d/controller-manager.kubeconfig", Port: 2004, CertDir: "/d/kcm-certs",
			RootCAFile: "/d/serving-ca.crt", HPASyncPeriod: 5 * time.Second,
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, strings.Join(tt.args, "\n")+"\n")
		})
	}
}

func TestAPIServerArgsAggregation(t *testing.T) {
	args := APIServerArgs(APIServerParams{PKI: testPKIFiles(), Port: 1})
	for _, want := range []string{
		"--authorization-mode=RBAC",
		"--bind-address=127.0.0.1",
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-client-ca-file=/d/front-proxy-ca.crt",
		"--proxy-client-cert-file=/d/front-proxy-client.crt",
		"--proxy-client-key-file=/d/front-proxy-client.key",
		"--client-ca-file=/d/client-ca.crt",
	} {
		if !contains(args, want) {
			t.Errorf("kube-apiserver args lack %s", want)
		}
	}
}

func TestControllerManagerHPASyncPeriod(t *testing.T) {
	args := ControllerManagerArgs(ControllerManagerParams{HPASyncPeriod: 1500 * time.Millisecond, Extra: []string{"--v=4"}})
	if !contains(args, "--horizontal-pod-autoscaler-sync-period=1.5s") {
		t.Errorf("args lack the HPA sync period: %v", args)
	}
	if args[len(args)-1] != "--v=4" {
		t.Errorf("extra args not appended last: %v", args)
	}
}

func contains(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || p > 65535 || seen[p] {
			t.Fatalf("ports %v: want 5 distinct valid ports", ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", hostPort(p))
		if err != nil {
			t.Fatalf("port %d is not free after FreePorts returned: %v", p, err)
		}
		l.Close()
	}
}

func TestTokenFile(t *testing.T) {
	want := "a,hsds-e2e-admin,uid-admin,\"system:masters\"\nk,system:kube-controller-manager,uid-kcm,\"system:masters\"\n"
	if diff := cmp.Diff(want, TokenFile("a", "k")); diff != "" {
		t.Errorf("TokenFile (-want +got):\n%s", diff)
	}
}
