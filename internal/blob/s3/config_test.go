package s3

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want Config
	}{
		{"s3://bucket", Config{Bucket: "bucket", PartSize: DefaultPartSize}},
		{"s3://my.bucket-1/", Config{Bucket: "my.bucket-1", PartSize: DefaultPartSize}},
		{"s3://b01/coffer/prod", Config{Bucket: "b01", Prefix: "coffer/prod/", PartSize: DefaultPartSize}},
		{"s3://b01/coffer/?region=eu-west-3&part-size=64MiB", Config{Bucket: "b01", Prefix: "coffer/", Region: "eu-west-3", PartSize: 64 << 20}},
		{"s3://coffer-test?endpoint=http://127.0.0.1:9000&region=us-east-1&path-style=true",
			Config{Bucket: "coffer-test", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", PathStyle: true, PartSize: DefaultPartSize}},
		{"s3://b01?part-size=5242880&path-style=false", Config{Bucket: "b01", PartSize: 5 << 20}},
		{"s3://b01?part-size=8192KiB", Config{Bucket: "b01", PartSize: 8 << 20}},
		{"s3://b01?part-size=1GiB", Config{Bucket: "b01", PartSize: 1 << 30}},
	} {
		got, err := ParseURL(tc.raw)
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v\nwant %+v", tc.raw, got, err, tc.want)
		}
	}
}

func TestParseURLInvalid(t *testing.T) {
	for _, raw := range []string{
		"", "bucket", "http://bucket/x", "s3:bucket", "s3://", "s3://ab", "s3://Bucket",
		"s3://bucket_1", "s3://-bucket", "s3://bucket-", "s3://a..b", "s3://192.168.1.1",
		"s3://" + strings.Repeat("b", 64),
		"s3://bucket//x", "s3://bucket/a/../b", "s3://bucket/a/./b", "s3://bucket/a//b",
		"s3://bucket/..", "s3://bucket/a\\b", "s3://bucket/a%00b", "s3://bucket/a%0Ab",
		"s3://bucket#frag",
		"s3://key:secret@bucket",
		"s3://bucket?region=a&region=b",
		"s3://bucket?unknown=1",
		"s3://bucket?path-style=maybe",
		"s3://bucket?part-size=4MiB", "s3://bucket?part-size=2GiB", "s3://bucket?part-size=0",
		"s3://bucket?part-size=-5", "s3://bucket?part-size=16MB", "s3://bucket?part-size=x",
		"s3://bucket?part-size=99999999999999999999",
		"s3://bucket?endpoint=127.0.0.1:9000", "s3://bucket?endpoint=ftp://host",
		"s3://bucket?endpoint=http://user:pass@host", "s3://bucket?endpoint=http://host/?a=b",
	} {
		cfg, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", raw, cfg)
			continue
		}
		// Errors are logged: they must not repeat credentials.
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pass") {
			t.Errorf("ParseURL(%q): error %q repeats credentials", raw, err)
		}
	}
}

func TestParseBlobKey(t *testing.T) {
	s := &Store{cfg: Config{Prefix: "p/"}}
	sha := strings.Repeat("ab", 32)
	if name, ok := s.parseBlobKey(s.blobKey(sha)); !ok || name != sha {
		t.Errorf("parseBlobKey(blobKey) = %q, %v", name, ok)
	}
	for _, key := range []string{
		"p/blobs/cd/" + sha, "blobs/ab/" + sha, "p/blobs/ab" + sha, "p/blobs/ab/" + strings.ToUpper(sha),
		"p/blobs/ab/" + sha + "x", "p/staging/ab/" + sha, "p/blobs/ab/x/" + sha[2:],
	} {
		if name, ok := s.parseBlobKey(key); ok {
			t.Errorf("parseBlobKey(%q) = %q, want not a blob", key, name)
		}
	}
}
