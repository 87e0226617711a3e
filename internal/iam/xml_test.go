package iam

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
)

func TestResponseShapes(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 999, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name, ns, action string
		result           any
		want             string
	}{
		{"no result", iamNamespace, "DeleteUser", nil,
			`<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></DeleteUserResponse>`},
		{"empty result", iamNamespace, "UpdateRole", struct{}{},
			`<UpdateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><UpdateRoleResult></UpdateRoleResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></UpdateRoleResponse>`},
		{"user", iamNamespace, "CreateUser", userResult{xmlUser{Path: "/", UserName: "a", UserID: "AIDAX", ARN: "arn:aws:iam::1:user/a", CreateDate: isoTime(created)}},
			`<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User><Path>/</Path><UserName>a</UserName><UserId>AIDAX</UserId><Arn>arn:aws:iam::1:user/a</Arn><CreateDate>2026-01-02T02:04:05Z</CreateDate></User></CreateUserResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></CreateUserResponse>`},
		{"empty list keeps its wrapper", iamNamespace, "ListUsers", listUsersResult{},
			`<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><Users></Users><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></ListUsersResponse>`},
		{"string list, truncated", iamNamespace, "ListUserPolicies", listInlineResult{PolicyNames: list[string]{[]string{"a", "b"}}, paged: paged{true, "Yg"}},
			`<ListUserPoliciesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUserPoliciesResult><PolicyNames><member>a</member><member>b</member></PolicyNames><IsTruncated>true</IsTruncated><Marker>Yg</Marker></ListUserPoliciesResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></ListUserPoliciesResponse>`},
		{"inline policy of a role", iamNamespace, "GetRolePolicy", inlineResult{RoleName: "r", PolicyName: "p", PolicyDocument: encodeDocument(`{"a": "b+c"}`)},
			`<GetRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRolePolicyResult><RoleName>r</RoleName><PolicyName>p</PolicyName><PolicyDocument>%7B%22a%22%3A%20%22b%2Bc%22%7D</PolicyDocument></GetRolePolicyResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></GetRolePolicyResponse>`},
		{"caller identity", stsNamespace, "GetCallerIdentity", callerIdentityResult{UserID: "AIDAX", Account: "1", ARN: "arn"},
			`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><UserId>AIDAX</UserId><Account>1</Account><Arn>arn</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`},
		{"assume role", stsNamespace, "AssumeRole", assumeRoleResult{stsCredentials{"ASIA1", "s", "t", "2026-01-02T03:04:05Z"}, assumedRoleUser{"AROA1:s", "arn"}},
			`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2026-01-02T03:04:05Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA1:s</AssumedRoleId><Arn>arn</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></AssumeRoleResponse>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequestWithContext(auth.WithRequestInfo(context.Background(), auth.RequestInfo{RequestID: "rid-1"}), "POST", "/", nil)
			if err := writeResponse(w, r, tc.ns, tc.action, tc.result); err != nil {
				t.Fatal(err)
			}
			if w.Code != 200 || w.Header().Get("Content-Type") != "text/xml" || w.Header().Get("x-amzn-RequestId") != "rid-1" {
				t.Fatalf("status %d, headers %v", w.Code, w.Header())
			}
			if got := w.Body.String(); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	stsAuth := "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00"
	for _, tc := range []struct {
		err     error
		auth    string
		status  int
		code    string
		typ     string
		message string
	}{
		{noSuchEntity("The user with name a cannot be found."), "", 404, "NoSuchEntity", "Sender", "The user with name a cannot be found."},
		{fault.NotFound("user", "a", "gone"), "", 404, "NoSuchEntity", "Sender", "gone"},
		{fault.Conflict("user", "a", "User with name a already exists."), "", 409, "EntityAlreadyExists", "Sender", "User with name a already exists."},
		{deleteConflict("must detach"), "", 409, "DeleteConflict", "Sender", "must detach"},
		{limitExceeded("quota"), "", 409, "LimitExceeded", "Sender", "quota"},
		{fault.Quota("x", "y", "quota"), "", 409, "LimitExceeded", "Sender", "quota"},
		{malformedPolicy(fault.Validation("Missing required field Statement")), "", 400, "MalformedPolicyDocument", "Sender", "Missing required field Statement"},
		{fault.Validation("bad"), "", 400, "ValidationError", "Sender", "bad"},
		{invalidInput("ARN x is not valid."), "", 400, "InvalidInput", "Sender", "ARN x is not valid."},
		{fault.AccessDenied("no"), "", 403, "AccessDenied", "Sender", "no"},
		{fault.Unauthenticated(sigv4.CodeUnrecognizedClient, "The security token included in the request is invalid."), "", 403, "InvalidClientTokenId", "Sender", "The security token included in the request is invalid."},
		{fault.Unauthenticated(sigv4.CodeInvalidSignature, "sig"), stsAuth, 403, "SignatureDoesNotMatch", "Sender", "sig"},
		{fault.Unauthenticated(sigv4.CodeMissingAuthenticationToken, "Missing Authentication Token"), "", 403, "MissingAuthenticationToken", "Sender", "Missing Authentication Token"},
		{fault.Unauthenticated(sigv4.CodeIncompleteSignature, "inc"), "", 400, "IncompleteSignature", "Sender", "inc"},
		{fault.Unauthenticated(sigv4.CodeExpiredToken, "exp"), stsAuth, 403, "ExpiredToken", "Sender", "exp"},
		{fault.ErrUnavailable, "", 503, "ServiceUnavailable", "Receiver", "unavailable"},
		{errors.New("disk on fire: secret detail"), "", 500, "ServiceFailure", "Receiver", "An internal error occurred"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Authorization", tc.auth)
			w.Header().Set("x-amzn-RequestId", "rid-2")
			WriteQueryError(w, r, tc.err)
			ns := iamNamespace
			if tc.auth != "" {
				ns = stsNamespace
			}
			want := `<ErrorResponse xmlns="` + ns + `"><Error><Type>` + tc.typ + `</Type><Code>` + tc.code + `</Code><Message>` + tc.message
			if w.Code != tc.status || !strings.HasPrefix(w.Body.String(), want) || !strings.HasSuffix(w.Body.String(), "</Message></Error><RequestId>rid-2</RequestId></ErrorResponse>") {
				t.Fatalf("%d %s\nwant %d %s...", w.Code, w.Body.String(), tc.status, want)
			}
			if strings.Contains(w.Body.String(), "secret detail") {
				t.Fatal("internal error detail leaked")
			}
		})
	}
}

func TestQueryDispatch(t *testing.T) {
	e := newTestEnv(t)
	root := must[*sigv4.Credential](t)(e.id.Lookup(context.Background(), rootAK)).Principal
	serve := func(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
		var r *http.Request
		if body != "" {
			r = httptest.NewRequest(method, target, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		} else {
			r = httptest.NewRequest(method, target, nil)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), root)))
		return w
	}
	for _, tc := range []struct {
		h            http.Handler
		method, url  string
		body         string
		status       int
		bodyContains string
	}{
		{e.id.IAMHandler(), "POST", "/", "Action=CreateUser&Version=2010-05-08&UserName=zoe", 200, "<UserName>zoe</UserName>"},
		{e.id.IAMHandler(), "GET", "/?Action=GetUser&Version=2010-05-08&UserName=zoe", "", 200, "<GetUserResult><User>"},
		{e.id.IAMHandler(), "POST", "/", "Action=Frobnicate&Version=2010-05-08", 400, "<Code>InvalidAction</Code>"},
		{e.id.IAMHandler(), "POST", "/", "Action=ListUsers&Version=2011-06-15", 400, "<Code>InvalidAction</Code>"},
		{e.id.IAMHandler(), "POST", "/", "Version=2010-05-08", 400, "<Code>MissingAction</Code>"},
		{e.id.IAMHandler(), "POST", "/", "Action=CreateUser&Version=2010-05-08", 400, "Value null at &#39;userName&#39;"},
		{e.id.IAMHandler(), "POST", "/", "Action=AssumeRole&Version=2011-06-15", 400, "InvalidAction"},
		{e.id.STSHandler(), "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", 200, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`},
		{e.id.STSHandler(), "POST", "/", "Action=ListUsers&Version=2010-05-08", 400, `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`},
		{e.id.STSHandler(), "PUT", "/", "Action=GetCallerIdentity", 400, "InvalidAction"},
	} {
		w := serve(tc.h, tc.method, tc.url, tc.body)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.bodyContains) {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.url, tc.body, w.Code, w.Body.String())
		}
	}
	// Without a principal in the context nothing is served.
	w := httptest.NewRecorder()
	e.id.IAMHandler().ServeHTTP(w, httptest.NewRequest("GET", "/?Action=ListUsers", nil))
	if w.Code != 403 || !strings.Contains(w.Body.String(), "MissingAuthenticationToken") {
		t.Fatalf("no principal: %d %s", w.Code, w.Body.String())
	}
}

