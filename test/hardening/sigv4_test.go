package hardening

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func sigHash(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// sigSigned builds a request signed for service (in us-east-1) over body,
// with x-amz-content-sha256 among the signed headers when withHeader.
func sigSigned(t *testing.T, creds aws.Credentials, method, url, service, contentType string, body []byte, withHeader bool) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	if withHeader {
		r.Header.Set("X-Amz-Content-Sha256", sigHash(body))
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sigHash(body), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

// sigReplay sends a copy of the signed request r with another body: what
// an attacker who captured r can do.
func sigReplay(t *testing.T, r *http.Request, body []byte, addHeader string) (int, string) {
	t.Helper()
	c, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c.Header = r.Header.Clone()
	if addHeader != "" {
		c.Header.Set("X-Amz-Content-Sha256", addHeader)
	}
	return sigDo(t, c)
}

func sigDo(t *testing.T, r *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSignedBodiesCannotBeReplayed replays captured signed requests with
// bodies of the attacker's choosing: every one is refused and changes
// nothing, with or without a forged x-amz-content-sha256 header.
func TestSignedBodiesCannotBeReplayed(t *testing.T) {
	c := startCoffer(t, t.TempDir())
	creds := rootCreds(t, c.DataDir)
	ctx := context.Background()
	ca, im := caClient(t, c.URL, creds), iamClient(t, c.URL, creds)
	if _, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("dom")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("dom"), Repository: aws.String("repo")}); err != nil {
		t.Fatal(err)
	}
	form := "application/x-www-form-urlencoded; charset=utf-8"
	// The replayed bodies have the signed body's length: botocore does not
	// sign Content-Length, the Go SDK does; equal lengths make the replay
	// work against either.
	createUser := []byte("Action=CreateUser&UserName=intruder&Version=2010-05-08")
	listUsers := []byte("Action=ListUsers&Version=2010-05-08&PathPrefix=%2F")
	listUsers = append(listUsers, strings.Repeat("x", len(createUser)-len(listUsers))...)

	t.Run("IAM form body", func(t *testing.T) {
		for _, withHeader := range []bool{false, true} {
			r := sigSigned(t, creds, "POST", c.URL+"/", "iam", form, listUsers, withHeader)
			if status, body := sigReplay(t, r, listUsers, ""); status != http.StatusOK {
				t.Fatalf("the captured request itself: %d %s", status, body)
			}
			forged := ""
			if !withHeader {
				forged = sigHash(listUsers) // the unsigned header the attack adds
			}
			status, body := sigReplay(t, r, createUser, forged)
			if status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
				t.Errorf("replay (payload hash header signed: %v): %d %s; want 403 SignatureDoesNotMatch", withHeader, status, body)
			}
		}
		if _, err := im.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("intruder")}); err == nil || !strings.Contains(err.Error(), "NoSuchEntity") {
			t.Fatalf("GetUser intruder: %v; the replay created the user", err)
		}
	})

	t.Run("control-plane JSON body", func(t *testing.T) {
		u := c.URL + "/v1/repository/permissions/policy?domain=dom&repository=repo"
		doc := func(action string) []byte {
			d := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"%s","Resource":"*"}]}`, action)
			return []byte(fmt.Sprintf(`{"policyDocument":%q}`, d))
		}
		signedDoc, evilDoc := doc("codeartifact:ReadFromRepository"), doc("codeartifact:*")
		evilDoc = append(evilDoc, bytes.Repeat([]byte(" "), len(signedDoc)-len(evilDoc))...) // the signed length, as above
		for _, withHeader := range []bool{true, false} {
			r := sigSigned(t, creds, "PUT", u, "codeartifact", "application/json", signedDoc, withHeader)
			forged := ""
			if !withHeader {
				forged = sigHash(signedDoc)
			}
			status, body := sigReplay(t, r, evilDoc, forged)
			if status != http.StatusForbidden || !strings.Contains(body, "InvalidSignatureException") {
				t.Errorf("replay (payload hash header signed: %v): %d %s; want 403 InvalidSignatureException", withHeader, status, body)
			}
		}
		_, err := ca.GetRepositoryPermissionsPolicy(ctx, &codeartifact.GetRepositoryPermissionsPolicyInput{Domain: aws.String("dom"), Repository: aws.String("repo")})
		if err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
			t.Fatalf("GetRepositoryPermissionsPolicy: %v; a replayed policy was stored", err)
		}
		// The request as signed still works: the check refuses only what
		// was not signed.
		r := sigSigned(t, creds, "PUT", u, "codeartifact", "application/json", signedDoc, true)
		if status, body := sigDo(t, r); status != http.StatusOK {
			t.Fatalf("the signed request: %d %s", status, body)
		}
	})

	t.Run("credential scope", func(t *testing.T) {
		for _, tc := range []struct{ service, region, want string }{
			{"s3", "eu-west-1", "Credential should be scoped to correct service: 'codeartifact'."},
			{"codeartifact", "eu-west-1", "Credential should be scoped to a valid region, not 'eu-west-1'."},
		} {
			r, _ := http.NewRequest("POST", c.URL+"/v1/domains", strings.NewReader("{}"))
			if err := v4.NewSigner().SignHTTP(ctx, creds, r, sigHash([]byte("{}")), tc.service, tc.region, time.Now()); err != nil {
				t.Fatal(err)
			}
			status, body := sigDo(t, r)
			if status != http.StatusForbidden || !strings.Contains(body, "InvalidSignatureException") || !strings.Contains(body, tc.want) {
				t.Errorf("signed for %s in %s: %d %s", tc.service, tc.region, status, body)
			}
		}
		// IAM signed for codeartifact is refused too.
		r := sigSigned(t, creds, "POST", c.URL+"/", "codeartifact", form, listUsers, false)
		if status, body := sigDo(t, r); status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
			t.Errorf("IAM call signed for codeartifact: %d %s", status, body)
		}
	})
}

// TestUnauthenticatedBodiesAreBounded sends 40 requests at once with a
// valid access key id, a garbage signature and a 10 MiB body that never
// ends (half with a Content-Length, half chunked): each is answered while
// its body is still being sent, and the server's peak memory stays far
// below what buffering them would take (40 x 10 MiB).
func TestUnauthenticatedBodiesAreBounded(t *testing.T) {
	c := startCoffer(t, t.TempDir())
	creds := rootCreds(t, c.DataDir)
	host := strings.TrimPrefix(c.URL, "http://")
	before := peakRSS(t, c.Cmd.Process.Pid)

	stop := make(chan struct{})
	defer close(stop)
	const conns, bodySize, sent = 40, 10 << 20, 6 << 20
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	var wg sync.WaitGroup
	statuses := make([]int, conns)
	errs := make([]error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", host)
			if err != nil {
				errs[i] = err
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a bound on the test, never reached when it passes
			now := time.Now().UTC()
			head := fmt.Sprintf("POST /v1/domains HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-Amz-Date: %s\r\n"+
				"Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/codeartifact/aws4_request, SignedHeaders=host;x-amz-date, Signature=%s\r\n",
				host, now.Format("20060102T150405Z"), creds.AccessKeyID, now.Format("20060102"), strings.Repeat("0", 64))
			chunked := i%2 == 1
			if chunked {
				head += "Transfer-Encoding: chunked\r\n\r\n"
			} else {
				head += fmt.Sprintf("Content-Length: %d\r\n\r\n", bodySize)
			}
			go func() { // the body: 6 of its 10 MiB, then nothing, until the test ends
				if _, err := io.WriteString(conn, head); err != nil {
					return
				}
				for n := 0; n < sent; n += len(chunk) {
					var err error
					if chunked {
						_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
					} else {
						_, err = conn.Write(chunk)
					}
					if err != nil {
						return
					}
				}
				<-stop
			}()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i := range conns {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		// 400 (too large), 429 (the shared budget is spent) or 403 (the signature): never accepted, never a 5xx.
		if s := statuses[i]; s != http.StatusBadRequest && s != http.StatusTooManyRequests && s != http.StatusForbidden {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	after := peakRSS(t, c.Cmd.Process.Pid)
	t.Logf("peak RSS %d MiB before, %d MiB after 40 unauthenticated 10 MiB bodies", before>>20, after>>20)
	if grew := after - before; grew > 128<<20 {
		t.Errorf("peak RSS grew by %d MiB; bodies read before authentication are not bounded", grew>>20)
	}
}
