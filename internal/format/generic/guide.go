package generic

import (
	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions for generic packages.
var Guides = []guide.Guide{{ID: "generic", Label: "Generic", Format: artifact.FormatGeneric, Snippets: genericSnippets}}

// genericSnippets: the generic tab.
func genericSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{
		{ID: "generic-publish", Title: "Publish a file", File: "shell", Body: "aws codeartifact publish-package-version --domain " + k.Domain + " --domain-owner " + k.Owner +
			" \\\n    --repository " + k.Repo + " --format generic --namespace my-namespace --package my-package --package-version 1.0.0" +
			" \\\n    --asset-content my-file.tar.gz --asset-name my-file.tar.gz --asset-sha256 $(sha256sum my-file.tar.gz | cut -d' ' -f1)" +
			" \\\n    --region " + k.Region + " --endpoint-url " + k.API},
		{ID: "generic-download", Title: "Download it with the aws CLI", File: "shell", Body: "aws codeartifact get-package-version-asset --domain " + k.Domain +
			" --domain-owner " + k.Owner + " \\\n    --repository " + k.Repo + " --format generic --namespace my-namespace --package my-package" +
			" \\\n    --package-version 1.0.0 --asset my-file.tar.gz my-file.tar.gz --region " + k.Region + " --endpoint-url " + k.API},
		k.GetToken(),
		{ID: "generic-curl", Title: "Or with curl and a token", File: "shell", Body: "curl -fL -H \"Authorization: Bearer $CODEARTIFACT_AUTH_TOKEN\" -o my-file.tar.gz \\\n  " +
			k.Endpoint + "my-namespace/my-package/1.0.0/my-file.tar.gz"},
	}
}
