// Package formattest is the conformance suite every package format runs
// through an adapter, as store drivers run storetest and blob stores
// blobtest. Each check assembles a real coffer in-process (app.New on a
// temporary data dir, served by httptest), sets up domain dx with
// repositories and principals through App.Service and App.Identity, and
// talks to the format's repository endpoint over HTTP as the format's
// client does, with the token in that client's usual header.
//
// Every check builds its own coffer from scratch:
//
//	solo                      no upstream
//	app -> mid -> ext         ext holds the adapter's external connection,
//	                          pointing at the adapter's fixture registry
//
// The checks, each a subtest named by one of the Check constants:
//
//   - Unauthenticated: no token is 401 with a Basic challenge, on the asset
//     and on the index document.
//   - ReadDenied: a principal without codeartifact:ReadFromRepository gets
//     403, and the read makes no upstream request.
//   - PublishDenied: a principal without codeartifact:PublishPackageVersion
//     on the package gets 403 on publish, and nothing is stored.
//   - Statuses: an Unlisted version's asset is served; Archived, Disposed
//     and Unfinished versions' assets are 404 and their versions are not
//     in the index document.
//   - UpstreamRetention: a hit in an upstream repository is retained in the
//     requested repository, not in the intermediate one.
//   - ExternalRetention: a fetch from the external connection is retained
//     in the repository holding the connection and in the requested one,
//     never in the intermediate one.
//   - OriginBlock: upstream=BLOCK in the package's origin configuration, and
//     a package group's EXTERNAL_UPSTREAM BLOCK, hide the upstream versions
//     and fetch nothing.
//   - PublishConflict: publishing a version that exists upstream while the
//     package's upstream is ALLOW is 409: one an upstream repository holds,
//     one the connection's repository ingested, one only the registry
//     offers.
//   - TeeCut: when the registry serves bytes that differ from the hash it
//     announced, the client does not get a complete successful body, and
//     nothing is recorded.
//   - InternalError: a 500 is logged with its cause and answered without it.
//   - Head: HEAD answers as GET without the body (status, Content-Length,
//     ETag, Content-Type), for the asset and the index document.
//   - NotModified: If-None-Match with the ETag is 304, for the asset and the
//     index document (when the format gives it an ETag).
//
// A check that needs what a format does not have (an index document, an
// external connection) is skipped; an adapter skips others with a reason
// (Adapter.Skip). A format runs the suite from its external test package:
//
//	func TestConformance(t *testing.T) {
//		formattest.Run(t, formattest.Adapter{Format: "npm", Package: "pkg", ...})
//	}
//
// Serve gives other tests of a format (golden files of rendered documents)
// the same assembled coffer.
package formattest

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// The names of the checks, as subtests and as keys of Adapter.Skip.
const (
	CheckUnauthenticated   = "Unauthenticated"
	CheckReadDenied        = "ReadDenied"
	CheckPublishDenied     = "PublishDenied"
	CheckStatuses          = "Statuses"
	CheckUpstreamRetention = "UpstreamRetention"
	CheckExternalRetention = "ExternalRetention"
	CheckOriginBlock       = "OriginBlock"
	CheckPublishConflict   = "PublishConflict"
	CheckTeeCut            = "TeeCut"
	CheckInternalError     = "InternalError"
	CheckHead              = "Head"
	CheckNotModified       = "NotModified"
)

// T is what the suite needs of a test. Testing(t) adapts a *testing.T; the
// suite's own tests give it a recorder, to see a check fail.
type T interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	// Fatalf and Skipf end the (sub)test's goroutine, as testing.T's do.
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
	Cleanup(func())
	// Run runs f as a subtest and reports whether it succeeded.
	Run(name string, f func(t T)) bool
}

// Testing adapts a *testing.T.
func Testing(t *testing.T) T { return stdT{t} }

type stdT struct{ *testing.T }

func (t stdT) Run(name string, f func(T)) bool {
	return t.T.Run(name, func(t *testing.T) { f(stdT{t}) })
}

// Adapter tells the suite how one format is published and read.
type Adapter struct {
	// Format is the format's name as the API spells it ("npm").
	Format string
	// Namespace and Package name the package the suite works with, in
	// their stored (normalised) form; Namespace is "" for formats without.
	Namespace, Package string

	// Auth puts a token on a request the way the format's client does
	// (Basic or Bearer); nil is Basic.
	Auth func(r *http.Request, token string)

	// Publish publishes version of the package to c's repository as the
	// format's client does (for generic: PublishPackageVersion) and
	// returns the HTTP status of the request that failed, or of the last
	// one when none did. err is for what kept it from getting an answer.
	Publish func(c *Client, version string) (status int, err error)
	// PublishUnfinished leaves version Unfinished in c's repository, by
	// the format's protocol where it has such a state (a Maven deploy
	// without maven-metadata.xml, PublishPackageVersion with unfinished),
	// else through c.App.Service.
	PublishUnfinished func(c *Client, version string) error

	// AssetPath is the path, under the repository endpoint, of the
	// version's main asset (escaped as the client sends it).
	AssetPath func(version string) string
	// IndexPath is the path of the document that lists the package's
	// versions (packument, simple page, maven-metadata.xml), "" when the
	// format has none; IndexAccept is the Accept header its client sends.
	IndexPath   string
	IndexAccept string
	// Listed reports whether the index document lists version.
	Listed func(doc []byte, version string) bool

	// Connection is the format's external connection ("public:npmjs"),
	// "" when it has none. Registry returns the fixture public registry
	// it points at, serving the package in the registry's protocol with
	// u.Versions; while u.Tampered(), the main assets' bodies must differ
	// from the hashes the registry announces (same length, other bytes).
	Connection string
	Registry   func(u *Upstream) http.Handler

	// Skip maps a check the format cannot take to the reason.
	Skip map[string]string
}

