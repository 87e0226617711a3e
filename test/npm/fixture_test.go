package npm_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestClientsAgainstFixture is the baseline without coffer: npm, pnpm and
// yarn install the consumer project straight from the fixture registry,
// mounted under a path and requiring a token as coffer's endpoints do, and
// configured by the same npmrc lines that `aws codeartifact login` writes.
// It shows that the fixture is a registry the real clients accept and
// that the client set-up of the coffer tests is right.
func TestClientsAgainstFixture(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.reg.Prefix = "/npm/repo/"
	f.reg.Token = "fixture-token"
	f.reg.Add(libV1)
	f.reg.Add(libV11)
	f.reg.Add(appLib)
	registry := f.srv.URL + "/npm/repo/"
	cl := newClients(t, t.TempDir())
	writeNpmrc(t, cl, registry, "fixture-token")

	dir := newConsumer(t)
	out := cl.Must(dir, "npm", "install", "--loglevel", "http")
	t.Logf("npm install:\n%s", out)
	checkNPMInstall(t, cl, f, dir, registry)

	pnpm := pinnedTool(t, cl, "pnpm", pnpmVersion)
	dir = newConsumer(t)
	pnpmWorkspace(t, dir)
	out = cl.Must(dir, pnpm, "install")
	t.Logf("pnpm install:\n%s", out)
	checkRuns(t, cl, dir, "pnpm")
	checkLockMentions(t, f, filepath.Join(dir, "pnpm-lock.yaml"), registry, false)

	yarn := pinnedTool(t, cl, "yarn", yarnVersion)
	dir = newConsumer(t)
	yarnAuth(t, dir, registry)
	out = cl.Must(dir, yarn, "install", "--non-interactive", "--no-progress", "--verbose")
	t.Logf("yarn install:\n%s", tail(out))
	checkRuns(t, cl, dir, "yarn")
	checkLockMentions(t, f, filepath.Join(dir, "yarn.lock"), registry, true)
}

// writeNpmrc adds to the npm user config what `aws codeartifact login
// --tool npm` sets: the registry and its token.
func writeNpmrc(t *testing.T, cl *clients, registry, token string) {
	t.Helper()
	b, err := os.ReadFile(cl.npmrc)
	if err != nil {
		t.Fatal(err)
	}
	nerf := "//" + registry[len("http://"):]
	b = append(b, []byte("registry="+registry+"\n"+nerf+":_authToken="+token+"\n")...)
	if err := os.WriteFile(cl.npmrc, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// yarnAuth writes the project .npmrc line yarn classic needs besides what
// `aws codeartifact login` writes: without always-auth it sends the token
// for scoped packages only. (The login tries to set it but npm ≥ 9 refuses
// the setting, so the line is missing from the user config.)
func yarnAuth(t *testing.T, dir, registry string) {
	t.Helper()
	writeFiles(t, dir, map[string]string{".npmrc": "//" + registry[len("http://"):] + ":always-auth=true\n"})
}

// pnpmWorkspace exempts the packages the tests publish from pnpm's
// minimumReleaseAge (on by default in pnpm 12): they are seconds old, and
// without it pnpm resolves @myscope/lib to the oldest version instead of
// the newest.
func pnpmWorkspace(t *testing.T, dir string) {
	t.Helper()
	writeFiles(t, dir, map[string]string{"pnpm-workspace.yaml": "minimumReleaseAgeExclude:\n  - '@myscope/lib'\n  - my-app-lib\n"})
}
