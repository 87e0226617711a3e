// Package oidctest is an OpenID Connect issuer for tests: its own CA and a
// server certificate for 127.0.0.1, an HTTPS server on loopback with the
// discovery document and the key set, signing keys that can be rotated,
// and a signer of ID tokens.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Key is a signing key with its key id and algorithm.
type Key = jose.JSONWebKey

// Issuer is a running test issuer.
type Issuer struct {
	// URL is the issuer (the iss claim): https://127.0.0.1:<port><path>.
	URL string
	// CAFile is the PEM file of the CA that signed the server certificate,
	// for SSL_CERT_FILE.
	CAFile string
	// Client trusts the CA.
	Client *http.Client

	srv     *httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int32
}

// Start runs an issuer whose URL ends in path ("" or "/tenant"); it stops
// at the end of the test.
func Start(t testing.TB, path string) *Issuer {
	t.Helper()
	caCert, caKey := newCA(t)
	is := &Issuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.URL, "jwks_uri": is.srv.URL + "/.well-known/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"}, "response_types_supported": []string{"id_token"},
			"subject_types_supported": []string{"public", "pairwise"}})
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		var set jose.JSONWebKeySet
		for _, k := range is.keys {
			set.Keys = append(set.Keys, k.Public())
		}
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	is.srv = httptest.NewUnstartedServer(mux)
	is.srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert(t, caCert, caKey)}, MinVersion: tls.VersionTLS12}
	is.srv.StartTLS()
	t.Cleanup(is.srv.Close)
	is.URL = is.srv.URL + path

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw})
	is.CAFile = filepath.Join(t.TempDir(), "oidc-ca.pem")
	if err := os.WriteFile(is.CAFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	is.Client = &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return is
}

// Host is the issuer URL without its scheme: the name of its IAM OpenID
// Connect provider and the prefix of its condition keys.
func (is *Issuer) Host() string { return is.URL[len("https://"):] }

// Close stops the server: the issuer becomes unreachable.
func (is *Issuer) Close() { is.srv.Close() }

// KeyFetches counts the requests for the key set.
func (is *Issuer) KeyFetches() int { return int(is.fetches.Load()) }

// NewRSAKey and NewECKey make signing keys (RS256, ES256) with key id kid;
// the issuer publishes only the keys given to SetKeys.
func NewRSAKey(t testing.TB, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
}

func NewECKey(t testing.TB, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}
}

// SetKeys replaces the published keys.
func (is *Issuer) SetKeys(keys ...jose.JSONWebKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = keys
}

// Sign makes a compact JWS of claims with key (its algorithm and key id).
func Sign(t testing.TB, key jose.JSONWebKey, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// GitHubClaims are the claims of a GitHub Actions job token for repo on
// ref, issued now, valid ten minutes, for the audience sts.amazonaws.com.
func (is *Issuer) GitHubClaims(repo, ref string, now time.Time) map[string]any {
	owner, _, _ := strings.Cut(repo, "/")
	return map[string]any{
		"iss": is.URL, "aud": "sts.amazonaws.com", "sub": "repo:" + repo + ":ref:" + ref,
		"jti": rand.Text(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"repository": repo, "repository_owner": owner, "ref": ref, "ref_type": "branch",
		"workflow": "ci", "event_name": "push", "run_id": "1234567890", "run_attempt": "1", "actor": "octocat",
		"job_workflow_ref": repo + "/.github/workflows/ci.yml@" + ref, "runner_environment": "github-hosted",
	}
}

func newCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "oidctest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func serverCert(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: key}
}
