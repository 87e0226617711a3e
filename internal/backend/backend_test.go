package backend

import (
	"strings"
	"testing"
)

func TestParseMetadata(t *testing.T) {
	for _, tc := range []struct {
		setting string
		want    Spec
		shared  bool
	}{
		{"", Spec{SQLite, "/data/metadata.db"}, false},
		{"sqlite:///var/lib/coffer/meta.db", Spec{SQLite, "/var/lib/coffer/meta.db"}, false},
		{"sqlite:rel/meta.db", Spec{SQLite, "rel/meta.db"}, false},
		{"postgres://coffer:pw@db:5432/coffer?sslmode=require", Spec{Postgres, "postgres://coffer:pw@db:5432/coffer?sslmode=require"}, true},
		{"postgresql://db/coffer", Spec{Postgres, "postgresql://db/coffer"}, true},
		{"host=db dbname=coffer user=coffer", Spec{Postgres, "host=db dbname=coffer user=coffer"}, true},
	} {
		got, err := ParseMetadata(tc.setting, "/data")
		if err != nil || got != tc.want || got.Shared() != tc.shared {
			t.Errorf("ParseMetadata(%q) = %+v, %v; want %+v (shared %v)", tc.setting, got, err, tc.want, tc.shared)
		}
	}
	for _, bad := range []string{"mysql://db/x", "sqlite://host/path", "sqlite:///x?mode=ro", "/just/a/path", "sqlite:"} {
		if got, err := ParseMetadata(bad, "/data"); err == nil {
			t.Errorf("ParseMetadata(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestParseBlobs(t *testing.T) {
	for _, tc := range []struct {
		setting string
		want    Spec
	}{
		{"", Spec{Files, "/data/blobs"}},
		{"file:///srv/blobs", Spec{Files, "/srv/blobs"}},
		{"s3://bucket/prefix?region=eu-west-1&endpoint=http://127.0.0.1:7070&path-style=true", Spec{S3, "s3://bucket/prefix?region=eu-west-1&endpoint=http://127.0.0.1:7070&path-style=true"}},
	} {
		got, err := ParseBlobs(tc.setting, "/data")
		if err != nil || got != tc.want {
			t.Errorf("ParseBlobs(%q) = %+v, %v; want %+v", tc.setting, got, err, tc.want)
		}
	}
	for _, bad := range []string{"gs://bucket", "file://host/x", "/srv/blobs"} {
		if got, err := ParseBlobs(bad, "/data"); err == nil {
			t.Errorf("ParseBlobs(%q) = %+v, want an error", bad, got)
		}
	}
}

// A password never reaches a log line or an error message.
func TestSecretsRedacted(t *testing.T) {
	for _, setting := range []string{"postgres://coffer:hunter2@db/coffer", "host=db password=hunter2 user=coffer", "mysql://u:hunter2@db/x"} {
		spec, err := ParseMetadata(setting, "/data")
		text := spec.String()
		if err != nil {
			text = err.Error()
		}
		if strings.Contains(text, "hunter2") {
			t.Errorf("%q shows the password: %s", setting, text)
		}
	}
}
