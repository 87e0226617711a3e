// Package backend turns the storage settings of a deployment (--metadata,
// --blobs) into the metadata and blob stores: the embedded default (SQLite
// and files under the data dir), or PostgreSQL and an S3-compatible object
// store shared by several nodes. `coffer serve` and `coffer migrate` open
// their stores here, so both read the same spellings.
package backend

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Kind names a driver.
type Kind string

// The drivers.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
	Files    Kind = "file"
	S3       Kind = "s3"
)

// Spec is a parsed storage setting: the driver and what it opens (a file
// path for SQLite and files, the setting itself for PostgreSQL and S3).
type Spec struct {
	Kind   Kind
	Target string
}

// Shared reports whether several processes may use the store at once.
func (s Spec) Shared() bool { return s.Kind == Postgres || s.Kind == S3 }

// String is the setting in its canonical form, without credentials.
func (s Spec) String() string {
	switch s.Kind {
	case SQLite, Files:
		return string(s.Kind) + "://" + s.Target
	}
	return redact(s.Target)
}

// ParseMetadata reads a --metadata setting; "" is SQLite at
// <dataDir>/metadata.db.
func ParseMetadata(setting, dataDir string) (Spec, error) {
	switch {
	case setting == "":
		return Spec{SQLite, filepath.Join(dataDir, "metadata.db")}, nil
	case strings.HasPrefix(setting, "postgres://"), strings.HasPrefix(setting, "postgresql://"):
		if _, err := url.Parse(setting); err != nil {
			return Spec{}, fmt.Errorf("metadata: %q is not a valid postgres:// URL", redact(setting))
		}
		return Spec{Postgres, setting}, nil
	case strings.HasPrefix(setting, "sqlite:"):
		path, err := localPath(setting, "sqlite")
		if err != nil {
			return Spec{}, fmt.Errorf("metadata: %w", err)
		}
		return Spec{SQLite, path}, nil
	case !strings.Contains(setting, "://") && strings.Contains(setting, "="):
		return Spec{Postgres, setting}, nil // libpq key-value form: host=… dbname=…
	}
	return Spec{}, fmt.Errorf("metadata: %q is not sqlite:///path, postgres://… or a libpq key-value string", redact(setting))
}

// ParseBlobs reads a --blobs setting; "" is files under <dataDir>/blobs.
func ParseBlobs(setting, dataDir string) (Spec, error) {
	switch {
	case setting == "":
		return Spec{Files, filepath.Join(dataDir, "blobs")}, nil
	case strings.HasPrefix(setting, "s3://"):
		return Spec{S3, setting}, nil
	case strings.HasPrefix(setting, "file:"):
		path, err := localPath(setting, "file")
		if err != nil {
			return Spec{}, fmt.Errorf("blobs: %w", err)
		}
		return Spec{Files, path}, nil
	}
	return Spec{}, fmt.Errorf("blobs: %q is not file:///path or s3://bucket/prefix?…", redact(setting))
}

// localPath reads scheme:///abs/path or scheme:relative/path.
func localPath(setting, scheme string) (string, error) {
	u, err := url.Parse(setting)
	if err != nil || u.Scheme != scheme || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not %s:///path", setting, scheme)
	}
	path := u.Path
	if u.Opaque != "" {
		path = u.Opaque // scheme:relative/path
	} else if u.Host != "" {
		return "", fmt.Errorf("%q names a host; write %s:///absolute/path or %s:relative/path", setting, scheme, scheme)
	}
	if path == "" {
		return "", fmt.Errorf("%q has no path", setting)
	}
	return filepath.Clean(path), nil
}

// redact hides a password in a URL or a libpq key-value string.
func redact(setting string) string {
	if u, err := url.Parse(setting); err == nil && u.Scheme != "" && u.User != nil {
		return u.Redacted()
	}
	var out []string
	for _, f := range strings.Fields(setting) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			f = k + "=xxxxx"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}
