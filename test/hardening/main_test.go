// Package hardening attacks a real coffer process on a loopback port the way
// a hostile client or a hostile upstream would, and checks that each attack
// is refused in the protocol's own shape and changes nothing. One file per
// fault class; every test here failed against the code before its fix.
package hardening

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the whole package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

func startCoffer(t *testing.T, dataDir string, extraArgs ...string) *testproc.Coffer {
	t.Helper()
	return testproc.Start(t, cofferBin, dataDir, extraArgs...)
}

// rootCreds reads the root key pair coffer wrote into its data dir on first
// start.
func rootCreds(t *testing.T, dataDir string) aws.Credentials {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "root-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`aws_access_key_id\s*=\s*(\S+)`).FindSubmatch(b)
	secret := regexp.MustCompile(`aws_secret_access_key\s*=\s*(\S+)`).FindSubmatch(b)
	if id == nil || secret == nil {
		t.Fatal("root-credentials has no key pair")
	}
	return aws.Credentials{AccessKeyID: string(id[1]), SecretAccessKey: string(secret[1])}
}

// sdkConfig is an AWS SDK configuration with creds alone: no shared files,
// and no retries, which would hide a refusal.
func sdkConfig(t *testing.T, creds aws.Credentials) aws.Config {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: creds}),
		awsconfig.WithRetryMaxAttempts(1), awsconfig.WithSharedConfigFiles(nil), awsconfig.WithSharedCredentialsFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func caClient(t *testing.T, url string, creds aws.Credentials) *codeartifact.Client {
	return codeartifact.NewFromConfig(sdkConfig(t, creds), func(o *codeartifact.Options) { o.BaseEndpoint = aws.String(url) })
}

func iamClient(t *testing.T, url string, creds aws.Credentials) *iam.Client {
	return iam.NewFromConfig(sdkConfig(t, creds), func(o *iam.Options) { o.BaseEndpoint = aws.String(url) })
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}
