package iam

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"coffer/internal/auth"
)

// XML namespaces of the two Query APIs.
const (
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// WriteQueryError renders err in the Query-protocol error shape that IAM and
// STS use (and that the AWS SDKs and CLI parse), including the SigV4
// authentication failures of the server's middleware:
//
//	<ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code>NoSuchEntity</Code>
//	<Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>
//
// The namespace follows the credential scope's service (STS for "sts", IAM
// otherwise).
func WriteQueryError(w http.ResponseWriter, r *http.Request, err error) {
	ns := iamNamespace
	if scopeService(r) == "sts" {
		ns = stsNamespace
	}
	writeError(w, r, ns, err)
}

type xmlError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Namespace string   `xml:"xmlns,attr"`
	Error     xmlError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, r *http.Request, ns string, err error) {
	status, code, msg := queryError(err)
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	rid := requestID(w, r)
	body, _ := xml.Marshal(errorResponse{Namespace: ns, Error: xmlError{typ, code, msg}, RequestID: rid})
	writeXML(w, rid, status, body)
}

// writeResponse renders <ActionResponse><ActionResult>result</ActionResult>
// <ResponseMetadata/></ActionResponse>; a nil result leaves out the Result
// element, as IAM does for operations without output.
func writeResponse(w http.ResponseWriter, r *http.Request, ns, action string, result any) error {
	rid := requestID(w, r)
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Space: ns, Local: action + "Response"}}
	err := enc.EncodeToken(start)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(struct {
			RequestID string `xml:"RequestId"`
		}{rid}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		return err
	}
	writeXML(w, rid, http.StatusOK, buf.Bytes())
	return nil
}

func writeXML(w http.ResponseWriter, rid string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", rid)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// requestID is the server's request id (from the request info or the
// response header it set), else a fresh one.
func requestID(w http.ResponseWriter, r *http.Request) string {
	if id := auth.RequestInfoFrom(r.Context()).RequestID; id != "" {
		return id
	}
	if id := w.Header().Get("x-amzn-RequestId"); id != "" {
		return id
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// scopeService reads the service of the SigV4 credential scope (header or
// presigned form), "" when there is none.
func scopeService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		_, after, ok := strings.Cut(h, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// isoTime formats a timestamp as IAM does: ISO 8601, UTC, whole seconds.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// encodeDocument URL-encodes a policy document the way IAM returns them:
// everything but RFC 3986 unreserved characters is percent-encoded (spaces
// as %20, so botocore's unquote and Go's url.QueryUnescape both decode it).
func encodeDocument(doc string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// list renders a Query-protocol list: <Name><member>...</member></Name>,
// with the wrapper present even when empty.
type list[T any] struct {
	Member []T `xml:"member"`
}

// paged is the paging part of a list result.
type paged struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

type xmlUser struct {
	Path       string        `xml:"Path,omitempty"`
	UserName   string        `xml:"UserName,omitempty"`
	UserID     string        `xml:"UserId"`
	ARN        string        `xml:"Arn"`
	CreateDate string        `xml:"CreateDate"`
	Tags       *list[xmlTag] `xml:"Tags,omitempty"`
}

type xmlGroup struct {
	Path       string `xml:"Path"`
	GroupName  string `xml:"GroupName"`
	GroupID    string `xml:"GroupId"`
	ARN        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type xmlRole struct {
	Path                     string        `xml:"Path"`
	RoleName                 string        `xml:"RoleName"`
	RoleID                   string        `xml:"RoleId"`
	ARN                      string        `xml:"Arn"`
	CreateDate               string        `xml:"CreateDate"`
	AssumeRolePolicyDocument string        `xml:"AssumeRolePolicyDocument"`
	Description              string        `xml:"Description,omitempty"`
	MaxSessionDuration       int           `xml:"MaxSessionDuration"`
	Tags                     *list[xmlTag] `xml:"Tags,omitempty"`
}

type xmlPolicy struct {
	PolicyName                    string `xml:"PolicyName"`
	PolicyID                      string `xml:"PolicyId"`
	ARN                           string `xml:"Arn"`
	Path                          string `xml:"Path"`
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int    `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int    `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool   `xml:"IsAttachable"`
	Description                   string `xml:"Description,omitempty"`
	CreateDate                    string `xml:"CreateDate"`
	UpdateDate                    string `xml:"UpdateDate"`
}

type xmlPolicyVersion struct {
	Document         string `xml:"Document,omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

type xmlAccessKey struct {
	UserName        string `xml:"UserName,omitempty"`
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string `xml:"Status"`
	SecretAccessKey string `xml:"SecretAccessKey,omitempty"`
	CreateDate      string `xml:"CreateDate"`
}

type xmlAttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyARN  string `xml:"PolicyArn"`
}
