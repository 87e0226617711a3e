package guide

import (
	"strings"

	"coffer/internal/artifact"
)

// Pending are the instructions of the formats whose native protocol is not
// served yet: their endpoints are what CodeArtifact hands out, and the
// control plane serves their packages. Each moves into its format's package,
// with the format's plug-in, when the protocol is built.
var Pending = []Guide{
	{ID: "nuget", Label: "NuGet", Format: artifact.FormatNuget, Snippets: nugetSnippets},
	{ID: "cargo", Label: "Cargo", Format: artifact.FormatCargo, Snippets: cargoSnippets},
	{ID: "ruby", Label: "RubyGems", Format: artifact.FormatRuby, Snippets: rubySnippets},
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

// cargoSnippets: the cargo tab.
func cargoSnippets(k Conn) []Snippet {
	return []Snippet{
		{ID: "cargo-config", Title: "Configure the registry; cargo fetches the token with the aws CLI", File: ".cargo/config.toml", Body: `[registries.codeartifact]
index = "sparse+` + k.Endpoint + `"
credential-provider = "cargo:token-from-stdout aws codeartifact get-authorization-token --domain ` + k.Domain + ` --domain-owner ` + k.Owner +
			` --region ` + k.Region + ` --query authorizationToken --output text --endpoint-url ` + k.API + `"

[registry]
default = "codeartifact"

[source.crates-io]
replace-with = "codeartifact"`, Note: "replace-with sends crates.io requests through this repository too; leave it out to use it for your own crates only."},
		k.GetToken(),
		{ID: "cargo-env", Title: "Or give cargo a token from the environment (with credential-provider = \"cargo:token\")", File: "shell",
			Body: "export CARGO_REGISTRIES_CODEARTIFACT_TOKEN=\"Bearer $CODEARTIFACT_AUTH_TOKEN\""},
		{ID: "cargo-publish", Title: "Publish", File: "shell", Body: "cargo publish --registry codeartifact"},
	}
}

// rubySnippets: the ruby tab.
func rubySnippets(k Conn) []Snippet {
	return []Snippet{k.GetToken(),
		{ID: "bundler", Title: "Bundler: use the repository as the gem source", File: "Gemfile", Body: "source \"" + k.Endpoint + "\""},
		{ID: "bundler-auth", Title: "and give Bundler the credentials", File: "shell", Body: "bundle config set --global " + k.Endpoint + " aws:$CODEARTIFACT_AUTH_TOKEN"},
		{ID: "gemrc", Title: "gem install: add the source", File: "~/.gemrc", Body: ":sources:\n  - " + k.WithToken("TOKEN"),
			Note: "Replace TOKEN with the token."},
		{ID: "gem-push", Title: "Publish", File: "shell", Body: "export GEM_HOST_API_KEY=\"Bearer $CODEARTIFACT_AUTH_TOKEN\"\ngem push --host " +
			strings.TrimSuffix(k.Endpoint, "/") + " my_gem-1.0.0.gem"},
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
