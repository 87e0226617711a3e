package tlsreload

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *ca {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsreload test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &ca{cert: c, key: key, pool: pool}
}

// leaf returns the PEM of a certificate for 127.0.0.1 with serial and of
// its new key.
func (c *ca) leaf(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
func (l *logBuf) count(s string) int          { return strings.Count(l.String(), s) }

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	ca                *ca
	certFile, keyFile string
	logs              *logBuf
	r                 *Reloader
	clock             time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{ca: newCA(t), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), logs: &logBuf{},
		clock: time.Unix(1_700_000_000, 0)}
	c, k := f.ca.leaf(t, 100)
	write(t, f.certFile, c)
	write(t, f.keyFile, k)
	r, err := New(f.certFile, f.keyFile, slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return f.clock }
	r.nextCheck.Store(f.clock.Add(r.interval).UnixNano())
	f.r = r
	return f
}

func (f *fixture) serial() int64 { return f.r.Certificate().Leaf.SerialNumber.Int64() }

// tick moves the clock past the interval and lets a handshake look.
func (f *fixture) tick(t *testing.T) int64 {
	t.Helper()
	f.clock = f.clock.Add(f.r.interval)
	c, err := f.r.GetCertificate(nil)
	if err != nil || c == nil {
		t.Fatalf("GetCertificate: %v, %v", c, err)
	}
	return c.Leaf.SerialNumber.Int64()
}

func TestNewRefusesABrokenPair(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	c1, _ := ca.leaf(t, 1)
	_, k2 := ca.leaf(t, 2)
	write(t, filepath.Join(dir, "c"), c1)
	write(t, filepath.Join(dir, "k"), k2)
	if _, err := New(filepath.Join(dir, "c"), filepath.Join(dir, "k"), nil); err == nil {
		t.Fatal("a certificate with another key's file loaded")
	}
	if _, err := New(filepath.Join(dir, "missing"), filepath.Join(dir, "k"), nil); err == nil {
		t.Fatal("a missing certificate file loaded")
	}
}

func TestReloadsWhenTheFilesChange(t *testing.T) {
	f := newFixture(t)
	if got := f.tick(t); got != 100 {
		t.Fatalf("serial %d, want 100", got)
	}
	c, k := f.ca.leaf(t, 101)
	write(t, f.certFile, c)
	write(t, f.keyFile, k)
	// Within the interval the files are not looked at.
	if got, _ := f.r.GetCertificate(nil); got.Leaf.SerialNumber.Int64() != 100 {
		t.Fatalf("the files were read again within the interval")
	}
	if got := f.tick(t); got != 101 {
		t.Fatalf("serial after the renewal %d, want 101", got)
	}
	if n := f.logs.count("TLS certificate reloaded"); n != 1 {
		t.Fatalf("%d reload lines, want 1:\n%s", n, f.logs)
	}
	// Unchanged files: no second load.
	f.tick(t)
	if n := f.logs.count("TLS certificate reloaded"); n != 1 {
		t.Fatalf("unchanged files were loaded again:\n%s", f.logs)
	}
}

func TestTwoStepRenewalKeepsTheOldPair(t *testing.T) {
	f := newFixture(t)
	c, k := f.ca.leaf(t, 200)
	write(t, f.certFile, c) // the certificate first...
	for range 3 {
		if got := f.tick(t); got != 100 {
			t.Fatalf("serving %d with the old key: want the old pair 100", got)
		}
	}
	if n := f.logs.count("could not be loaded"); n != 1 {
		t.Fatalf("%d warnings for one broken state, want 1:\n%s", n, f.logs)
	}
	if !strings.Contains(f.logs.String(), "level=WARN") {
		t.Fatalf("the failure was not a warning:\n%s", f.logs)
	}
	write(t, f.keyFile, k) // ...then the key
	if got := f.tick(t); got != 200 {
		t.Fatalf("serial after the key arrived %d, want 200", got)
	}
	// A half-written certificate file is another failed state.
	write(t, f.certFile, c[:len(c)/2])
	if got := f.tick(t); got != 200 {
		t.Fatalf("a truncated certificate replaced the pair: %d", got)
	}
	if n := f.logs.count("could not be loaded"); n != 2 {
		t.Fatalf("%d warnings, want 2:\n%s", n, f.logs)
	}
	// The repaired file loads at the next look.
	write(t, f.certFile, c)
	if got := f.tick(t); got != 200 || f.r.haveFailed {
		t.Fatalf("serial %d failed=%v after the file was repaired", got, f.r.haveFailed)
	}
}

