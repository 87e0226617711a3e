package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"coffer/internal/auth"
	"coffer/internal/fault"
)

var (
	signTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

	longTerm = aws.Credentials{AccessKeyID: "AKIAEXAMPLE0000001", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzzzzzzzzz"}
	temp     = aws.Credentials{AccessKeyID: "ASIAEXAMPLE0000002", SecretAccessKey: "tempsecret/abc+def", SessionToken: "FwoGZXIvYXdzE//token+with/odd=chars"}
	expired  = aws.Credentials{AccessKeyID: "ASIAEXAMPLE0000003", SecretAccessKey: "expiredsecret", SessionToken: "expiredtoken"}

	userPrincipal = &auth.Principal{ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", Type: auth.TypeUser}
	rolePrincipal = &auth.Principal{ARN: "arn:aws:sts::111122223333:assumed-role/r/s", Account: "111122223333", Type: auth.TypeAssumedRole,
		SessionExpiry: signTime.Add(time.Hour)}
	expiredPrincipal = &auth.Principal{ARN: "arn:aws:sts::111122223333:assumed-role/r/old", Account: "111122223333", Type: auth.TypeAssumedRole,
		SessionExpiry: signTime.Add(-time.Minute)}
)

func testLookup(_ context.Context, id string) (*Credential, error) {
	switch id {
	case longTerm.AccessKeyID:
		return &Credential{SecretAccessKey: longTerm.SecretAccessKey, Principal: userPrincipal}, nil
	case temp.AccessKeyID:
		return &Credential{SecretAccessKey: temp.SecretAccessKey, SessionToken: temp.SessionToken, Principal: rolePrincipal}, nil
	case expired.AccessKeyID:
		return &Credential{SecretAccessKey: expired.SecretAccessKey, SessionToken: expired.SessionToken, Principal: expiredPrincipal}, nil
	case "AKIABROKEN":
		return nil, errors.New("database is down")
	}
	return nil, fault.NotFound("access-key", id, "no such key")
}

func newVerifier() *Verifier {
	return &Verifier{Lookup: testLookup, Now: func() time.Time { return signTime.Add(time.Minute) }}
}

// outcome is what the test server saw.
type outcome struct {
	res  *Result
	err  error
	body string
}

// server runs v.Verify inside a real net/http server, so the request is the
// one Go's server parses off the wire (RequestURI, Host, Content-Length...).
func server(t *testing.T, v *Verifier) (*httptest.Server, <-chan outcome) {
	t.Helper()
	ch := make(chan outcome, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(r.Body)
		}
		ch <- outcome{res, err, string(body)}
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func send(t *testing.T, srv *httptest.Server, ch <-chan outcome, req *http.Request) outcome {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return <-ch
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sign signs req in place with the AWS SDK's signer.
func sign(t *testing.T, req *http.Request, creds aws.Credentials, payloadHash string) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "codeartifact", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
}

func newReq(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func wantCode(t *testing.T, err error, kind fault.Kind, code string) *fault.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	fe := fault.As(err)
	if fe.Kind != kind || fe.Code != code {
		t.Fatalf("err = %v (kind %d, code %q), want kind %d code %q", err, fe.Kind, fe.Code, kind, code)
	}
	return fe
}

func TestVerifySDKSigned(t *testing.T) {
	jsonBody := []byte(`{"domain":"my-domain","repository":"r","description":"héllo"}`)
	asset := []byte("pretend this is a wheel file")

	for _, tc := range []struct {
		name     string
		build    func(base string) *http.Request
		creds    aws.Credentials
		payload  string // payload hash given to the signer; "" = sha256 of the body
		body     []byte
		maxBody  int64
		wantHash string
		wantBody string
		wantP    *auth.Principal
	}{
		{
			name: "GET query needing encoding",
			build: func(base string) *http.Request {
				r := newReq(t, "GET", base+"/v1/package/versions", nil)
				r.URL.RawQuery = "z=1&domain=my%20domain&a=a%2Fb&a=a-b&a=A&novalue&empty=&tilde=~x&star=*&u=%C3%A9&plus=a+b&max-results=5&next-token=abc%3D%3D"
				return r
			},
			creds: longTerm, wantP: userPrincipal,
		},
		{
			name: "POST JSON body hashed by the server",
			build: func(base string) *http.Request {
				return newReq(t, "POST", base+"/v1/repository?domain=d&repository=r", jsonBody)
			},
			creds:    longTerm,
			body:     jsonBody,
			wantBody: string(jsonBody), wantP: userPrincipal,
		},
		{
			name: "UNSIGNED-PAYLOAD header: a large body is not buffered, and cannot be read",
			build: func(base string) *http.Request {
				r := newReq(t, "POST", base+"/v1/package/version/publish?domain=d&repository=r&format=generic", asset)
				r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
				return r
			},
			creds: longTerm, payload: UnsignedPayload, maxBody: 4,
			wantHash: UnsignedPayload, wantBody: "", wantP: userPrincipal,
		},
		{
			name: "hex payload hash header (PublishPackageVersion)",
			build: func(base string) *http.Request {
				r := newReq(t, "POST", base+"/v1/package/version/publish?domain=d&repository=r&format=generic&package=p&version=1.0&asset=a.whl", asset)
				r.Header.Set("X-Amz-Content-Sha256", hashHex(asset))
				r.Header.Set("Content-Type", "application/octet-stream")
				return r
			},
			creds: longTerm, payload: hashHex(asset), maxBody: 4,
			wantHash: hashHex(asset), wantBody: string(asset), wantP: userPrincipal,
		},
		{
			name:  "session token",
			build: func(base string) *http.Request { return newReq(t, "GET", base+"/v1/domains", nil) },
			creds: temp, wantP: rolePrincipal,
		},
		{
			name: "path with special characters",
			build: func(base string) *http.Request {
				return newReq(t, "GET", base+"/v1/pkg/a%20b/%40scope%2Fname/caf%C3%A9/x@y/%E2%82%AC+~!$&'()*,;=:/%25", nil)
			},
			creds: longTerm, wantP: userPrincipal,
		},
		{
			name:  "raw unicode and space in the request URL",
			build: func(base string) *http.Request { return newReq(t, "GET", base+"/v1/naïve/日本 語", nil) },
			creds: longTerm, wantP: userPrincipal,
		},
		{
			name: "signed headers with odd spacing and repeated values",
			build: func(base string) *http.Request {
				r := newReq(t, "PUT", base+"/v1/x", []byte("{}"))
				r.Header.Set("X-Custom", "  a   b  c ")
				r.Header.Add("X-Multi", "one")
				r.Header.Add("X-Multi", " two  three")
				r.Header.Set("Content-Type", "application/json; charset=utf-8")
				return r
			},
			creds: longTerm, body: []byte("{}"), wantBody: "{}", wantP: userPrincipal,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier()
			v.MaxBody = tc.maxBody
			srv, ch := server(t, v)
			req := tc.build(srv.URL)
			payload := tc.payload
			if payload == "" {
				payload = hashHex(tc.body)
			}
			sign(t, req, tc.creds, payload)
			out := send(t, srv, ch, req)
			if out.err != nil {
				t.Fatalf("Verify: %v", out.err)
			}
			r := out.res
			if r.Principal != tc.wantP || r.AccessKeyID != tc.creds.AccessKeyID || r.Region != "us-east-1" ||
				r.Service != "codeartifact" || r.Date != "20261125" || !r.Time.Equal(signTime) || r.Presigned {
				t.Errorf("result = %+v", r)
			}
			if r.PayloadHash != tc.wantHash {
				t.Errorf("PayloadHash = %q, want %q", r.PayloadHash, tc.wantHash)
			}
			if out.body != tc.wantBody {
				t.Errorf("handler read body %q, want %q", out.body, tc.wantBody)
			}
		})
	}
}

func TestVerifyTampered(t *testing.T) {
	body := []byte(`{"domain":"d"}`)
	build := func(base string) *http.Request {
		r := newReq(t, "POST", base+"/v1/domain?domain=d&tag=x", body)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Amz-Target", "whatever")
		return r
	}
	for _, tc := range []struct {
		name   string
		creds  aws.Credentials
		tamper func(r *http.Request)
		now    time.Time // zero: one minute after signing
		code   string
		msg    string // exact message, if set
	}{
		{name: "method", tamper: func(r *http.Request) { r.Method = "PUT" }, code: CodeInvalidSignature, msg: msgSignatureMismatch},
		{name: "path", tamper: func(r *http.Request) { r.URL.Path = "/v1/domains" }, code: CodeInvalidSignature},
		{name: "path case", tamper: func(r *http.Request) { r.URL.Path = "/v1/Domain" }, code: CodeInvalidSignature},
		{name: "query value", tamper: func(r *http.Request) { r.URL.RawQuery = "domain=e&tag=x" }, code: CodeInvalidSignature},
		{name: "query added", tamper: func(r *http.Request) { r.URL.RawQuery += "&x=1" }, code: CodeInvalidSignature},
		{name: "signed header", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "other") }, code: CodeInvalidSignature},
		{name: "signed header removed", tamper: func(r *http.Request) { r.Header.Del("Content-Type") }, code: CodeInvalidSignature},
		{name: "body same length", tamper: func(r *http.Request) {
			b := []byte(`{"domain":"e"}`)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}, code: CodeInvalidSignature},
		{name: "date within skew", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261125T120001Z") }, code: CodeInvalidSignature, msg: msgSignatureMismatch},
		{name: "date other day", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261126T000001Z") }, now: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
			code: CodeInvalidSignature, msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261125' != '20261126', from '20261126T000001Z'."},
		{name: "expired", now: signTime.Add(30 * time.Minute), code: CodeInvalidSignature,
			msg: "Signature expired: 20261125T120000Z is now earlier than 20261125T121500Z (20261125T123000Z - 15 min.)"},
		{name: "not yet current", now: signTime.Add(-20 * time.Minute), code: CodeInvalidSignature,
			msg: "Signature not yet current: 20261125T120000Z is still later than 20261125T115500Z (20261125T114000Z + 15 min.)"},
		{name: "bad date format", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-25T12:00:00Z") }, code: CodeIncompleteSignature,
			msg: "Date must be in ISO-8601 'basic format'. Got '2026-11-25T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "secret", creds: aws.Credentials{AccessKeyID: longTerm.AccessKeyID, SecretAccessKey: "wrong"}, code: CodeInvalidSignature, msg: msgSignatureMismatch},
		{name: "unknown key", creds: aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}, code: CodeUnrecognizedClient, msg: msgInvalidToken},
		{name: "session token changed", creds: temp, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", temp.SessionToken+"x") },
			code: CodeUnrecognizedClient, msg: msgInvalidToken},
		{name: "session token dropped", creds: temp, tamper: func(r *http.Request) { r.Header.Del("X-Amz-Security-Token") }, code: CodeUnrecognizedClient},
		{name: "session token with long-term key", creds: aws.Credentials{AccessKeyID: longTerm.AccessKeyID, SecretAccessKey: longTerm.SecretAccessKey, SessionToken: "tok"},
			code: CodeUnrecognizedClient},
		{name: "session expired", creds: expired, code: CodeExpiredToken, msg: msgExpiredToken},
		{name: "authorization removed", tamper: func(r *http.Request) { r.Header.Del("Authorization") }, code: CodeMissingAuthenticationToken, msg: msgMissingToken},
		{name: "signature changed", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			r.Header.Set("Authorization", a[:len(a)-1]+map[bool]string{true: "1", false: "0"}[last == '0'])
		}, code: CodeInvalidSignature},
		{name: "signature upper-cased", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, code: CodeInvalidSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier()
			if !tc.now.IsZero() {
				v.Now = func() time.Time { return tc.now }
			}
			srv, ch := server(t, v)
			req := build(srv.URL)
			creds := tc.creds
			if creds.AccessKeyID == "" {
				creds = longTerm
			}
			sign(t, req, creds, hashHex(body))
			if tc.tamper != nil {
				tc.tamper(req)
			}
			out := send(t, srv, ch, req)
			fe := wantCode(t, out.err, fault.KindUnauthenticated, tc.code)
			if tc.msg != "" && fe.Message != tc.msg {
				t.Errorf("message = %q\nwant      %q", fe.Message, tc.msg)
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	presign := func(t *testing.T, base string, creds aws.Credentials, expires int) string {
		req := newReq(t, "GET", base+"/v1/package/version/asset?domain=d&asset=a%20b.whl", nil)
		if expires >= 0 {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", fmt.Sprint(expires))
			req.URL.RawQuery = q.Encode()
		}
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, UnsignedPayload, "codeartifact", "us-east-1", signTime)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		name    string
		creds   aws.Credentials
		expires int
		now     time.Duration // after signing
		edit    func(u string) string
		header  string
		code    string
	}{
		{name: "valid", creds: longTerm, expires: 300, now: 4 * time.Minute},
		{name: "valid with token", creds: temp, expires: 300, now: time.Minute},
		{name: "valid without X-Amz-Expires", creds: longTerm, expires: -1, now: 10 * time.Minute},
		{name: "expired", creds: longTerm, expires: 300, now: 6 * time.Minute, code: CodeInvalidSignature},
		{name: "long expiry", creds: longTerm, expires: 3600, now: 59 * time.Minute},
		{name: "query tampered", creds: longTerm, expires: 300, edit: func(u string) string { return strings.Replace(u, "domain=d", "domain=e", 1) }, code: CodeInvalidSignature},
		{name: "expires tampered", creds: longTerm, expires: 300, edit: func(u string) string { return strings.Replace(u, "X-Amz-Expires=300", "X-Amz-Expires=900", 1) }, code: CodeInvalidSignature},
		{name: "expires too long", creds: longTerm, expires: 700000, code: CodeIncompleteSignature},
		{name: "token tampered", creds: temp, expires: 300, edit: func(u string) string { return strings.Replace(u, "X-Amz-Security-Token=", "X-Amz-Security-Token=x", 1) }, code: CodeUnrecognizedClient},
		{name: "also an Authorization header", creds: longTerm, expires: 300, header: "AWS4-HMAC-SHA256 Credential=x", code: CodeIncompleteSignature},
		{name: "algorithm missing", creds: longTerm, expires: 300, edit: func(u string) string { return strings.Replace(u, "X-Amz-Algorithm=", "X-Amz-Algorithmx=", 1) }, code: CodeIncompleteSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier()
			v.Now = func() time.Time { return signTime.Add(tc.now) }
			srv, ch := server(t, v)
			u := presign(t, srv.URL, tc.creds, tc.expires)
			if tc.edit != nil {
				u = tc.edit(u)
			}
			req := newReq(t, "GET", u, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			out := send(t, srv, ch, req)
			if tc.code != "" {
				wantCode(t, out.err, fault.KindUnauthenticated, tc.code)
				return
			}
			if out.err != nil {
				t.Fatalf("Verify: %v", out.err)
			}
			if !out.res.Presigned || out.res.PayloadHash != UnsignedPayload || out.res.AccessKeyID != tc.creds.AccessKeyID {
				t.Errorf("result = %+v", out.res)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const cred = "Credential=AKIAEXAMPLE0000001/20261125/us-east-1/codeartifact/aws4_request"
	for _, tc := range []struct {
		name, auth, date, msg string
	}{
		{"bearer", "Bearer abc", "20261125T120000Z",
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"no signature", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host", "20261125T120000Z",
			"Authorization header requires 'Signature' parameter."},
		{"no credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", "20261125T120000Z",
			"Authorization header requires 'Credential' parameter."},
		{"missing equals", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders", "20261125T120000Z",
			"'SignedHeaders' not a valid key=value pair (missing equal-sign) in Authorization header."},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/aws4_request, SignedHeaders=host, Signature=00", "20261125T120000Z",
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20261125/us-east-1/aws4_request'"},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/codeartifact/aws4_reques, SignedHeaders=host, Signature=00", "20261125T120000Z",
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'."},
		{"host not signed", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, Signature=00", "20261125T120000Z",
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"no date", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=00", "",
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 " + cred, "20261125T120000Z", "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "https://codeartifact.us-east-1.amazonaws.com/v1/domains", nil)
			r.Header.Set("Authorization", tc.auth)
			if tc.date != "" {
				r.Header.Set("X-Amz-Date", tc.date)
			}
			_, err := newVerifier().Verify(r)
			fe := wantCode(t, err, fault.KindUnauthenticated, CodeIncompleteSignature)
			if fe.Message != tc.msg {
				t.Errorf("message = %q\nwant      %q", fe.Message, tc.msg)
			}
		})
	}
}

func TestVerifyScopeRestriction(t *testing.T) {
	codeartifact := []Scope{{"codeartifact", "us-east-1"}}
	for _, tc := range []struct {
		name            string
		scopes          []Scope
		service, region string // what the request is signed for
		msg             string // "" when accepted
	}{
		{"the served scope", codeartifact, "codeartifact", "us-east-1", ""},
		{"another service and region", codeartifact, "s3", "eu-west-1", "Credential should be scoped to correct service: 'codeartifact'."},
		{"another service", codeartifact, "iam", "us-east-1", "Credential should be scoped to correct service: 'codeartifact'."},
		{"another region", codeartifact, "codeartifact", "eu-west-1", "Credential should be scoped to a valid region, not 'eu-west-1'."},
		{"one of several", []Scope{{"iam", "us-east-1"}, {"sts", "eu-west-1"}}, "sts", "eu-west-1", ""},
		{"service of one, region of another", []Scope{{"iam", "us-east-1"}, {"sts", "eu-west-1"}}, "sts", "us-east-1",
			"Credential should be scoped to a valid region, not 'us-east-1'."},
		{"no restriction", nil, "s3", "eu-west-1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier()
			v.Scopes = tc.scopes
			r := httptest.NewRequest("GET", "https://example.com/v1/domains", nil)
			if err := v4.NewSigner().SignHTTP(context.Background(), longTerm, r, hashHex(nil), tc.service, tc.region, signTime); err != nil {
				t.Fatal(err)
			}
			_, err := v.Verify(r)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if fe := wantCode(t, err, fault.KindUnauthenticated, CodeInvalidSignature); fe.Message != tc.msg {
				t.Errorf("message = %q, want %q", fe.Message, tc.msg)
			}
		})
	}
}

func TestVerifyBody(t *testing.T) {
	original, replayed := []byte("Action=ListUsers&Version=2010-05-08"), []byte("Action=CreateUser&UserName=x&Version=2010-05-08")
	t.Run("a signed payload hash binds the body that is read", func(t *testing.T) {
		r := httptest.NewRequest("POST", "https://example.com/", bytes.NewReader(original))
		r.Header.Set("X-Amz-Content-Sha256", hashHex(original))
		sign(t, r, longTerm, hashHex(original))
		r.Body = io.NopCloser(bytes.NewReader(replayed)) // the captured request, replayed with another body
		if _, err := newVerifier().Verify(r); err != nil {
			t.Fatal(err) // the headers are as signed; only the body betrays the replay
		}
		_, err := io.ReadAll(r.Body)
		wantCode(t, err, fault.KindUnauthenticated, CodeInvalidSignature)
		// The body that was signed reads to its end.
		r = httptest.NewRequest("POST", "https://example.com/", bytes.NewReader(original))
		r.Header.Set("X-Amz-Content-Sha256", hashHex(original))
		sign(t, r, longTerm, hashHex(original))
		if _, err := newVerifier().Verify(r); err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(b, original) {
			t.Fatalf("signed body: %q, %v", b, err)
		}
	})
	t.Run("an unsigned payload hash header counts for nothing", func(t *testing.T) {
		// Signed without the header (as botocore signs IAM calls), then the
		// header is added with the original body's hash and the body swapped.
		r := httptest.NewRequest("POST", "https://example.com/", bytes.NewReader(original))
		sign(t, r, longTerm, hashHex(original))
		if strings.Contains(r.Header.Get("Authorization"), "x-amz-content-sha256") {
			t.Fatal("the signer signed x-amz-content-sha256; this case needs it unsigned")
		}
		r.Header.Set("X-Amz-Content-Sha256", hashHex(original))
		r.Body = io.NopCloser(bytes.NewReader(replayed))
		r.ContentLength = int64(len(replayed))
		_, err := newVerifier().Verify(r)
		wantCode(t, err, fault.KindUnauthenticated, CodeInvalidSignature)
	})
	t.Run("a presigned request carries no body", func(t *testing.T) {
		signed := httptest.NewRequest("POST", "https://example.com/?Action=ListUsers&Version=2010-05-08", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), longTerm, signed, UnsignedPayload, "iam", "us-east-1", signTime)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", u, bytes.NewReader(replayed))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, err := newVerifier().Verify(r); err != nil {
			t.Fatal(err)
		}
		if err := r.ParseForm(); fault.KindOf(err) != fault.KindValidation || r.PostForm.Get("Action") != "" {
			t.Fatalf("ParseForm: %v, PostForm %v; want the body refused", err, r.PostForm)
		}
	})
	t.Run("duplicated authentication inputs", func(t *testing.T) {
		r := httptest.NewRequest("GET", "https://example.com/v1/domains", nil)
		sign(t, r, longTerm, hashHex(nil))
		h := r.Header.Get("Authorization")
		for name, mutate := range map[string]func(r *http.Request){
			"two Authorization headers": func(r *http.Request) { r.Header.Add("Authorization", h) },
			"Signature twice":           func(r *http.Request) { r.Header.Set("Authorization", h+", Signature=00") },
			"Credential twice": func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(h, "SignedHeaders=", "Credential=AKIAOTHER/20261125/us-east-1/codeartifact/aws4_request, SignedHeaders=", 1))
			},
			"two X-Amz-Date headers":           func(r *http.Request) { r.Header.Add("X-Amz-Date", "20261125T120000Z") },
			"two x-amz-content-sha256 headers": func(r *http.Request) { r.Header["X-Amz-Content-Sha256"] = []string{hashHex(nil), hashHex(nil)} },
		} {
			c := r.Clone(context.Background())
			c.Header = r.Header.Clone()
			mutate(c)
			_, err := newVerifier().Verify(c)
			if fe := fault.As(err); err == nil || fe.Code != CodeIncompleteSignature {
				t.Errorf("%s: err = %v, want %s", name, err, CodeIncompleteSignature)
			}
		}
		signed := httptest.NewRequest("GET", "https://example.com/v1/domains", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), longTerm, signed, UnsignedPayload, "codeartifact", "us-east-1", signTime)
		if err != nil {
			t.Fatal(err)
		}
		_, err = newVerifier().Verify(httptest.NewRequest("GET", u+"&X-Amz-Signature=00", nil))
		wantCode(t, err, fault.KindUnauthenticated, CodeIncompleteSignature)
	})
	t.Run("bodies read before the signature share a budget", func(t *testing.T) {
		v := newVerifier()
		v.BodyBudget = 16
		body := []byte("0123456789abcdefXYZ") // 19 bytes: within MaxBody, beyond the budget
		r := httptest.NewRequest("POST", "https://example.com/v1/x", bytes.NewReader(body))
		sign(t, r, longTerm, hashHex(body))
		if _, err := v.Verify(r); fault.KindOf(err) != fault.KindThrottled {
			t.Fatalf("err = %v, want throttled", err)
		}
		v.BodyBudget, v.budgetOnce, v.bodies = 0, sync.Once{}, nil
		r = httptest.NewRequest("POST", "https://example.com/v1/x", bytes.NewReader(body))
		sign(t, r, longTerm, hashHex(body))
		if _, err := v.Verify(r); err != nil {
			t.Fatalf("within the default budget: %v", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		v := newVerifier()
		v.MaxBody = 8
		body := []byte("0123456789")
		r := httptest.NewRequest("POST", "https://example.com/v1/x", bytes.NewReader(body))
		sign(t, r, longTerm, hashHex(body))
		if _, err := v.Verify(r); fault.KindOf(err) != fault.KindValidation {
			t.Fatalf("err = %v, want a validation error", err)
		}
		// Unknown length (chunked): the limit still applies while reading.
		r = httptest.NewRequest("POST", "https://example.com/v1/x", io.MultiReader(bytes.NewReader(body)))
		r.ContentLength = -1
		sign(t, r, longTerm, hashHex(body))
		if _, err := v.Verify(r); fault.KindOf(err) != fault.KindValidation {
			t.Fatalf("chunked: err = %v, want a validation error", err)
		}
	})
	t.Run("invalid content sha256", func(t *testing.T) {
		r := httptest.NewRequest("POST", "https://example.com/v1/x", strings.NewReader("x"))
		r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		sign(t, r, longTerm, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		_, err := newVerifier().Verify(r)
		wantCode(t, err, fault.KindUnauthenticated, CodeIncompleteSignature)
	})
	t.Run("hex hash header does not read the body", func(t *testing.T) {
		body := &countingReader{r: strings.NewReader("abc")}
		r := httptest.NewRequest("POST", "https://example.com/v1/x", body)
		r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte("abc")))
		sign(t, r, longTerm, hashHex([]byte("abc")))
		if _, err := newVerifier().Verify(r); err != nil {
			t.Fatal(err)
		}
		if body.n != 0 {
			t.Errorf("Verify read %d body bytes", body.n)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestVerifyLookupErrors(t *testing.T) {
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	sign(t, r, aws.Credentials{AccessKeyID: "AKIABROKEN", SecretAccessKey: "x"}, hashHex(nil))
	if _, err := newVerifier().Verify(r); fault.KindOf(err) != fault.KindInternal {
		t.Errorf("err = %v, want internal", err)
	}
	// A fault from the lookup (say, a throttled store) is passed through.
	v := newVerifier()
	v.Lookup = func(context.Context, string) (*Credential, error) {
		return nil, &fault.Error{Kind: fault.KindThrottled, Message: "slow down"}
	}
	if _, err := v.Verify(r); fault.KindOf(err) != fault.KindThrottled {
		t.Errorf("err = %v, want throttled", err)
	}
	if QueryCode(CodeUnrecognizedClient) != "InvalidClientTokenId" || QueryCode(CodeInvalidSignature) != "SignatureDoesNotMatch" || QueryCode("X") != "X" {
		t.Error("QueryCode mapping")
	}
}

// TestBotocorePathNormalization signs the dot-segment-free path, as botocore
// does, while the request line keeps the extra segments.
func TestBotocorePathNormalization(t *testing.T) {
	r := httptest.NewRequest("GET", "https://example.com/v1//a/./b/../c", nil)
	signed := httptest.NewRequest("GET", "https://example.com/v1/a/c", nil)
	sign(t, signed, longTerm, hashHex(nil))
	r.Header = signed.Header
	if _, err := newVerifier().Verify(r); err != nil {
		t.Fatal(err)
	}
}

func TestIsSigned(t *testing.T) {
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	if IsSigned(r) {
		t.Error("unsigned request reported signed")
	}
	r.Header.Set("Authorization", "Bearer x")
	if IsSigned(r) {
		t.Error("bearer request reported signed")
	}
	sign(t, r, longTerm, hashHex(nil))
	if !IsSigned(r) {
		t.Error("signed request not reported")
	}
}

// The GET ListUsers example from AWS's "Create a signed AWS API request" and
// the "get-vanilla" case of the SigV4 test suite, with their published
// intermediate values.
func TestAWSDocumentationExamples(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	exampleTime := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

	if got := hex.EncodeToString(deriveSigningKey(secret, "20150830", "us-east-1", "iam")); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Errorf("signing key = %s", got)
	}

	r := httptest.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	cr := canonicalRequest(r, wirePath(r), []string{"content-type", "host", "x-amz-date"}, "content-type;host;x-amz-date", hashHex(nil), false)
	wantCR := "GET\n/\nAction=ListUsers&Version=2010-05-08\n" +
		"content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" +
		"content-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if cr != wantCR {
		t.Errorf("canonical request:\n%s\nwant:\n%s", cr, wantCR)
	}
	if got := hashHex([]byte(cr)); got != "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59" {
		t.Errorf("canonical request hash = %s", got)
	}
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
	v := &Verifier{
		Lookup: func(_ context.Context, id string) (*Credential, error) {
			if id != "AKIDEXAMPLE" {
				return nil, fault.ErrNotFound
			}
			return &Credential{SecretAccessKey: secret, Principal: userPrincipal}, nil
		},
		Now: func() time.Time { return exampleTime },
	}
	if _, err := v.Verify(r); err != nil {
		t.Errorf("ListUsers example: %v", err)
	}

	r = httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	if _, err := v.Verify(r); err != nil {
		t.Errorf("get-vanilla example: %v", err)
	}
}

func TestCanonicalURI(t *testing.T) {
	for _, tc := range []struct{ wire, want string }{
		{"", "/"},
		{"/", "/"},
		{"/v1/domains", "/v1/domains"},
		{"/a%20b", "/a%2520b"},
		{"/a b", "/a%20b"},
		{"/@scope/x@y", "/%40scope/x%40y"},
		{"/a%2Fb", "/a%252Fb"},
		{"/caf%C3%A9", "/caf%25C3%25A9"},
		{"/-._~", "/-._~"},
		{"/a+b=c", "/a%2Bb%3Dc"},
	} {
		if got := canonicalURI(tc.wire); got != tc.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tc.wire, got, tc.want)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"}, {"/", "/"}, {"/a/b/", "/a/b/"}, {"//a//b", "/a/b"}, {"/a/./b/../c", "/a/c"}, {"/../a", "/a"}, {"/a/..", "/"},
	} {
		if got := normalizePath(tc.in); got != tc.want {
			t.Errorf("normalizePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"a=2&a=1&a=10", "a=1&a=10&a=2"},
		{"key&empty=", "empty=&key="},
		{"q=a+b&r=a%20b", "q=a%20b&r=a%20b"},
		{"v=a%2Fb&v=a-b", "v=a%2Fb&v=a-b"}, // sorted after encoding: '%' < '-'
		{"x=%7E~*", "x=~~%2A"},
		{"u=%C3%A9", "u=%C3%A9"},
		{"X-Amz-Signature=abc&a=1", "a=1"},
	} {
		if got := canonicalQuery(tc.raw, true); got != tc.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestTrimHeader(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "  a  ": "a", "a   b  c": "a b c", "\ta b\t": "a b", "": ""} {
		if got := trimHeader(in); got != want {
			t.Errorf("trimHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSigningKeyCache(t *testing.T) {
	v := newVerifier()
	k1 := v.signingKey("AKID", "s1", "20261125", "us-east-1", "codeartifact")
	if want := deriveSigningKey("s1", "20261125", "us-east-1", "codeartifact"); !bytes.Equal(k1, want) {
		t.Fatal("cached key differs from derived key")
	}
	if k := v.signingKey("AKID", "s1", "20261125", "us-east-1", "codeartifact"); &k[0] != &k1[0] {
		t.Error("second call did not hit the cache")
	}
	// A changed secret for the same key id must not get the stale key.
	if k := v.signingKey("AKID", "s2", "20261125", "us-east-1", "codeartifact"); bytes.Equal(k, k1) {
		t.Error("rotated secret served the old signing key")
	}
	for i := range 3 * maxCachedKeys {
		v.signingKey(fmt.Sprint("AKID", i), "s", "20261125", "us-east-1", "codeartifact")
	}
	if n := len(v.keys); n > maxCachedKeys {
		t.Errorf("cache holds %d keys, limit %d", n, maxCachedKeys)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/codeartifact/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef",
		"AWS4-HMAC-SHA256 Signature=00,Credential=A/B/C/D/aws4_request,SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f",
		"AWS4-HMAC-SHA256 ,,,=,",
		"Bearer abc",
		"",
		"AWS4-HMAC-SHA256 Credential=A/B/C/D/aws4_request, SignedHeaders=host;;x, Signature=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if fe := fault.As(err); fe.Kind != fault.KindUnauthenticated || fe.Code != CodeIncompleteSignature {
				t.Fatalf("error %v has kind %d code %q", err, fe.Kind, fe.Code)
			}
			return
		}
		if a.AccessKeyID == "" || a.Date == "" || a.Region == "" || a.Service == "" || a.Signature == "" || len(a.SignedHeaders) == 0 {
			t.Fatalf("incomplete result %+v from %q", a, h)
		}
		if strings.Join(a.SignedHeaders, ";") != a.SignedHeadersRaw {
			t.Fatalf("SignedHeaders %q do not match raw %q", a.SignedHeaders, a.SignedHeadersRaw)
		}
		// Formatting the result and parsing it again is the identity.
		again := fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", algorithm, a.AccessKeyID, a.scope(), a.SignedHeadersRaw, a.Signature)
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("reparse of %q: %v", again, err)
		}
		if fmt.Sprint(*a) != fmt.Sprint(*b) {
			t.Fatalf("reparse changed %+v to %+v", *a, *b)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	v := newVerifier()
	body := []byte(`{"domain":"my-domain","repository":"r"}`)
	r := httptest.NewRequest("POST", "https://example.com/v1/repository?domain=my-domain&repository=r", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if err := v4.NewSigner().SignHTTP(context.Background(), longTerm, r, hashHex(body), "codeartifact", "us-east-1", signTime); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := newVerifier()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 50 {
				r := httptest.NewRequest("GET", fmt.Sprintf("https://example.com/v1/x?g=%d&n=%d", g, n), nil)
				creds := longTerm
				if n%2 == 1 {
					creds = temp
				}
				// Not sign(): t.Fatal must not be called off the test goroutine.
				if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hashHex(nil), "codeartifact", "us-east-1", signTime); err != nil {
					t.Error(err)
					return
				}
				if _, err := v.Verify(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
