package rubygems

import (
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions of RubyGems' clients: Bundler,
// gem install and gem push (with ~/.gem/credentials).
var Guides = []guide.Guide{
	{ID: "ruby", Label: "RubyGems", Format: artifact.FormatRuby, Snippets: rubySnippets},
}

// rubySnippets: the ruby tab.
func rubySnippets(k guide.Conn) []guide.Snippet {
	host := strings.TrimSuffix(k.Endpoint, "/")
	return []guide.Snippet{k.GetToken(),
		{ID: "bundler", Title: "Bundler: use the repository as the gem source", File: "Gemfile", Body: "source \"" + k.Endpoint + "\""},
		{ID: "bundler-auth", Title: "and give Bundler the credentials", File: "shell", Body: "bundle config set --global " + k.Endpoint + " aws:$CODEARTIFACT_AUTH_TOKEN"},
		{ID: "gemrc", Title: "gem install: add the source", File: "~/.gemrc", Body: ":sources:\n  - " + k.WithToken("TOKEN"),
			Note: "Replace TOKEN with the token. The repository serves the compact index, so current RubyGems (3.5.19 and later) installs from it too."},
		{ID: "gem-credentials", Title: "gem push: store the key", File: "~/.gem/credentials", Body: "---\n:codeartifact: Bearer TOKEN\n",
			Note: "Replace TOKEN with the token and chmod 0600 the file; gem sends the key verbatim in the Authorization header (\"Bearer TOKEN\" or the bare token both work)."},
		{ID: "gem-push", Title: "Publish", File: "shell", Body: "gem push --key codeartifact --host " + host + " my_gem-1.0.0.gem\n# or, without the credentials file:\nGEM_HOST_API_KEY=\"Bearer $CODEARTIFACT_AUTH_TOKEN\" gem push --host " +
			host + " my_gem-1.0.0.gem"},
		{ID: "gem-yank", Title: "Yank (the version becomes Unlisted)", File: "shell", Body: "gem yank --key codeartifact --host " + host + " my_gem -v 1.0.0"},
	}
}
