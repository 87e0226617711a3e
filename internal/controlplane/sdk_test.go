package controlplane

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	smithy "github.com/aws/smithy-go"

	"coffer/internal/fault"
)

// newSDKClient serves h (behind a stand-in for the SigV4 middleware that
// makes every caller root) and returns a real AWS SDK CodeArtifact client
// pointed at it. Retries are off so that error tests see the first answer.
func newSDKClient(t *testing.T, h http.Handler) *codeartifact.Client {
	t.Helper()
	srv := httptest.NewServer(withRoot(h))
	t.Cleanup(srv.Close)
	// Keep the developer's AWS configuration out of the test.
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_CODEARTIFACT", "")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDCOFFERTEST", "secret", "")),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatal(err)
	}
	return codeartifact.NewFromConfig(cfg, func(o *codeartifact.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
}

// TestSDKValidationErrors sends inputs the SDK lets through but the model
// forbids, proving that the SDK decodes our ValidationException.
func TestSDKValidationErrors(t *testing.T) {
	client := newSDKClient(t, New(Config{PublicURL: "http://x"}, nil, AllowAll{}, nil, nil))
	ctx := context.Background()
	cases := []struct {
		name   string
		call   func() error
		reason types.ValidationExceptionReason
		want   string
	}{
		{"duration 100", func() error {
			_, err := client.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("d1"), DurationSeconds: aws.Int64(100)})
			return err
		}, types.ValidationExceptionReasonFieldValidationFailed, "at 'durationSeconds'"},
		{"upper-case domain", func() error {
			_, err := client.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: aws.String("MyDomain")})
			return err
		}, types.ValidationExceptionReasonFieldValidationFailed, "Value 'MyDomain' at 'domain'"},
		{"ListDomains maxResults 0", func() error {
			_, err := client.ListDomains(ctx, &codeartifact.ListDomainsInput{MaxResults: aws.Int32(0)})
			return err
		}, types.ValidationExceptionReasonFieldValidationFailed, "at 'maxResults'"},
		{"ListDomains foreign token", func() error {
			_, err := client.ListDomains(ctx, &codeartifact.ListDomainsInput{NextToken: aws.String("eyJsaXN0RG9tYWluc1Rva2VuIjoiYSJ9")})
			return err
		}, types.ValidationExceptionReasonFieldValidationFailed, "at 'nextToken'"},
		{"ListPackages foreign token", func() error {
			_, err := client.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: aws.String("d1"), Repository: aws.String("r1"), NextToken: aws.String("not-ours!")})
			return err
		}, types.ValidationExceptionReasonFieldValidationFailed, "at 'nextToken'"},
		{"package with slash", func() error {
			_, err := client.DescribePackage(ctx, &codeartifact.DescribePackageInput{Domain: aws.String("d1"), Repository: aws.String("r1"), Format: types.PackageFormatNpm, Package: aws.String("a/b")})
			return err
		}, types.ValidationExceptionReasonFieldValidationFailed, "at 'package'"},
		{"package group pattern with a space", func() error {
			_, err := client.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: aws.String("d1"), PackageGroup: aws.String("/npm/a b")})
			return err
		}, types.ValidationExceptionReasonFieldValidationFailed, "at 'packageGroup'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ve *types.ValidationException
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *types.ValidationException", err, err)
			}
			if ve.Reason != tc.reason {
				t.Errorf("reason %q, want %q", ve.Reason, tc.reason)
			}
			if !strings.Contains(ve.ErrorMessage(), tc.want) {
				t.Errorf("message %q lacks %q", ve.ErrorMessage(), tc.want)
			}
		})
	}
}

// TestSDKErrorMembers makes the authorizer fail with each fault kind and
// checks the SDK's typed exception and its members.
func TestSDKErrorMembers(t *testing.T) {
	ctx := context.Background()
	describe := func(client *codeartifact.Client) error {
		_, err := client.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: aws.String("d1"), Repository: aws.String("r1")})
		return err
	}
	t.Run("not found", func(t *testing.T) {
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{fault.NotFound("repository", "r1", "Repository r1 not found")}, nil, nil))
		var e *types.ResourceNotFoundException
		if err := describe(client); !errors.As(err, &e) {
			t.Fatalf("error %T %v", err, err)
		}
		if aws.ToString(e.ResourceId) != "r1" || e.ResourceType != types.ResourceTypeRepository || e.ErrorMessage() != "Repository r1 not found" {
			t.Errorf("members %+v", e)
		}
	})
	t.Run("conflict", func(t *testing.T) {
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{fault.Conflict("domain", "d1", "busy")}, nil, nil))
		var e *types.ConflictException
		if err := describe(client); !errors.As(err, &e) || aws.ToString(e.ResourceId) != "d1" || e.ResourceType != types.ResourceTypeDomain {
			t.Fatalf("error %T %v", err, err)
		}
	})
	t.Run("quota", func(t *testing.T) {
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{fault.Quota("repository", "r1", "too many")}, nil, nil))
		var e *types.ServiceQuotaExceededException
		if err := describe(client); !errors.As(err, &e) || aws.ToString(e.ResourceId) != "r1" {
			t.Fatalf("error %T %v", err, err)
		}
	})
	t.Run("access denied", func(t *testing.T) {
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{fault.AccessDenied("not you")}, nil, nil))
		var e *types.AccessDeniedException
		if err := describe(client); !errors.As(err, &e) || e.ErrorMessage() != "not you" {
			t.Fatalf("error %T %v", err, err)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{&fault.Error{Kind: fault.KindThrottled, Message: "slow"}}, nil, nil))
		var e *types.ThrottlingException
		if err := describe(client); !errors.As(err, &e) || aws.ToInt32(e.RetryAfterSeconds) != 1 {
			t.Fatalf("error %T %v (%+v)", err, err, e)
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{fault.Unauthenticated("InvalidSignatureException", "bad signature")}, nil, nil))
		var e smithy.APIError
		if err := describe(client); !errors.As(err, &e) || e.ErrorCode() != "InvalidSignatureException" {
			t.Fatalf("error %T %v", err, err)
		}
	})
	t.Run("storage full", func(t *testing.T) {
		full := fault.Storage(&fs.PathError{Op: "write", Path: "/secret/stage-1", Err: syscall.ENOSPC}, "could not stage the asset")
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{fault.Internal(full, "could not store the asset")}, nil, nil))
		var e *types.InternalServerException
		if err := describe(client); !errors.As(err, &e) || !strings.Contains(e.ErrorMessage(), "insufficient storage") || strings.Contains(e.ErrorMessage(), "secret") {
			t.Fatalf("error %T %v", err, err)
		}
	})
	t.Run("internal", func(t *testing.T) {
		client := newSDKClient(t, New(Config{}, testService(), errAuthz{errors.New("secret cause")}, nil, nil))
		var e *types.InternalServerException
		if err := describe(client); !errors.As(err, &e) || strings.Contains(e.ErrorMessage(), "secret") {
			t.Fatalf("error %T %v", err, err)
		}
	})
}
