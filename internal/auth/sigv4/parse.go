package sigv4

import (
	"strings"

	"coffer/internal/fault"
)

// authorization is a parsed SigV4 Authorization header or the equivalent
// presigned query parameters.
type authorization struct {
	AccessKeyID string
	Date        string // YYYYMMDD from the credential scope
	Region      string
	Service     string
	// SignedHeaders is the client's list, in the client's order;
	// SignedHeadersRaw is the same list as sent, for the canonical request.
	SignedHeaders    []string
	SignedHeadersRaw string
	Signature        string
}

// signs reports whether the header name is one of the signed headers.
func (a *authorization) signs(name string) bool {
	for _, n := range a.SignedHeaders {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// scope returns the credential scope "date/region/service/aws4_request".
func (a *authorization) scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + terminator
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/codeartifact/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
//
// The parameters may come in any order, with or without spaces after the
// commas. Errors are IncompleteSignatureException faults naming what is wrong.
func parseAuthorization(h string) (*authorization, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if scheme != algorithm {
		if strings.HasPrefix(scheme, "AWS4-") {
			return nil, incomplete("Unsupported AWS 'algorithm': '%s'.", scheme)
		}
		// Bearer, Basic, SigV2...: AWS reports every SigV4 parameter missing.
		rest = ""
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", part)
		}
		// A parameter given twice is refused: which one a verifier reads
		// must never be a question.
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var seen *bool
		switch k {
		case "Credential":
			cred, seen = v, &haveCred
		case "SignedHeaders":
			signed, seen = v, &haveSigned
		case "Signature":
			sig, seen = v, &haveSig
		default:
			continue
		}
		if *seen {
			return nil, incomplete("'%s' is given more than once in the Authorization header.", k)
		}
		*seen = true
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return nil, incomplete("%s", strings.Join(missing, " "))
	}
	return newAuthorization(cred, signed, sig)
}

// newAuthorization validates the three SigV4 parameters, whichever form
// carried them.
func newAuthorization(cred, signedHeaders, sig string) (*authorization, error) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		return nil, incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	if parts[4] != terminator {
		return nil, incomplete("Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, parts[4])
	}
	if sig == "" {
		return nil, incomplete("Signature must not be empty.")
	}
	if signedHeaders == "" {
		return nil, incomplete("SignedHeaders must not be empty.")
	}
	names := strings.Split(signedHeaders, ";")
	host := false
	for _, n := range names {
		if n == "" {
			return nil, incomplete("SignedHeaders must not contain empty header names: '%s'.", signedHeaders)
		}
		if strings.EqualFold(n, "host") || n == ":authority" {
			host = true
		}
	}
	if !host {
		return nil, incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return &authorization{
		AccessKeyID:      parts[0],
		Date:             parts[1],
		Region:           parts[2],
		Service:          parts[3],
		SignedHeaders:    names,
		SignedHeadersRaw: signedHeaders,
		Signature:        sig,
	}, nil
}

func incomplete(format string, args ...any) error {
	return fault.Unauthenticated(CodeIncompleteSignature, format, args...)
}
