package console

import (
	"net/http"
	"net/url"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
)

// Connection instructions: for each client, the configuration that points it
// at the repository's real endpoint (the public URL plus the path
// GetRepositoryEndpoint returns), with the token taken from the
// CODEARTIFACT_AUTH_TOKEN environment variable where the client can read
// one, and the aws CLI commands that fetch the token. Nothing here depends on
// the format being implemented yet: the endpoint URL is all a client needs.

// client is one tab of the instructions page: a client of one format of
// the format table (every format has at least one, see connect_test.go)
// and the snippets that configure it.
type client struct {
	ID, Label, Format string
	snippets          func(conn) []snippet
}

var clients = []client{
	{"maven", "Maven", artifact.FormatMaven, mavenSnippets},
	{"gradle", "Gradle", artifact.FormatMaven, gradleSnippets},
	{"npm", "npm", artifact.FormatNpm, npmSnippets},
	{"pip", "pip", artifact.FormatPypi, pipSnippets},
	{"twine", "twine", artifact.FormatPypi, twineSnippets},
	{"nuget", "NuGet", artifact.FormatNuget, nugetSnippets},
	{"cargo", "Cargo", artifact.FormatCargo, cargoSnippets},
	{"ruby", "RubyGems", artifact.FormatRuby, rubySnippets},
	{"swift", "Swift", artifact.FormatSwift, swiftSnippets},
	{"generic", "Generic", artifact.FormatGeneric, genericSnippets},
}

// snippet is one block to copy.
type snippet struct {
	ID, Title, File, Body, Note string
}

type connectView struct {
	Repo, Domain, Owner, Region string
	Client                      client
	Tabs                        []tabLink
	Endpoint                    string
	Snippets                    []snippet
	Token                       tokenForm
	RepoURL                     string
}

type tabLink struct {
	ID, Label, URL string
	Active         bool
}

func (c *Console) connectPage(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := repoRef(r)
	ctx := r.Context()
	if err := c.authorize(ctx, auth.ActionGetRepositoryEndpoint, c.repoARN(ref)); err != nil {
		return err
	}
	repo, err := c.svc.DescribeRepository(ctx, ref)
	if err != nil {
		return err
	}
	id := r.URL.Query().Get("client")
	cl := clients[0]
	for _, x := range clients {
		if x.ID == id {
			cl = x
		}
	}
	epPath, err := c.svc.RepositoryEndpointPath(ctx, ref, cl.Format)
	if err != nil {
		return err
	}
	base := c.baseURL(r)
	self := repoURL(ref.Name, ref.Repository) + "connect"
	cv := connectView{Repo: repo.Name, Domain: repo.DomainName, Owner: repo.DomainOwner, Region: c.svc.Region(), Client: cl,
		Endpoint: base + epPath, RepoURL: repoURL(ref.Name, ref.Repository)}
	cv.Token = c.tokenForm(r, s, ref.DomainRef, self+"?client="+cl.ID)
	for _, x := range clients {
		cv.Tabs = append(cv.Tabs, tabLink{ID: x.ID, Label: x.Label, URL: self + "?client=" + x.ID, Active: x.ID == cl.ID})
	}
	cv.Snippets = cl.snippets(conn{endpoint: cv.Endpoint, api: base, domain: repo.DomainName, owner: repo.DomainOwner,
		repo: repo.Name, region: c.svc.Region()})
	c.render(w, r, http.StatusOK, "connect", &view{Title: "Connect to " + repo.Name, Principal: s.principal, CSRF: s.csrf, Body: cv,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: ref.Name, Href: domainURL(ref.Name)},
			{Label: ref.Repository, Href: repoURL(ref.Name, ref.Repository)}, {Label: "Connection instructions"}}})
	return nil
}

