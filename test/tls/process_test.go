// Package tls_test runs one real coffer process that serves HTTPS with a
// certificate of a throw-away test CA (root → intermediate → server
// certificate for 127.0.0.1/localhost, the chain in --tls-cert), and
// drives the real clients against it, each trusting only that CA: the aws
// CLI (AWS_CA_BUNDLE), npm (cafile), twine and pip (--cert), mvn (a Java
// truststore made with keytool), cargo (CARGO_HTTP_CAINFO), gem
// (SSL_CERT_FILE) and bundler (ssl_ca_cert). A client that does not trust
// the CA fails; plain HTTP to the port gets net/http's 400; a Go client
// negotiates HTTP/2; the console's cookies are Secure; the certificate
// files are renewed on disk in two steps (certificate, then key) and the
// next connections present the new certificate without a restart, and so
// does a SIGHUP after a renewal that leaves the files looking unchanged.
//
// A missing client fails the test (testproc.Need): .ci/run installs them.
package tls_test

import (
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

var (
	get  = testproc.Get
	str  = testproc.Str
	tail = testproc.Tail
)

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }
