package cargo

import (
	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions of cargo.
var Guides = []guide.Guide{
	{ID: "cargo", Label: "Cargo", Format: artifact.FormatCargo, Snippets: cargoSnippets},
}

// cargoSnippets: the cargo tab. cargo (1.74 and later) sends the token as
// it is given, in "Authorization: <token>": coffer takes it bare or after
// "Bearer ".
func cargoSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{
		{ID: "cargo-config", Title: "Configure the registry; cargo fetches the token with the aws CLI", File: ".cargo/config.toml", Body: `[registries.codeartifact]
index = "sparse+` + k.Endpoint + `"
credential-provider = "cargo:token-from-stdout aws codeartifact get-authorization-token --domain ` + k.Domain + ` --domain-owner ` + k.Owner +
			` --region ` + k.Region + ` --query authorizationToken --output text --endpoint-url ` + k.API + `"

[registry]
default = "codeartifact"

[source.crates-io]
replace-with = "codeartifact"`, Note: "replace-with sends crates.io requests through this repository too; leave it out to use it for your own crates only."},
		k.GetToken(),
		{ID: "cargo-env", Title: "Or give cargo the token from the environment", File: ".cargo/config.toml", Body: `[registries.codeartifact]
index = "sparse+` + k.Endpoint + `"
credential-provider = "cargo:token"`,
			Note: "Then export CARGO_REGISTRIES_CODEARTIFACT_TOKEN=\"Bearer $CODEARTIFACT_AUTH_TOKEN\" (the bare token works too)."},
		{ID: "cargo-publish", Title: "Publish", File: "shell", Body: "cargo publish --registry codeartifact"},
		{ID: "cargo-yank", Title: "Yank a version (it becomes Unlisted) and undo it", File: "shell",
			Body: "cargo yank --registry codeartifact my-crate@1.0.0\ncargo yank --registry codeartifact --undo my-crate@1.0.0"},
	}
}