func TestEncodeDocument(t *testing.T) {
	doc := "{\"Statement\": [\"a+b c/d~e_f.g-h\u00e9\"]}\n"
	enc := encodeDocument(doc)
	if strings.ContainsAny(enc, " +/\n\"{") {
		t.Fatalf("unencoded characters in %s", enc)
	}
	if got, err := url.QueryUnescape(enc); err != nil || got != doc {
		t.Fatalf("QueryUnescape: %q %v", got, err)
	}
	if got, err := url.PathUnescape(enc); err != nil || got != doc {
		t.Fatalf("PathUnescape: %q %v", got, err)
	}
}

func TestPageOf(t *testing.T) {
	items := []string{"d", "b", "a", "c", "e"}
	key := func(s *string) string { return *s }
	var got []string
	pr := pageReq{max: 2}
	for range 5 {
		page, pg := pageOf(items, pr, key)
		got = append(got, page...)
		if !pg.IsTruncated {
			break
		}
		b, err := base64.RawURLEncoding.DecodeString(pg.Marker)
		if err != nil {
			t.Fatal(err)
		}
		pr.after = string(b)
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("paged %v", got)
	}
	// A marker whose item is gone resumes after where it was.
	page, _ := pageOf([]string{"a", "c"}, pageReq{max: 5, after: "b"}, key)
	if strings.Join(page, "") != "c" {
		t.Fatalf("resume %v", page)
	}
}
