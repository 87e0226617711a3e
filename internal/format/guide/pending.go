package guide

import (
	"coffer/internal/artifact"
)

// Pending are the instructions of the formats whose native protocol is not
// served yet: their endpoints are what CodeArtifact hands out, and the
// control plane serves their packages. Each moves into its format's package,
// with the format's plug-in, when the protocol is built.
var Pending = []Guide{
	{ID: "nuget", Label: "NuGet", Format: artifact.FormatNuget, Snippets: nugetSnippets},
	{ID: "swift", Label: "Swift", Format: artifact.FormatSwift, Snippets: swiftSnippets},
}

// nugetSnippets: the nuget tab.
func nugetSnippets(k Conn) []Snippet {
	insecure := ""
	if k.Insecure() {
		insecure = ` allowInsecureConnections="true"`
	}
	return []Snippet{k.Login("dotnet"), k.GetToken(),
		{ID: "dotnet-source", Title: "Or add the source yourself", File: "shell", Body: "dotnet nuget add source \"" + k.Endpoint + "v3/index.json\" --name codeartifact " +
			"--username aws --password \"$CODEARTIFACT_AUTH_TOKEN\" --store-password-in-clear-text"},
		{ID: "nuget-config", Title: "Or in the solution's configuration", File: "nuget.config", Body: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="codeartifact" value="` + k.Endpoint + `v3/index.json"` + insecure + ` />
  </packageSources>
  <packageSourceCredentials>
    <codeartifact>
      <add key="Username" value="aws" />
      <add key="ClearTextPassword" value="%CODEARTIFACT_AUTH_TOKEN%" />
    </codeartifact>
  </packageSourceCredentials>
</configuration>`},
		{ID: "nuget-push", Title: "Publish", File: "shell", Body: "dotnet nuget push MyPackage.1.0.0.nupkg --source codeartifact"},
	}
}

// swiftSnippets: the swift tab.
func swiftSnippets(k Conn) []Snippet {
	return []Snippet{k.Login("swift"), k.GetToken(),
		{ID: "swift-registry", Title: "Or configure the registry yourself", File: "shell", Body: "swift package-registry set " + k.Endpoint +
			"\nswift package-registry login " + k.Endpoint + "login --token $CODEARTIFACT_AUTH_TOKEN",
			Note: "On Linux, swift reads the token from ~/.netrc: machine " + k.Host() + " login token password TOKEN."},
		{ID: "swift-publish", Title: "Publish", File: "shell", Body: "swift package-registry publish my-scope.my-package 1.0.0"},
	}
}
