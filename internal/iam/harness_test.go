package iam

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"coffer/internal/auth"
	"coffer/internal/auth/seal"
	"coffer/internal/auth/sigv4"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

const (
	testAccount = "123456789012"
	rootAK      = "AKIAROOTTESTKEY00001"
	rootSK      = "rootSecretKeyForTestsOnly0123456789abcde"
)

// testEnv is coffer's identity surface in miniature: a SQLite store, the
// Identity, and a handler that verifies SigV4 and dispatches on the signing
// service, as the server package does.
type testEnv struct {
	t    *testing.T
	id   *Identity
	meta store.Store
	srv  *httptest.Server
	// shift moves the verifier's clock (nanoseconds), to expire sessions.
	shift *atomic.Int64
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	id, err := Open(context.Background(), meta, sealer, Options{AccountID: testAccount, DataDir: dir,
		RootAccessKeyID: rootAK, RootSecretAccessKey: rootSK}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	shift := new(atomic.Int64)
	v := &sigv4.Verifier{Lookup: id.Lookup, MaxSkew: 24 * time.Hour,
		Now: func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }}
	handlers := map[string]http.Handler{"iam": id.IAMHandler(), "sts": id.STSHandler()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Unsigned STS actions go to STS without a principal, as the server routes them.
		if r.Header.Get("Authorization") == "" && r.ParseForm() == nil && IsUnsignedAction(r.Form.Get("Action")) {
			handlers["sts"].ServeHTTP(w, r)
			return
		}
		res, err := v.Verify(r)
		if err != nil {
			WriteQueryError(w, r, err)
			return
		}
		handlers[res.Service].ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), res.Principal)))
	}))
	t.Cleanup(func() {
		srv.Close()
		id.bg.Wait()
		meta.Close()
	})
	return &testEnv{t: t, id: id, meta: meta, srv: srv, shift: shift}
}

func creds(ak, sk, tok string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(ak, sk, tok)
}

func (e *testEnv) iamAs(c aws.CredentialsProvider) *iam.Client {
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), Credentials: c, RetryMaxAttempts: 1})
}

func (e *testEnv) stsAs(c aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), Credentials: c, RetryMaxAttempts: 1})
}

func (e *testEnv) root() *iam.Client { return e.iamAs(creds(rootAK, rootSK, "")) }

// user creates a user with an access key (as root) and returns its credentials.
func (e *testEnv) user(name string) aws.CredentialsProvider {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.root().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		e.t.Fatal(err)
	}
	k, err := e.root().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		e.t.Fatal(err)
	}
	return creds(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")
}

// policy creates a managed policy (as root) and returns its ARN.
func (e *testEnv) policy(name, doc string) string {
	e.t.Helper()
	out, err := e.root().CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.Policy.Arn
}

func allow(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func trustDoc(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
}

// wantErr checks an SDK error's code, HTTP status and (optionally) a
// fragment of its message.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	var re *awshttp.ResponseError
	if status != 0 && errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: want status %d, got %d", code, status, re.HTTPStatusCode())
	}
	if msg != "" && !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s: message %q lacks %q", code, ae.ErrorMessage(), msg)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
