// Package guide holds the connection instructions the console shows for a
// repository: for each client, the configuration that points it at the
// repository's real endpoint (the public URL plus the path
// GetRepositoryEndpoint returns), with the token taken from the
// CODEARTIFACT_AUTH_TOKEN environment variable where the client can read
// one, and the aws CLI commands that fetch the token. Each format's plug-in
// supplies the guides of its clients.
package guide

import (
	"net/url"
	"strings"
)

// Guide is one tab of the instructions page: a client of one format and the
// snippets that configure it.
type Guide struct {
	ID, Label, Format string
	Snippets          func(Conn) []Snippet
}

// Snippet is one block to copy.
type Snippet struct {
	ID, Title, File, Body, Note string
}

// Conn is what the instructions are made of: where the repository is.
type Conn struct {
	Endpoint                    string // repository endpoint, ending in "/"
	API                         string // control-plane endpoint (--endpoint-url)
	Domain, Owner, Repo, Region string
}

// Host is the endpoint's host[:port].
func (k Conn) Host() string {
	u, err := url.Parse(k.Endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

// NoScheme is the endpoint without "http(s)://" (npm's auth key).
func (k Conn) NoScheme() string {
	_, rest, _ := strings.Cut(k.Endpoint, "://")
	return rest
}

// Scheme is the endpoint's scheme.
func (k Conn) Scheme() string {
	s, _, _ := strings.Cut(k.Endpoint, "://")
	return s
}

// WithToken is the endpoint with aws:TOKEN user info, for clients that take
// credentials in the URL.
func (k Conn) WithToken(token string) string {
	return k.Scheme() + "://aws:" + token + "@" + k.NoScheme()
}

// Insecure: the endpoint is plain HTTP, which some clients must be told to allow.
func (k Conn) Insecure() bool { return k.Scheme() == "http" }

// GetToken is the command that puts a token in CODEARTIFACT_AUTH_TOKEN.
func (k Conn) GetToken() Snippet {
	return Snippet{ID: "get-token", Title: "Get an authorization token (valid 12 hours)", File: "shell",
		Body: "export CODEARTIFACT_AUTH_TOKEN=$(aws codeartifact get-authorization-token \\\n    --domain " + k.Domain +
			" --domain-owner " + k.Owner + " --region " + k.Region + " \\\n    --query authorizationToken --output text --endpoint-url " + k.API + ")",
		Note: "Or use the Get a token button on this page; the token is shown once."}
}

// Login is `aws codeartifact login` for the tools it supports.
func (k Conn) Login(tool string) Snippet {
	return Snippet{ID: "login", Title: "Or let the aws CLI configure " + tool + " for you", File: "shell",
		Body: "aws codeartifact login --tool " + tool + " --domain " + k.Domain + " --domain-owner " + k.Owner +
			" \\\n    --repository " + k.Repo + " --region " + k.Region + " --endpoint-url " + k.API}
}