// baseURL is the configured public URL, or the one the browser used.
func (c *Console) baseURL(r *http.Request) string {
	if c.publicURL != "" {
		return c.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// conn is what the instructions are made of.
type conn struct {
	endpoint                    string // repository endpoint, ending in "/"
	api                         string // control-plane endpoint (--endpoint-url)
	domain, owner, repo, region string
}

func (k conn) host() string {
	u, err := url.Parse(k.endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

// noScheme is the endpoint without "http(s)://" (npm's auth key).
func (k conn) noScheme() string {
	_, rest, _ := strings.Cut(k.endpoint, "://")
	return rest
}

func (k conn) scheme() string {
	s, _, _ := strings.Cut(k.endpoint, "://")
	return s
}

// withToken is the endpoint with aws:TOKEN user info, for clients that take
// credentials in the URL.
func (k conn) withToken(token string) string {
	return k.scheme() + "://aws:" + token + "@" + k.noScheme()
}

func (k conn) insecure() bool { return k.scheme() == "http" }

// getToken is the command that puts a token in CODEARTIFACT_AUTH_TOKEN.
func (k conn) getToken() snippet {
	return snippet{ID: "get-token", Title: "Get an authorization token (valid 12 hours)", File: "shell",
		Body: "export CODEARTIFACT_AUTH_TOKEN=$(aws codeartifact get-authorization-token \\\n    --domain " + k.domain +
			" --domain-owner " + k.owner + " --region " + k.region + " \\\n    --query authorizationToken --output text --endpoint-url " + k.api + ")",
		Note: "Or use the Get a token button on this page; the token is shown once."}
}

// login is `aws codeartifact login` for the tools it supports.
func (k conn) login(tool string) snippet {
	return snippet{ID: "login", Title: "Or let the aws CLI configure " + tool + " for you", File: "shell",
		Body: "aws codeartifact login --tool " + tool + " --domain " + k.domain + " --domain-owner " + k.owner +
			" \\\n    --repository " + k.repo + " --region " + k.region + " --endpoint-url " + k.api}
}

// mavenSnippets: the maven tab.
func mavenSnippets(k conn) []snippet {
	return []snippet{k.getToken(),
		{ID: "maven-settings", Title: "Add the server, profile and mirror to your settings", File: "~/.m2/settings.xml", Body: `<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <servers>
    <server>
      <id>codeartifact</id>
      <username>aws</username>
      <password>${env.CODEARTIFACT_AUTH_TOKEN}</password>
    </server>
  </servers>
  <profiles>
    <profile>
      <id>default</id>
      <repositories>
        <repository>
          <id>codeartifact</id>
          <url>` + k.endpoint + `</url>
        </repository>
      </repositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>default</activeProfile>
  </activeProfiles>
  <mirrors>
    <mirror>
      <id>codeartifact</id>
      <name>codeartifact</name>
      <url>` + k.endpoint + `</url>
      <mirrorOf>*</mirrorOf>
    </mirror>
  </mirrors>
</settings>`, Note: "The mirror sends every Maven request through this repository, so its upstreams and external connection serve Maven Central too."},
		{ID: "maven-pom", Title: "To publish with mvn deploy, add to your project", File: "pom.xml", Body: `<distributionManagement>
  <repository>
    <id>codeartifact</id>
    <name>codeartifact</name>
    <url>` + k.endpoint + `</url>
  </repository>
</distributionManagement>`},
	}
}

// gradleSnippets: the gradle tab.
func gradleSnippets(k conn) []snippet {
	groovyInsecure, kotlinInsecure := "", ""
	if k.insecure() {
		groovyInsecure = "\n        allowInsecureProtocol = true"
		kotlinInsecure = "\n        isAllowInsecureProtocol = true"
	}
	return []snippet{k.getToken(),
		{ID: "gradle-groovy", Title: "Resolve dependencies from this repository (Groovy DSL)", File: "build.gradle", Body: `repositories {
    maven {
        url '` + k.endpoint + `'` + groovyInsecure + `
        credentials {
            username "aws"
            password System.env.CODEARTIFACT_AUTH_TOKEN
        }
    }
}`},
		{ID: "gradle-kotlin", Title: "Or with the Kotlin DSL", File: "build.gradle.kts", Body: `repositories {
    maven {
        url = uri("` + k.endpoint + `")` + kotlinInsecure + `
        credentials {
            username = "aws"
            password = System.getenv("CODEARTIFACT_AUTH_TOKEN")
        }
    }
}`},
		{ID: "gradle-publish", Title: "To publish with the maven-publish plugin", File: "build.gradle", Body: `publishing {
    publications {
        mavenJava(MavenPublication) {
            from components.java
        }
    }
    repositories {
        maven {
            url '` + k.endpoint + `'` + strings.ReplaceAll(groovyInsecure, "\n", "\n    ") + `
            credentials {
                username "aws"
                password System.env.CODEARTIFACT_AUTH_TOKEN
            }
        }
    }
}`},
	}
}

// npmSnippets: the npm tab.
func npmSnippets(k conn) []snippet {
	return []snippet{k.login("npm"), k.getToken(),
		{ID: "npmrc", Title: "Or configure npm yourself", File: ".npmrc", Body: "registry=" + k.endpoint + "\n//" + k.noScheme() + ":_authToken=${CODEARTIFACT_AUTH_TOKEN}",
			Note: "For one scope only, write @my-scope:registry=… instead of registry=…. npm reads the token from the environment variable."},
		{ID: "yarnrc", Title: "Yarn 2 or later", File: ".yarnrc.yml", Body: "npmRegistryServer: \"" + k.endpoint + "\"\nnpmAlwaysAuth: true\nnpmAuthToken: \"${CODEARTIFACT_AUTH_TOKEN}\""},
	}
}

// pipSnippets: the pip tab.
func pipSnippets(k conn) []snippet {
	return []snippet{k.login("pip"), k.getToken(),
		{ID: "pip-env", Title: "Or point pip at the repository for this shell", File: "shell",
			Body: "export PIP_INDEX_URL=\"" + k.withToken("${CODEARTIFACT_AUTH_TOKEN}") + "simple/\""},
		{ID: "pip-conf", Title: "Or in pip's configuration file", File: "~/.config/pip/pip.conf", Body: "[global]\nindex-url = " + k.withToken("TOKEN") + "simple/",
			Note: "pip does not expand environment variables in this file: replace TOKEN with the token (aws codeartifact login --tool pip does it for you)."},
	}
}

// twineSnippets: the twine tab.
func twineSnippets(k conn) []snippet {
	return []snippet{k.login("twine"), k.getToken(),
		{ID: "pypirc", Title: "Or configure twine yourself", File: "~/.pypirc", Body: "[distutils]\nindex-servers =\n    codeartifact\n\n[codeartifact]\nrepository = " +
			k.endpoint + "\nusername = aws\npassword = TOKEN", Note: "Replace TOKEN with the token, or leave the password out and run with TWINE_PASSWORD=$CODEARTIFACT_AUTH_TOKEN."},
		{ID: "twine-upload", Title: "Upload", File: "shell", Body: "twine upload --repository codeartifact dist/*"},
	}
}

// nugetSnippets: the nuget tab.
func nugetSnippets(k conn) []snippet {
	insecure := ""
	if k.insecure() {
		insecure = ` allowInsecureConnections="true"`
	}
	return []snippet{k.login("dotnet"), k.getToken(),
		{ID: "dotnet-source", Title: "Or add the source yourself", File: "shell", Body: "dotnet nuget add source \"" + k.endpoint + "v3/index.json\" --name codeartifact " +
			"--username aws --password \"$CODEARTIFACT_AUTH_TOKEN\" --store-password-in-clear-text"},
		{ID: "nuget-config", Title: "Or in the solution's configuration", File: "nuget.config", Body: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="codeartifact" value="` + k.endpoint + `v3/index.json"` + insecure + ` />
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
func cargoSnippets(k conn) []snippet {
	return []snippet{
		{ID: "cargo-config", Title: "Configure the registry; cargo fetches the token with the aws CLI", File: ".cargo/config.toml", Body: `[registries.codeartifact]
index = "sparse+` + k.endpoint + `"
credential-provider = "cargo:token-from-stdout aws codeartifact get-authorization-token --domain ` + k.domain + ` --domain-owner ` + k.owner +
			` --region ` + k.region + ` --query authorizationToken --output text --endpoint-url ` + k.api + `"

[registry]
default = "codeartifact"

[source.crates-io]
replace-with = "codeartifact"`, Note: "replace-with sends crates.io requests through this repository too; leave it out to use it for your own crates only."},
		k.getToken(),
		{ID: "cargo-env", Title: "Or give cargo a token from the environment (with credential-provider = \"cargo:token\")", File: "shell",
			Body: "export CARGO_REGISTRIES_CODEARTIFACT_TOKEN=\"Bearer $CODEARTIFACT_AUTH_TOKEN\""},
		{ID: "cargo-publish", Title: "Publish", File: "shell", Body: "cargo publish --registry codeartifact"},
	}
}

// rubySnippets: the ruby tab.
func rubySnippets(k conn) []snippet {
	return []snippet{k.getToken(),
		{ID: "bundler", Title: "Bundler: use the repository as the gem source", File: "Gemfile", Body: "source \"" + k.endpoint + "\""},
		{ID: "bundler-auth", Title: "and give Bundler the credentials", File: "shell", Body: "bundle config set --global " + k.endpoint + " aws:$CODEARTIFACT_AUTH_TOKEN"},
		{ID: "gemrc", Title: "gem install: add the source", File: "~/.gemrc", Body: ":sources:\n  - " + k.withToken("TOKEN"),
			Note: "Replace TOKEN with the token."},
		{ID: "gem-push", Title: "Publish", File: "shell", Body: "export GEM_HOST_API_KEY=\"Bearer $CODEARTIFACT_AUTH_TOKEN\"\ngem push --host " +
			strings.TrimSuffix(k.endpoint, "/") + " my_gem-1.0.0.gem"},
	}
}

// swiftSnippets: the swift tab.
func swiftSnippets(k conn) []snippet {
	return []snippet{k.login("swift"), k.getToken(),
		{ID: "swift-registry", Title: "Or configure the registry yourself", File: "shell", Body: "swift package-registry set " + k.endpoint +
			"\nswift package-registry login " + k.endpoint + "login --token $CODEARTIFACT_AUTH_TOKEN",
			Note: "On Linux, swift reads the token from ~/.netrc: machine " + k.host() + " login token password TOKEN."},
		{ID: "swift-publish", Title: "Publish", File: "shell", Body: "swift package-registry publish my-scope.my-package 1.0.0"},
	}
}

// genericSnippets: the generic tab.
func genericSnippets(k conn) []snippet {
	return []snippet{
		{ID: "generic-publish", Title: "Publish a file", File: "shell", Body: "aws codeartifact publish-package-version --domain " + k.domain + " --domain-owner " + k.owner +
			" \\\n    --repository " + k.repo + " --format generic --namespace my-namespace --package my-package --package-version 1.0.0" +
			" \\\n    --asset-content my-file.tar.gz --asset-name my-file.tar.gz --asset-sha256 $(sha256sum my-file.tar.gz | cut -d' ' -f1)" +
			" \\\n    --region " + k.region + " --endpoint-url " + k.api},
		{ID: "generic-download", Title: "Download it with the aws CLI", File: "shell", Body: "aws codeartifact get-package-version-asset --domain " + k.domain +
			" --domain-owner " + k.owner + " \\\n    --repository " + k.repo + " --format generic --namespace my-namespace --package my-package" +
			" \\\n    --package-version 1.0.0 --asset my-file.tar.gz my-file.tar.gz --region " + k.region + " --endpoint-url " + k.api},
		k.getToken(),
		{ID: "generic-curl", Title: "Or with curl and a token", File: "shell", Body: "curl -fL -H \"Authorization: Bearer $CODEARTIFACT_AUTH_TOKEN\" -o my-file.tar.gz \\\n  " +
			k.endpoint + "my-namespace/my-package/1.0.0/my-file.tar.gz"},
	}
}
