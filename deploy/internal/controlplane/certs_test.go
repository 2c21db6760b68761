package controlplane

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func TestNewPKIChains(t *testing.T) {
	p, err := NewPKI(testNow)
	if err != nil {
		t.Fatal(err)
	}
	server := x509.ExtKeyUsageServerAuth
	client := x509.ExtKeyUsageClientAuth
	tests := []struct {
		name    string
		leaf    *x509.Certificate
		roots   *x509.CertPool
		dnsName string
		usage   x509.ExtKeyUsage
		wantErr bool
	}{
		{"serving cert for 127.0.0.1", p.Serving.Cert, pool(p.ServingCA.Cert), "127.0.0.1", server, false},
		{"serving cert for localhost", p.Serving.Cert, pool(p.ServingCA.Cert), "localhost", server, false},
		{"serving cert for kubernetes.default.svc", p.Serving.Cert, pool(p.ServingCA.Cert), "kubernetes.default.svc", server, false},
		{"serving cert not for other hosts", p.Serving.Cert, pool(p.ServingCA.Cert), "example.com", server, true},
		{"serving cert not from the front-proxy CA", p.Serving.Cert, pool(p.FrontProxyCA.Cert), "127.0.0.1", server, true},
		{"front-proxy client cert", p.FrontProxy.Cert, pool(p.FrontProxyCA.Cert), "", client, false},
		{"front-proxy cert is not a server cert", p.FrontProxy.Cert, pool(p.FrontProxyCA.Cert), "", server, true},
		{"front-proxy cert not from the client CA", p.FrontProxy.Cert, pool(p.ClientCA.Cert), "", client, true},
		{"client CA is self-signed", p.ClientCA.Cert, pool(p.ClientCA.Cert), "", client, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.leaf.Verify(x509.VerifyOptions{
				Roots: tt.roots, DNSName: tt.dnsName, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{tt.usage},
			})
			if (err != nil) != tt.wantErr {
				t.Errorf("Verify() error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	if got := p.FrontProxy.Cert.Subject.CommonName; got != FrontProxyClientName {
		t.Errorf("front-proxy CN = %q, want %q", got, FrontProxyClientName)
	}
	if got := p.ServiceAccount.N.BitLen(); got != 2048 {
		t.Errorf("service account key has %d bits, want 2048", got)
	}
	for _, ca := range []*x509.Certificate{p.ServingCA.Cert, p.ClientCA.Cert, p.FrontProxyCA.Cert} {
		if !ca.IsCA {
			t.Errorf("%s is not a CA", ca.Subject.CommonName)
		}
	}
}

func TestWritePKIRoundTrip(t *testing.T) {
	p, err := NewPKI(testNow)
	if err != nil {
		t.Fatal(err)
	}
	files, err := WritePKI(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certs := map[string]*x509.Certificate{
		files.ServingCA: p.ServingCA.Cert, files.ServingCert: p.Serving.Cert, files.ClientCA: p.ClientCA.Cert,
		files.FrontProxyCA: p.FrontProxyCA.Cert, files.FrontProxyCert: p.FrontProxy.Cert,
	}
	for path, want := range certs {
		block := readPEM(t, path)
		if diff := cmp.Diff(want.Raw, block.Bytes); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
	for path, wantPub := range map[string]crypto.PublicKey{
		files.ServingKey: p.Serving.Key.Public(), files.FrontProxyKey: p.FrontProxy.Key.Public(),
		files.ServiceAccountKey: p.ServiceAccount.Public(),
	} {
		key, err := x509.ParsePKCS8PrivateKey(readPEM(t, path).Bytes)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pub := key.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool })
		if !pub.Equal(wantPub) {
			t.Errorf("%s holds a different key", path)
		}
	}
}

func readPEM(t *testing.T, path string) *pem.Block {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return block
}

func BenchmarkNewPKI(b *testing.B) {
	for b.Loop() {
		if _, err := NewPKI(testNow); err != nil {
			b.Fatal(err)
		}
	}
}
