package controlplane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// FrontProxyClientName is the CN of the client certificate the aggregator presents to extension
// API servers (--requestheader-allowed-names).
const FrontProxyClientName = "front-proxy-client"

// certValidity is long enough for any test run and short enough to be obviously throw-away.
const certValidity = 7 * 24 * time.Hour

// KeyPair is a certificate and its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PKI is every certificate and key the control plane needs, generated in memory.
type PKI struct {
	ServingCA      KeyPair         // signs the kube-apiserver serving certificate
	Serving        KeyPair         // kube-apiserver serving certificate (127.0.0.1, localhost, ...)
	ClientCA       KeyPair         // --client-ca-file: published in extension-apiserver-authentication
	FrontProxyCA   KeyPair         // --requestheader-client-ca-file
	FrontProxy     KeyPair         // CN=front-proxy-client, the aggregator's client certificate
	ServiceAccount *rsa.PrivateKey // signs and verifies service account tokens
}

// PKIFiles are the paths WritePKI wrote.
type PKIFiles struct {
	ServingCA, ServingCert, ServingKey          string
	ClientCA                                    string
	FrontProxyCA, FrontProxyCert, FrontProxyKey string
	ServiceAccountKey                           string
}

// NewPKI generates a fresh PKI valid from now.
func NewPKI(now time.Time) (*PKI, error) {
	p := &PKI{}
	var err error
	if p.ServingCA, err = newCA("hsds-e2e-serving-ca", now); err != nil {
		return nil, err
	}
	serving := leafTemplate("kube-apiserver", now, x509.ExtKeyUsageServerAuth)
	serving.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")}
	serving.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
	if p.Serving, err = newLeaf(serving, p.ServingCA); err != nil {
		return nil, err
	}
	if p.ClientCA, err = newCA("hsds-e2e-client-ca", now); err != nil {
		return nil, err
	}
	if p.FrontProxyCA, err = newCA("hsds-e2e-front-proxy-ca", now); err != nil {
		return nil, err
	}
	fp := leafTemplate(FrontProxyClientName, now, x509.ExtKeyUsageClientAuth)
	if p.FrontProxy, err = newLeaf(fp, p.FrontProxyCA); err != nil {
		return nil, err
	}
	if p.ServiceAccount, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, fmt.Errorf("generating the service account key: %w", err)
	}
	return p, nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	return n, nil
}

func newCA(cn string, now time.Time) (KeyPair, error) {
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	return sign(tmpl, nil)
}

func leafTemplate(cn string, now time.Time, usage x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(certValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
}

func newLeaf(tmpl *x509.Certificate, ca KeyPair) (KeyPair, error) {
	return sign(tmpl, &ca)
}

// sign creates a P-256 key and a certificate for tmpl, signed by parent (self-signed when nil).
func sign(tmpl *x509.Certificate, parent *KeyPair) (KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generating a key for %q: %w", tmpl.Subject.CommonName, err)
	}
	if tmpl.SerialNumber, err = serial(); err != nil {
		return KeyPair{}, err
	}
	issuer, signer := tmpl, crypto.Signer(key)
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		return KeyPair{}, fmt.Errorf("signing %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return KeyPair{}, fmt.Errorf("parsing %q: %w", tmpl.Subject.CommonName, err)
	}
	return KeyPair{Cert: cert, Key: key}, nil
}

// CertPEM encodes a certificate.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// KeyPEM encodes a private key as PKCS#8.
func KeyPEM(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding a private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WritePKI writes p as PEM files into dir.
func WritePKI(p *PKI, dir string) (PKIFiles, error) {
	f := PKIFiles{
		ServingCA: filepath.Join(dir, "serving-ca.crt"), ServingCert: filepath.Join(dir, "apiserver.crt"),
		ServingKey: filepath.Join(dir, "apiserver.key"), ClientCA: filepath.Join(dir, "client-ca.crt"),
		FrontProxyCA:      filepath.Join(dir, "front-proxy-ca.crt"),
		FrontProxyCert:    filepath.Join(dir, "front-proxy-client.crt"),
		FrontProxyKey:     filepath.Join(dir, "front-proxy-client.key"),
		ServiceAccountKey: filepath.Join(dir, "sa.key"),
	}
	certs := map[string]*x509.Certificate{
		f.ServingCA: p.ServingCA.Cert, f.ServingCert: p.Serving.Cert, f.ClientCA: p.ClientCA.Cert,
		f.FrontProxyCA: p.FrontProxyCA.Cert, f.FrontProxyCert: p.FrontProxy.Cert,
	}
	for path, c := range certs {
		if err := os.WriteFile(path, CertPEM(c), 0o600); err != nil {
			return PKIFiles{}, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	keys := map[string]crypto.Signer{f.ServingKey: p.Serving.Key, f.FrontProxyKey: p.FrontProxy.Key, f.ServiceAccountKey: p.ServiceAccount}
	for path, k := range keys {
		data, err := KeyPEM(k)
		if err != nil {
			return PKIFiles{}, err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return PKIFiles{}, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return f, nil
}
