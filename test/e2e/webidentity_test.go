package e2e

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/auth/webidentity/oidctest"
	"coffer/internal/testproc"
)

// ciEnv is the environment of a CI job with web identity only: no access
// key anywhere (no credentials or config file, no key variables), the
// standard AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, STS at coffer by
// AWS_ENDPOINT_URL_STS, npm's user config and cache in the job's home.
func ciEnv(t *testing.T, coffer, roleARN, token string) []string {
	home := t.TempDir()
	tokenFile := filepath.Join(home, "web-identity-token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".npmrc"), []byte("update-notifier=false\nfund=false\naudit=false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		if strings.HasPrefix(u, "AWS_") || strings.HasPrefix(u, "NPM_CONFIG_") || strings.HasPrefix(u, "XDG_") || u == "HOME" {
			continue
		}
		env = append(env, e)
	}
	return append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "no-credentials"), "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ROLE_ARN="+roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile, "AWS_ROLE_SESSION_NAME=gh-run-42",
		"AWS_ENDPOINT_URL_STS="+coffer, "NPM_CONFIG_USERCONFIG="+filepath.Join(home, ".npmrc"),
		"NPM_CONFIG_CACHE="+filepath.Join(home, "npm-cache"))
}

// TestWebIdentityWithAWSCLIAndNPM is a GitHub Actions job against coffer:
// the job's OIDC token is its only credential. Root registers the issuer
// as an OpenID Connect provider and a role that trusts it for one
// repository; the aws CLI, given only AWS_ROLE_ARN and
// AWS_WEB_IDENTITY_TOKEN_FILE, gets a session, logs npm in and npm ci
// installs a package published to coffer. Tokens for another repository,
// expired, signed by an unknown key, for another audience or altered are
// refused with STS's errors; a key rotated in at the issuer is picked up.
func TestWebIdentityWithAWSCLIAndNPM(t *testing.T) {
	need(t, "npm")
	is := oidctest.Start(t, "/gh")
	key1 := oidctest.NewRSAKey(t, "gh-key-1")
	is.SetKeys(key1)
	c := testproc.StartEnv(t, cofferBin, t.TempDir(), []string{"SSL_CERT_FILE=" + is.CAFile})

	root := newAWSCLI(t, c)
	rootHome := t.TempDir()
	work := t.TempDir()
	rootEnv := append(append([]string{}, root.env...), "AWS_ENDPOINT_URL_IAM="+c.URL, "AWS_ENDPOINT_URL_STS="+c.URL,
		"HOME="+rootHome, "NPM_CONFIG_USERCONFIG="+filepath.Join(rootHome, ".npmrc"), "NPM_CONFIG_CACHE="+filepath.Join(rootHome, "npm-cache"))
	_ = os.WriteFile(filepath.Join(rootHome, ".npmrc"), []byte("update-notifier=false\nfund=false\naudit=false\n"), 0o600)
	run := testproc.Runner{T: t, Env: rootEnv}
	acct := str(root.ok("", "create-domain", "--domain", "corp"), "domain", "owner")
	root.ok("", "create-repository", "--domain", "corp", "--repository", "libs")

	// Root publishes a package with npm and makes a project's lockfile.
	run.Must(work, "aws", "codeartifact", "login", "--tool", "npm", "--domain", "corp", "--repository", "libs", "--endpoint-url", c.URL)
	pkg := filepath.Join(work, "wi-demo")
	project := filepath.Join(work, "project")
	for dir, files := range map[string]map[string]string{
		pkg: {"package.json": `{"name":"wi-demo","version":"1.0.0","main":"index.js","license":"MIT"}`,
			"index.js": "module.exports = 'built by a job with no stored secret';\n"},
		project: {"package.json": `{"name":"ci-app","version":"0.0.0","private":true,"dependencies":{"wi-demo":"1.0.0"}}`},
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	run.Must(pkg, "npm", "publish")
	run.Must(project, "npm", "install", "--package-lock-only")

	// IAM: the issuer as OpenID Connect provider, a role for one repository.
	prov := awsOK(t, rootEnv, work, "iam", "create-open-id-connect-provider", "--url", is.URL, "--client-id-list", "sts.amazonaws.com")
	providerARN := str(prov, "OpenIDConnectProviderArn")
	if want := "arn:aws:iam::" + acct + ":oidc-provider/" + is.Host(); providerARN != want {
		t.Fatalf("provider ARN %s, want %s", providerARN, want)
	}
	got := awsOK(t, rootEnv, work, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN)
	if str(got, "Url") != is.Host() || str(got, "ClientIDList", 0) != "sts.amazonaws.com" {
		t.Fatalf("get-open-id-connect-provider: %v", got)
	}
	if l := awsOK(t, rootEnv, work, "iam", "list-open-id-connect-providers"); str(l, "OpenIDConnectProviderList", 0, "Arn") != providerARN {
		t.Fatalf("list-open-id-connect-providers: %v", l)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + is.Host() + `:aud":"sts.amazonaws.com"},` +
		`"StringLike":{"` + is.Host() + `:sub":"repo:octo-org/octo-repo:*"}}}]}`
	_ = os.WriteFile(filepath.Join(work, "trust.json"), []byte(trust), 0o600)
	_ = os.WriteFile(filepath.Join(work, "read.json"), []byte(seedPolicy), 0o600)
	roleARN := str(awsOK(t, rootEnv, work, "iam", "create-role", "--role-name", "gh-ci", "--assume-role-policy-document", "file://trust.json"), "Role", "Arn")
	readARN := str(awsOK(t, rootEnv, work, "iam", "create-policy", "--policy-name", "codeartifact-read", "--policy-document", "file://read.json"), "Policy", "Arn")
	awsOK(t, rootEnv, work, "iam", "attach-role-policy", "--role-name", "gh-ci", "--policy-arn", readARN)

	// The job: its token is the only credential.
	now := time.Now()
	jobToken := oidctest.Sign(t, key1, is.GitHubClaims("octo-org/octo-repo", "refs/heads/main", now))
	job := ciEnv(t, c.URL, roleARN, jobToken)
	who := awsOK(t, job, work, "sts", "get-caller-identity")
	if str(who, "Arn") != "arn:aws:sts::"+acct+":assumed-role/gh-ci/gh-run-42" || str(who, "Account") != acct {
		t.Fatalf("get-caller-identity with web identity: %v", who)
	}
	jobRun := testproc.Runner{T: t, Env: job}
	if out := jobRun.Must(work, "aws", "codeartifact", "login", "--tool", "npm", "--domain", "corp", "--repository", "libs",
		"--endpoint-url", c.URL); !strings.Contains(out, "Successfully configured npm") {
		t.Fatalf("codeartifact login --tool npm:\n%s", out)
	}
	ci := filepath.Join(t.TempDir(), "checkout")
	if err := os.MkdirAll(ci, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(project, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ci, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jobRun.Must(ci, "npm", "ci")
	if b, err := os.ReadFile(filepath.Join(ci, "node_modules", "wi-demo", "index.js")); err != nil || !strings.Contains(string(b), "no stored secret") {
		t.Fatalf("npm ci did not install wi-demo: %v %q", err, b)
	}
	// The session reads, and nothing more.
	awsFails(t, job, work, "AccessDeniedException", "codeartifact", "create-repository", "--domain", "corp", "--repository", "mine", "--endpoint-url", c.URL)

	// Key rotation: a token signed with a key the issuer has just started
	// to publish is accepted (the key set is read again for its key id).
	fetches := is.KeyFetches()
	key2 := oidctest.NewECKey(t, "gh-key-2")
	is.SetKeys(key2)
	rotated := oidctest.Sign(t, key2, is.GitHubClaims("octo-org/octo-repo", "refs/heads/release", time.Now()))
	if who := awsOK(t, ciEnv(t, c.URL, roleARN, rotated), work, "sts", "get-caller-identity"); !strings.HasSuffix(str(who, "Arn"), "/gh-ci/gh-run-42") {
		t.Fatalf("get-caller-identity after rotation: %v", who)
	}
	if is.KeyFetches() != fetches+1 {
		t.Fatalf("key set fetched %d times for the rotation, want once", is.KeyFetches()-fetches)
	}

	// Refusals, each as STS answers (every job its own home: the CLI caches
	// web-identity sessions by role and session name).
	b64 := base64.RawURLEncoding
	good := oidctest.Sign(t, key2, is.GitHubClaims("octo-org/octo-repo", "refs/heads/main", time.Now()))
	parts := strings.Split(good, ".")
	payload, _ := b64.DecodeString(parts[1])
	tampered := parts[0] + "." + b64.EncodeToString([]byte(strings.Replace(string(payload), "octo-org/octo-repo", "octo-org/other-repo", 1))) + "." + parts[2]
	claims := func(mod func(map[string]any)) map[string]any {
		c := is.GitHubClaims("octo-org/octo-repo", "refs/heads/main", time.Now())
		mod(c)
		return c
	}
	for _, tc := range []struct {
		name, token, code, msg string
	}{
		{"another repository", oidctest.Sign(t, key2, is.GitHubClaims("octo-org/other-repo", "refs/heads/main", time.Now())),
			"AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"expired", oidctest.Sign(t, key2, claims(func(c map[string]any) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-20*time.Minute).Unix(), time.Now().Add(-20*time.Minute).Unix(), time.Now().Add(-10*time.Minute).Unix()
		})), "ExpiredTokenException", "Token expired"},
		{"unknown key", oidctest.Sign(t, oidctest.NewRSAKey(t, "not-the-issuers"), claims(func(map[string]any) {})),
			"InvalidIdentityToken", "Couldn't retrieve verification key"},
		{"key withdrawn by the rotation", oidctest.Sign(t, key1, claims(func(map[string]any) {})),
			"InvalidIdentityToken", "Couldn't retrieve verification key"},
		{"wrong audience", oidctest.Sign(t, key2, claims(func(c map[string]any) { c["aud"] = "https://github.com/octo-org" })),
			"InvalidIdentityToken", "Incorrect token audience"},
		{"tampered payload", tampered, "InvalidIdentityToken", "could not be validated"},
	} {
		_, stderr, code := runAWS(t, ciEnv(t, c.URL, roleARN, tc.token), work, "sts", "get-caller-identity")
		if code == 0 || !strings.Contains(stderr, "("+tc.code+")") || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%s: want %s (%s), got exit %d: %s", tc.name, tc.code, tc.msg, code, stderr)
		}
	}

	// The same over the wire, unsigned, as the SDKs send it; and no other
	// action is served without a signature.
	post := func(form url.Values) (int, string) {
		resp, err := http.PostForm(c.URL+"/", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {roleARN},
		"RoleSessionName": {"direct"}, "WebIdentityToken": {tampered}}
	if status, body := post(form); status != 400 || !strings.Contains(body, "<Code>InvalidIdentityToken</Code>") {
		t.Errorf("unsigned AssumeRoleWithWebIdentity with a tampered token: %d %s", status, body)
	}
	form.Set("WebIdentityToken", good)
	status, body := post(form)
	if status != 200 || !strings.Contains(body, "<Provider>"+providerARN+"</Provider>") || !strings.Contains(body, "<Audience>sts.amazonaws.com</Audience>") ||
		!strings.Contains(body, "<SubjectFromWebIdentityToken>repo:octo-org/octo-repo:ref:refs/heads/main</SubjectFromWebIdentityToken>") ||
		!strings.Contains(body, "<Arn>arn:aws:sts::"+acct+":assumed-role/gh-ci/direct</Arn>") {
		t.Errorf("unsigned AssumeRoleWithWebIdentity: %d %s", status, body)
	}
	for _, action := range []string{"GetCallerIdentity", "AssumeRole"} {
		if status, body := post(url.Values{"Action": {action}, "Version": {"2011-06-15"}, "RoleArn": {roleARN}, "RoleSessionName": {"x"}}); status != 403 ||
			!strings.Contains(body, "MissingAuthenticationToken") {
			t.Errorf("unsigned %s: %d %s", action, status, body)
		}
	}
	if status, body := post(url.Values{"Action": {"ListUsers"}, "Version": {"2010-05-08"}}); status != 403 {
		t.Errorf("unsigned ListUsers: %d %s", status, body)
	}
}
