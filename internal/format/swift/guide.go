package swift

import (
	"net/url"

	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions of SwiftPM.
var Guides = []guide.Guide{
	{ID: "swift", Label: "Swift", Format: artifact.FormatSwift, Snippets: swiftSnippets},
}

// swiftSnippets: the swift tab. `aws codeartifact login --tool swift`
// runs `swift package-registry set` and `login`; on Linux it first writes
// the token to ~/.netrc under the placeholder user "token", where
// `login` finds it, on macOS it passes --token and SwiftPM keeps it in the
// keychain. Either way the authentication type is token and SwiftPM sends
// "Authorization: Bearer" (PackageRegistryCommand+Auth.swift), which
// coffer takes, as it takes Basic.
func swiftSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{k.Login("swift"), k.GetToken(),
		{ID: "swift-registry", Title: "Or configure the registry yourself (in the package's directory)", File: "shell",
			Body: "swift package-registry set " + k.Endpoint +
				"\nswift package-registry login " + k.Endpoint + "login --token $CODEARTIFACT_AUTH_TOKEN",
			Note: "set --scope my-scope uses this registry for that scope only; set --global configures every package of this user."},
		{ID: "swift-netrc", Title: "On Linux, SwiftPM keeps the token in ~/.netrc", File: ".netrc",
			Body: "machine " + hostName(k) + " login token password $CODEARTIFACT_AUTH_TOKEN",
			Note: "Write the token itself in place of $CODEARTIFACT_AUTH_TOKEN (the file is not expanded), keep the file mode 0600, and run swift package-registry login " + k.Endpoint + "login without --token."},
		{ID: "swift-registries", Title: "What set writes in the package", File: ".swiftpm/configuration/registries.json", Body: `{
  "registries": {
    "[default]": {
      "url": "` + k.Endpoint + `",
      "supportsAvailability": false
    }
  },
  "version": 1
}`, Note: "login adds to ~/.swiftpm/configuration/registries.json: \"authentication\": {\"" + hostName(k) + "\": {\"type\": \"token\", \"loginAPIPath\": \"" + endpointPath(k) + "login\"}}."},
		{ID: "swift-dependency", Title: "Depend on a package by its identifier", File: "Package.swift",
			Body: `dependencies: [
    .package(id: "my-scope.my-package", from: "1.0.0"),
],`},
		{ID: "swift-publish", Title: "Publish", File: "shell", Body: "swift package-registry publish my-scope.my-package 1.0.0"},
	}
}

// hostName is the endpoint's host without its port: the key of
// registries.json's authentication and of the .netrc machine.
func hostName(k guide.Conn) string {
	u, err := url.Parse(k.Endpoint)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// endpointPath is the endpoint's path, ending in "/".
func endpointPath(k guide.Conn) string {
	u, err := url.Parse(k.Endpoint)
	if err != nil {
		return "/"
	}
	return u.EscapedPath()
}