func TestReloadIsForced(t *testing.T) {
	f := newFixture(t)
	before, _ := os.Stat(f.certFile)
	kbefore, _ := os.Stat(f.keyFile)
	// A new pair whose files look the same: same size, same mtime, same
	// inode. Only a forced reload sees it.
	var c, k []byte
	for i := int64(300); ; i++ {
		c, k = f.ca.leaf(t, i)
		if int64(len(c)) == before.Size() && int64(len(k)) == kbefore.Size() {
			break
		}
	}
	write(t, f.certFile, c)
	write(t, f.keyFile, k)
	os.Chtimes(f.certFile, before.ModTime(), before.ModTime())
	os.Chtimes(f.keyFile, kbefore.ModTime(), kbefore.ModTime())
	if got := f.tick(t); got != 100 {
		t.Fatalf("files that look unchanged were read: %d", got)
	}
	if err := f.r.Reload("SIGHUP"); err != nil {
		t.Fatal(err)
	}
	if got := f.serial(); got < 300 {
		t.Fatalf("serial after Reload %d", got)
	}
	if !strings.Contains(f.logs.String(), "reason=SIGHUP") {
		t.Fatalf("no reason logged:\n%s", f.logs)
	}
	// A forced reload of a broken pair fails and keeps the pair.
	_, k2 := f.ca.leaf(t, 999)
	write(t, f.keyFile, k2)
	cur := f.serial()
	if err := f.r.Reload("SIGHUP"); err == nil || f.serial() != cur {
		t.Fatalf("Reload of a mismatched pair: err %v, serial %d (was %d)", err, f.serial(), cur)
	}
}

// TestHandshakes serves real TLS connections: the new certificate is
// presented after a renewal, TLS 1.1 is refused, h2 is offered.
func TestHandshakes(t *testing.T) {
	f := newFixture(t)
	f.r.now = time.Now
	f.r.SetInterval(0)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", f.r.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	dial := func(cfg *tls.Config) (*tls.ConnectionState, error) {
		c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		st := c.ConnectionState()
		return &st, nil
	}
	st, err := dial(&tls.Config{RootCAs: f.ca.pool, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.PeerCertificates[0].SerialNumber.Int64() != 100 || st.NegotiatedProtocol != "h2" || st.Version < tls.VersionTLS12 {
		t.Fatalf("serial %v, ALPN %q, version %x", st.PeerCertificates[0].SerialNumber, st.NegotiatedProtocol, st.Version)
	}
	c, k := f.ca.leaf(t, 400)
	write(t, f.certFile, c)
	write(t, f.keyFile, k)
	if st, err = dial(&tls.Config{RootCAs: f.ca.pool}); err != nil || st.PeerCertificates[0].SerialNumber.Int64() != 400 {
		t.Fatalf("after renewal: %v %v", st, err)
	}
	if _, err := dial(&tls.Config{RootCAs: f.ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	if _, err := dial(&tls.Config{RootCAs: x509.NewCertPool()}); err == nil {
		t.Fatal("a client that does not trust the CA connected")
	}
}

func TestServerErrorLogLimitsHandshakeErrors(t *testing.T) {
	var buf logBuf
	l := ServerErrorLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), time.Minute)
	w := l.Writer().(*errorLogWriter)
	now := time.Unix(1_700_000_000, 0)
	w.now = func() time.Time { return now }
	for range 50 {
		l.Print("http: TLS handshake error from 10.0.0.1:1234: EOF")
	}
	l.Print("http: Accept error: too many open files")
	if n := strings.Count(buf.String(), "level=WARN"); n != 2 {
		t.Fatalf("%d warnings, want 1 handshake + 1 other:\n%s", n, buf.String())
	}
	if n := strings.Count(buf.String(), "level=DEBUG"); n != 49 {
		t.Fatalf("%d debug lines, want 49", n)
	}
	now = now.Add(time.Minute)
	l.Print("http: TLS handshake error from 10.0.0.1:1234: EOF")
	if !strings.Contains(buf.String(), "handshake_errors_not_shown_since_last=49") {
		t.Fatalf("the next warning does not count the hidden ones:\n%s", buf.String())
	}
}
