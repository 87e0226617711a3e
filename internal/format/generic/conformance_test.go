package generic_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"coffer/internal/format/formattest"
)

const (
	genericNamespace = "fx"
	genericPackage   = "tool"
)

func genericAsset(version string) []byte {
	return []byte("generic asset of " + genericPackage + " " + version + "\n")
}

// genericPublish publishes one asset with PublishPackageVersion, as the aws
// CLI does, signed with c's access key.
func genericPublish(c *formattest.Client, version string, unfinished bool) (int, error) {
	ca := codeartifact.New(codeartifact.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.URL), HTTPClient: c.HTTP,
		RetryMaxAttempts: 1, Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	body := genericAsset(version)
	sum := sha256.Sum256(body)
	_, err := ca.PublishPackageVersion(context.Background(), &codeartifact.PublishPackageVersionInput{
		Domain: aws.String(c.Domain), DomainOwner: aws.String(c.DomainOwner), Repository: aws.String(c.Repository),
		Format: types.PackageFormatGeneric, Namespace: aws.String(genericNamespace), Package: aws.String(genericPackage),
		PackageVersion: aws.String(version), AssetName: aws.String(genericPackage + ".bin"), AssetContent: bytes.NewReader(body),
		AssetSHA256: aws.String(hex.EncodeToString(sum[:])), Unfinished: aws.Bool(unfinished)})
	if err == nil {
		return 200, nil
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode(), nil
	}
	return 0, err
}

// upstreamless is why the checks of upstream behaviour do not apply.
const upstreamless = "generic packages are read from the requested repository only: no upstream repository or external connection serves them (spec §3.2)"

func TestConformance(t *testing.T) {
	formattest.Run(t, formattest.Adapter{
		Format:    "generic",
		Namespace: genericNamespace,
		Package:   genericPackage,
		Auth:      formattest.Bearer,
		Publish:   func(c *formattest.Client, v string) (int, error) { return genericPublish(c, v, false) },
		PublishUnfinished: func(c *formattest.Client, v string) error {
			status, err := genericPublish(c, v, true)
			if err == nil && status != 200 {
				return errors.New("PublishPackageVersion with unfinished: status " + http.StatusText(status))
			}
			return err
		},
		AssetPath: func(v string) string {
			return genericNamespace + "/" + genericPackage + "/" + v + "/" + genericPackage + ".bin"
		},
		Skip: map[string]string{
			formattest.CheckUpstreamRetention: upstreamless,
			formattest.CheckPublishConflict:   upstreamless,
		},
	})
}