// Upstream is the state of a fixture registry, which the suite controls.
type Upstream struct {
	// Versions are the versions of the package the registry offers.
	Versions []string
	tampered atomic.Bool
	requests atomic.Int64
}

// Tampered reports whether asset bodies should not match their hashes.
func (u *Upstream) Tampered() bool { return u.tampered.Load() }

// Requests is how many requests the registry has received.
func (u *Upstream) Requests() int64 { return u.requests.Load() }

// Basic sets HTTP Basic credentials aws:<token> (Maven, pip, twine, curl).
func Basic(r *http.Request, token string) { r.SetBasicAuth("aws", token) }

// Bearer sets "Authorization: Bearer <token>" (npm).
func Bearer(r *http.Request, token string) { r.Header.Set("Authorization", "Bearer "+token) }

// Run runs every check against the adapter.
func Run(t *testing.T, a Adapter) { RunT(Testing(t), a) }

// RunT is Run for any T.
func RunT(t T, a Adapter) { run(t, a, nil) }

// run runs the checks named in only (all when empty), with coffer's
// handler wrapped by wrap when it is not nil.
func run(t T, a Adapter, wrap func(http.Handler) http.Handler, only ...string) {
	t.Helper()
	if a.Format == "" || a.Package == "" || a.Publish == nil || a.AssetPath == nil {
		t.Fatalf("formattest: the adapter needs Format, Package, Publish and AssetPath")
	}
	if (a.IndexPath == "") != (a.Listed == nil) {
		t.Fatalf("formattest: IndexPath and Listed go together")
	}
	if (a.Connection == "") != (a.Registry == nil) {
		t.Fatalf("formattest: Connection and Registry go together")
	}
	for _, c := range checks {
		if len(only) > 0 && !contains(only, c.name) {
			continue
		}
		t.Run(c.name, func(t T) {
			if reason, ok := a.Skip[c.name]; ok {
				t.Skipf("%s: %s", a.Format, reason)
			}
			if c.needs&needsIndex != 0 && a.IndexPath == "" {
				t.Skipf("%s has no index document", a.Format)
			}
			if c.needs&needsConnection != 0 && a.Connection == "" {
				t.Skipf("%s has no external connection", a.Format)
			}
			c.run(&suite{t: t, a: a, wrap: wrap})
		})
	}
	// The checks that store and serve content again, in an encrypted
	// domain: the same answers, and no plaintext left in the blob store.
	t.Run("Encrypted", func(t T) {
		for _, c := range checks {
			if !contains(encryptedChecks, c.name) || len(only) > 0 && !contains(only, c.name) {
				continue
			}
			t.Run(c.name, func(t T) {
				if reason, ok := a.Skip[c.name]; ok {
					t.Skipf("%s: %s", a.Format, reason)
				}
				if c.needs&needsConnection != 0 && a.Connection == "" {
					t.Skipf("%s has no external connection", a.Format)
				}
				c.run(&suite{t: t, a: a, wrap: wrap, encrypted: true})
			})
		}
	})
}

// encryptedChecks are run again in an encrypted domain.
var encryptedChecks = []string{CheckStatuses, CheckUpstreamRetention, CheckExternalRetention, CheckHead, CheckNotModified}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// What a check needs of the adapter.
const (
	needsIndex = 1 << iota
	needsConnection
)

// check is one check of the suite.
type check struct {
	name  string
	needs int
	run   func(s *suite)
}

var checks = []check{
	{CheckUnauthenticated, 0, checkUnauthenticated},
	{CheckReadDenied, 0, checkReadDenied},
	{CheckPublishDenied, 0, checkPublishDenied},
	{CheckStatuses, 0, checkStatuses},
	{CheckUpstreamRetention, 0, checkUpstreamRetention},
	{CheckExternalRetention, needsConnection, checkExternalRetention},
	{CheckOriginBlock, needsConnection, checkOriginBlock},
	{CheckPublishConflict, 0, checkPublishConflict},
	{CheckTeeCut, needsConnection, checkTeeCut},
	{CheckInternalError, 0, checkInternalError},
	{CheckHead, 0, checkHead},
	{CheckNotModified, 0, checkNotModified},
}

// suite is what a check is given: its test and the adapter.
type suite struct {
	t    T
	a    Adapter
	wrap func(http.Handler) http.Handler
	// encrypted runs the check in a domain created with an encryption key.
	encrypted bool
}
