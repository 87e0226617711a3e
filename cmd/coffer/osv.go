package main

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"coffer/internal/advisory"
)

const osvUsage = `usage:
  coffer osv import --endpoint-url URL [--name NAME] FILE
  coffer osv list   --endpoint-url URL
  coffer osv delete --endpoint-url URL --name NAME

import stores OSV advisory data on the server, which every node then uses.
FILE is an OSV zip (as osv.dev publishes one per ecosystem, e.g.
https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip) or a
directory of OSV JSON files (e.g. the malicious-packages repository's osv/),
which is zipped into a temporary file first. NAME (default: FILE's base name
without .zip) is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-';
importing a name again replaces what it held. The server checks every record
first: a bad one is refused, with its file name, and nothing changes.

Credentials come from the AWS chain (environment, shared credentials file and
AWS_PROFILE or --profile); requests are signed with SigV4 for the service
codeartifact, the zip's SHA-256 as x-amz-content-sha256. Output is JSON on
stdout.

flags:
`

// osvTimeout bounds one command: an import uploads, checks and indexes the
// whole file before the server answers.
const osvTimeout = time.Hour

// runOSV is `coffer osv`.
func runOSV(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" && args[0] != "list" && args[0] != "delete" {
		fmt.Fprint(stderr, osvUsage)
		return errors.New("osv: give import, list or delete")
	}
	verb := args[0]
	fs := flag.NewFlagSet("coffer osv "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, osvUsage); fs.PrintDefaults() }
	api := addAPIFlags(fs, getenv)
	var name string
	if verb != "list" {
		fs.StringVar(&name, "name", "", "source name")
	}
	// Flags may come before and after FILE.
	positional, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	want := 0
	if verb == "import" {
		want = 1
	}
	if len(positional) != want {
		if want == 1 {
			return errors.New("osv import: give one FILE (a zip or a directory of OSV JSON files)")
		}
		return fmt.Errorf("osv %s: unexpected argument %q", verb, positional[0])
	}
	base, err := api.base("osv " + verb)
	if err != nil {
		return err
	}
	var file string
	switch verb {
	case "import":
		file = positional[0]
		if name == "" {
			name = defaultSourceName(file)
		}
		if !advisory.ValidName(name) {
			return fmt.Errorf("osv import: %q is not a source name (1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'); give --name", name)
		}
	case "delete":
		if name == "" {
			return errors.New("osv delete: --name is required")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), osvTimeout)
	defer cancel()
	cfg, err := awsConfig(ctx, api.profile, api.region)
	if err != nil {
		return fmt.Errorf("osv %s: %w", verb, err)
	}
	u := base.JoinPath("/coffer/v1/osv/sources")
	var out []byte
	switch verb {
	case "import":
		out, err = importSource(ctx, cfg, u.JoinPath(url.PathEscape(name)).String(), file, stderr)
	case "list":
		out, err = signedSend(ctx, cfg, nil, http.MethodGet, u.String(), nil)
	case "delete":
		out, err = signedSend(ctx, cfg, nil, http.MethodDelete, u.JoinPath(url.PathEscape(name)).String(), nil)
	}
	if err != nil {
		return fmt.Errorf("osv %s: %w", verb, err)
	}
	return printJSON(stdout, out)
}

// defaultSourceName is FILE's base name without .zip.
func defaultSourceName(file string) string {
	return strings.TrimSuffix(filepath.Base(filepath.Clean(file)), ".zip")
}

// importSource uploads file (a zip, or a directory zipped first) with its
// SHA-256 signed, so that the server verifies it as it streams.
func importSource(ctx context.Context, cfg aws.Config, target, file string, stderr io.Writer) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		zipped, n, err := zipDir(file)
		if err != nil {
			return nil, err
		}
		defer os.Remove(zipped)
		fmt.Fprintf(stderr, "zipped %d OSV files of %s\n", n, file)
		file = zipped
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	body := &signedBody{r: f, size: size, hash: hex.EncodeToString(h.Sum(nil)), contentType: "application/zip"}
	return signedSend(ctx, cfg, nil, http.MethodPut, target, body)
}

// zipDir writes the .json files under dir (walked in lexical order,
// symbolic links not followed, as osv.ReadDir reads a directory) into a new
// temporary zip, named by their paths below dir, and returns its path and
// how many files it holds.
func zipDir(dir string) (path string, n int, err error) {
	tmp, err := os.CreateTemp("", "coffer-osv-*.zip")
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		if _, err := io.Copy(w, src); err != nil {
			return err
		}
		n++
		return nil
	})
	if err == nil {
		err = zw.Close()
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("%s holds no .json file", dir)
	}
	if err != nil {
		return "", 0, err
	}
	return tmp.Name(), n, nil
}
