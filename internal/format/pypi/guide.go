package pypi

import (
	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions of PyPI's clients.
var Guides = []guide.Guide{
	{ID: "pip", Label: "pip", Format: artifact.FormatPypi, Snippets: pipSnippets},
	{ID: "twine", Label: "twine", Format: artifact.FormatPypi, Snippets: twineSnippets},
}

// pipSnippets: the pip tab.
func pipSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{k.Login("pip"), k.GetToken(),
		{ID: "pip-env", Title: "Or point pip at the repository for this shell", File: "shell",
			Body: "export PIP_INDEX_URL=\"" + k.WithToken("${CODEARTIFACT_AUTH_TOKEN}") + "simple/\""},
		{ID: "pip-conf", Title: "Or in pip's configuration file", File: "~/.config/pip/pip.conf", Body: "[global]\nindex-url = " + k.WithToken("TOKEN") + "simple/",
			Note: "pip does not expand environment variables in this file: replace TOKEN with the token (aws codeartifact login --tool pip does it for you)."},
	}
}

// twineSnippets: the twine tab.
func twineSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{k.Login("twine"), k.GetToken(),
		{ID: "pypirc", Title: "Or configure twine yourself", File: "~/.pypirc", Body: "[distutils]\nindex-servers =\n    codeartifact\n\n[codeartifact]\nrepository = " +
			k.Endpoint + "\nusername = aws\npassword = TOKEN", Note: "Replace TOKEN with the token, or leave the password out and run with TWINE_PASSWORD=$CODEARTIFACT_AUTH_TOKEN."},
		{ID: "twine-upload", Title: "Upload", File: "shell", Body: "twine upload --repository codeartifact dist/*"},
	}
}
