package nuget

import (
	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions of the NuGet clients: the
// source is the endpoint's v3/index.json, the user "aws", the password a
// token (Basic).
var Guides = []guide.Guide{
	{ID: "dotnet", Label: "dotnet CLI", Format: artifact.FormatNuget, Snippets: dotnetSnippets},
	{ID: "nuget", Label: "NuGet CLI", Format: artifact.FormatNuget, Snippets: nugetSnippets},
	{ID: "nuget-config", Label: "NuGet.Config", Format: artifact.FormatNuget, Snippets: configSnippets},
}

func source(k guide.Conn) string { return k.Endpoint + "v3/index.json" }

func dotnetSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{k.Login("dotnet"), k.GetToken(),
		{ID: "dotnet-source", Title: "Or add the source yourself", File: "shell", Body: "dotnet nuget add source \"" + source(k) + "\" --name codeartifact " +
			"--username aws --password \"$CODEARTIFACT_AUTH_TOKEN\" --store-password-in-clear-text",
			Note: "--store-password-in-clear-text is needed outside Windows, where dotnet cannot encrypt the password."},
		{ID: "dotnet-restore", Title: "Restore", File: "shell", Body: "dotnet restore --source codeartifact"},
		{ID: "dotnet-push", Title: "Publish", File: "shell", Body: "dotnet nuget push MyPackage.1.0.0.nupkg --source codeartifact --api-key unused",
			Note: "The API key is not read: the source's username and token authenticate the push."},
		{ID: "dotnet-unlist", Title: "Unlist a version (it becomes Unlisted)", File: "shell", Body: "dotnet nuget delete MyPackage 1.0.0 --source codeartifact --api-key unused --non-interactive"},
	}
}

func nugetSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{k.Login("nuget"), k.GetToken(),
		{ID: "nuget-source", Title: "Or add the source yourself", File: "shell", Body: "nuget sources add -name codeartifact -source \"" + source(k) +
			"\" -username aws -password \"$CODEARTIFACT_AUTH_TOKEN\""},
		{ID: "nuget-install", Title: "Install", File: "shell", Body: "nuget install MyPackage -Source codeartifact"},
		{ID: "nuget-push", Title: "Publish", File: "shell", Body: "nuget push MyPackage.1.0.0.nupkg -Source codeartifact -ApiKey unused"},
	}
}

func configSnippets(k guide.Conn) []guide.Snippet {
	insecure := ""
	if k.Insecure() {
		insecure = ` allowInsecureConnections="true"`
	}
	return []guide.Snippet{k.GetToken(),
		{ID: "nuget-config", Title: "The solution's configuration", File: "nuget.config", Body: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="codeartifact" value="` + source(k) + `" protocolVersion="3"` + insecure + ` />
  </packageSources>
  <packageSourceCredentials>
    <codeartifact>
      <add key="Username" value="aws" />
      <add key="ClearTextPassword" value="%CODEARTIFACT_AUTH_TOKEN%" />
    </codeartifact>
  </packageSourceCredentials>
</configuration>`, Note: "NuGet expands %CODEARTIFACT_AUTH_TOKEN% from the environment on every platform."},
	}
}
