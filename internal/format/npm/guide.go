package npm

import (
	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions of npm's clients.
var Guides = []guide.Guide{{ID: "npm", Label: "npm", Format: artifact.FormatNpm, Snippets: npmSnippets}}

// npmSnippets: the npm tab.
func npmSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{k.Login("npm"), k.GetToken(),
		{ID: "npmrc", Title: "Or configure npm yourself", File: ".npmrc", Body: "registry=" + k.Endpoint + "\n//" + k.NoScheme() + ":_authToken=${CODEARTIFACT_AUTH_TOKEN}",
			Note: "For one scope only, write @my-scope:registry=… instead of registry=…. npm reads the token from the environment variable."},
		{ID: "yarnrc", Title: "Yarn 2 or later", File: ".yarnrc.yml", Body: "npmRegistryServer: \"" + k.Endpoint + "\"\nnpmAlwaysAuth: true\nnpmAuthToken: \"${CODEARTIFACT_AUTH_TOKEN}\""},
	}
}
