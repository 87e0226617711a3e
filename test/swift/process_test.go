// Package swift_test drives a real coffer process as SwiftPM does: a
// scripted client replays, request by request and with SwiftPM's headers,
// what `swift package-registry publish`, `swift package resolve` and
// `swift package-registry login` send (each request says where in
// SwiftPM's Sources/PackageRegistry/RegistryClient.swift or in the
// registry specification, Documentation/PackageRegistry/Registry.md, it
// comes from), against repositories the aws CLI creates. `aws codeartifact
// login --tool swift` runs with a recording stand-in `swift` on PATH,
// which checks the arguments the CLI passes; the endpoint and token it was
// given are then used by the scripted client. No Swift toolchain is
// needed: Debian's `swift` is OpenStack's object-store client.
package swift_test

import (
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

var str = testproc.Str
