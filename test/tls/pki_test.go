package tls_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pki is the test CA: a root that clients trust and an intermediate that
// signs the server certificates (served with the intermediate in the chain).
type pki struct {
	root, inter       *x509.Certificate
	rootKey, interKey *ecdsa.PrivateKey
	pool              *x509.CertPool
	caFile            string // the root, PEM: the only certificate clients trust
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{}
	p.rootKey = newKey(t)
	now := time.Now()
	p.root = sign(t, &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "coffer test root CA", Organization: []string{"coffer tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, &p.rootKey.PublicKey, p.rootKey)
	p.interKey = newKey(t)
	p.inter = sign(t, &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "coffer test intermediate CA", Organization: []string{"coffer tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, p.root, &p.interKey.PublicKey, p.rootKey)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.root)
	p.caFile = filepath.Join(t.TempDir(), "test-ca.pem")
	writeFile(t, p.caFile, pemCert(p.root))
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

// sign issues tmpl for pub, signed by parent (itself when nil).
func sign(t *testing.T, tmpl, parent *x509.Certificate, pub, signer any) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// serverPair is a server certificate for 127.0.0.1, ::1 and localhost with
// a new key: the chain PEM (server certificate, then the intermediate) and
// the key PEM, as --tls-cert and --tls-key take them.
type serverPair struct {
	cert            *x509.Certificate
	certPEM, keyPEM []byte
}

func (p *pki) server(t *testing.T) serverPair {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	c := sign(t, &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		p.inter, &key.PublicKey, p.interKey)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return serverPair{cert: c, certPEM: append(pemCert(c), pemCert(p.inter)...),
		keyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// presented opens a new TLS connection to addr, trusting only the test
// CA, and returns the server certificate and the connection's state.
func (p *pki) presented(addr string) (*x509.Certificate, tls.ConnectionState, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"})
	if err != nil {
		return nil, tls.ConnectionState{}, err
	}
	defer c.Close()
	st := c.ConnectionState()
	return st.PeerCertificates[0], st, nil
}
