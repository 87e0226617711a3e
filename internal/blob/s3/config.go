package s3

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Part sizes. S3 takes parts of 5 MiB to 5 GiB and at most maxParts of them;
// two parts of each upload are in memory at once, which is why the largest
// part size allowed here is well below S3's.
const (
	DefaultPartSize = 16 << 20
	MinPartSize     = 5 << 20
	MaxPartSize     = 1 << 30
	maxParts        = 10000
)

// Config says where the blobs are kept and how they are uploaded.
type Config struct {
	Bucket string
	// Prefix is prepended to every key: "" or a path ending in "/"
	// (normalize adds the slash).
	Prefix string
	// Region is the bucket's region; "" takes it from the AWS configuration
	// (AWS_REGION, the shared config file), else us-east-1 when Endpoint
	// is set.
	Region string
	// Endpoint is the base URL of an S3-compatible server; "" means AWS.
	Endpoint string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// instead of the host name, as most S3-compatible servers want.
	PathStyle bool
	// PartSize is the size of the parts of a multipart upload; 0 means
	// DefaultPartSize. It caps the largest blob at 10000 × PartSize, and
	// each upload of a larger blob holds two parts in memory.
	PartSize int64
	// PresignLargerThan: an Object of a larger blob offers a presigned URL
	// (blob.Redirector), to which the HTTP layer redirects downloads; 0
	// means never. ParseURL leaves it to the caller.
	PresignLargerThan int64
	// SmallBlobSize is the largest blob kept in memory once read, and
	// SmallBlobCache the memory they may take (small.go); 0 means the
	// defaults, a negative SmallBlobCache keeps none.
	SmallBlobSize, SmallBlobCache int64
}

// ParseURL parses s3://bucket/prefix?region=…&endpoint=…&path-style=true&part-size=…
// into a Config. part-size is in bytes, or with a KiB, MiB or GiB suffix.
// Credentials never go in the URL: Open takes them from the AWS chain.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("s3 URL: malformed") // url's error would repeat raw
	}
	switch {
	case u.Scheme != "s3":
		return Config{}, errors.New("s3 URL: the scheme must be s3://")
	case u.User != nil:
		return Config{}, errors.New("s3 URL: must not carry credentials (they come from the AWS credential chain)")
	case u.Opaque != "" || u.Fragment != "":
		return Config{}, errors.New("s3 URL: the form is s3://bucket/prefix?options")
	}
	cfg := Config{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/")}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, errors.New("s3 URL: malformed query")
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return Config{}, fmt.Errorf("s3 URL: %s given more than once", k)
		}
		v := vs[0]
		switch k {
		case "region":
			cfg.Region = v
		case "endpoint":
			cfg.Endpoint = v
		case "path-style":
			if cfg.PathStyle, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("s3 URL: path-style must be true or false, not %q", v)
			}
		case "part-size":
			if cfg.PartSize, err = parseSize(v); err != nil {
				return Config{}, fmt.Errorf("s3 URL: part-size: %v", err)
			}
		default:
			return Config{}, fmt.Errorf("s3 URL: unknown option %q (known: region, endpoint, path-style, part-size)", k)
		}
	}
	return cfg.normalize()
}

// parseSize parses a byte count with an optional binary suffix.
func parseSize(orig string) (int64, error) {
	s, mult := orig, int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = num, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > MaxPartSize/mult {
		return 0, fmt.Errorf("%q is not a size such as 16777216 or 16MiB", orig)
	}
	return n * mult, nil
}

// normalize checks c and returns it with defaults filled in and the prefix
// ending in "/".
func (c Config) normalize() (Config, error) {
	if err := validBucket(c.Bucket); err != nil {
		return Config{}, err
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if err := validPrefix(c.Prefix); err != nil {
		return Config{}, err
	}
	if c.Endpoint != "" {
		if err := validEndpoint(c.Endpoint); err != nil {
			return Config{}, err
		}
	}
	switch {
	case c.PartSize == 0:
		c.PartSize = DefaultPartSize
	case c.PartSize < MinPartSize || c.PartSize > MaxPartSize:
		return Config{}, fmt.Errorf("s3 blob store: part size %d is outside [%d, %d] (5 MiB to 1 GiB)", c.PartSize, MinPartSize, MaxPartSize)
	}
	if c.PresignLargerThan < 0 {
		return Config{}, errors.New("s3 blob store: PresignLargerThan must not be negative")
	}
	return c, nil
}

// validBucket applies S3's naming rules for general purpose buckets.
func validBucket(b string) error {
	bad := func(why string) error { return fmt.Errorf("s3 blob store: bucket name %q %s", b, why) }
	if len(b) < 3 || len(b) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may contain only lower-case letters, digits, dots and hyphens")
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(b, "..") {
		return bad("must not contain two adjacent dots")
	}
	if net.ParseIP(b) != nil {
		return bad("must not be an IP address")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validPrefix accepts "" or relative slash-separated segments ending in "/",
// with no empty, "." or ".." segment: each key must have one spelling, and
// some servers map keys to file paths.
func validPrefix(p string) error {
	if p == "" {
		return nil
	}
	bad := func(why string) error { return fmt.Errorf("s3 blob store: prefix %q %s", p, why) }
	if strings.HasPrefix(p, "/") {
		return bad("must not begin with a slash")
	}
	if len(p) > 512 || !utf8.ValidString(p) {
		return bad("must be valid UTF-8 of at most 512 bytes")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return bad("must not contain control characters or backslashes")
		}
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("must not contain empty, \".\" or \"..\" segments")
		}
	}
	return nil
}

// validEndpoint accepts an http or https base URL without credentials:
// error messages name the endpoint.
func validEndpoint(e string) error {
	u, err := url.Parse(e)
	switch {
	case err != nil:
		return errors.New("s3 blob store: the endpoint is not a URL")
	case u.User != nil:
		return errors.New("s3 blob store: the endpoint must not carry credentials")
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("s3 blob store: endpoint %q must be an http:// or https:// URL", e)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("s3 blob store: endpoint %q must not have a query or fragment", e)
	}
	return nil
}
