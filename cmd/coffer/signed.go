package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// The client side of the coffer API (/coffer/v1/), shared by the commands
// that call it (coffer rules, coffer osv).

// awsConfig loads the AWS chain's configuration (environment, shared files,
// profile when given); region, when given, is the one signed for, else the
// chain's, else us-east-1.
func awsConfig(ctx context.Context, profile, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// signedBody is a request body: size bytes read from r, whose SHA-256 (hex)
// is hash, sent as x-amz-content-sha256 and signed, so that the server
// verifies it as it streams.
type signedBody struct {
	r           io.Reader
	size        int64
	hash        string
	contentType string
}

// emptySHA256 is the SHA-256 of no bytes.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// signedSend sends a SigV4-signed request for the service codeartifact,
// which is the scope coffer's API verifier accepts, with body (nil: none),
// through client (http.DefaultClient when nil), and returns the body of a
// 2xx answer; any other answer becomes an error naming the server's error
// type and message.
func signedSend(ctx context.Context, cfg aws.Config, client *http.Client, method, target string, body *signedBody) ([]byte, error) {
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	if body == nil {
		body = &signedBody{r: http.NoBody, hash: emptySHA256}
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body.r)
	if err != nil {
		return nil, err
	}
	req.ContentLength = body.size
	if body.size == 0 {
		req.Body = http.NoBody
	}
	if body.contentType != "" {
		req.Header.Set("Content-Type", body.contentType)
	}
	req.Header.Set("X-Amz-Content-Sha256", body.hash)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, body.hash, "codeartifact", cfg.Region, time.Now()); err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(out, &e) == nil && e.Message != "" {
			return nil, fmt.Errorf("%s (HTTP %d): %s", e.Type, resp.StatusCode, e.Message)
		}
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// printJSON writes an answer indented, with a final newline.
func printJSON(w io.Writer, out []byte) error {
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "    ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	pretty.WriteByte('\n')
	_, err := w.Write(pretty.Bytes())
	return err
}

// apiFlags are the flags of every command that calls the coffer API.
type apiFlags struct{ endpoint, region, profile string }

func addAPIFlags(fs *flag.FlagSet, getenv func(string) string) *apiFlags {
	a := &apiFlags{}
	fs.StringVar(&a.endpoint, "endpoint-url", getenv("COFFER_ENDPOINT_URL"), "coffer's URL (also COFFER_ENDPOINT_URL)")
	fs.StringVar(&a.region, "region", "", "region to sign for (default: from the AWS chain, else us-east-1)")
	fs.StringVar(&a.profile, "profile", "", "shared config profile (default: AWS_PROFILE)")
	return a
}

// base is the endpoint as a URL; cmd names the command in errors.
func (a *apiFlags) base(cmd string) (*url.URL, error) {
	if a.endpoint == "" {
		return nil, fmt.Errorf("%s: --endpoint-url is required", cmd)
	}
	u, err := url.Parse(a.endpoint)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s: --endpoint-url %q is not an http(s) URL", cmd, a.endpoint)
	}
	return u, nil
}

// domainRequest checks what a domain-scoped command needs once its flags
// are parsed (no argument left, an endpoint, a domain) and returns the
// endpoint and the query that names the domain; cmd names the command in
// errors.
func (a *apiFlags) domainRequest(cmd string, fs *flag.FlagSet, domain, owner string) (*url.URL, url.Values, error) {
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("%s: unexpected argument %q", cmd, fs.Arg(0))
	}
	base, err := a.base(cmd)
	if err != nil {
		return nil, nil, err
	}
	if domain == "" {
		return nil, nil, fmt.Errorf("%s: --domain is required", cmd)
	}
	q := url.Values{"domain": {domain}}
	if owner != "" {
		q.Set("domain-owner", owner)
	}
	return base, q, nil
}

// parseInterleaved parses args with fs, flags being allowed before and
// after the positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}
