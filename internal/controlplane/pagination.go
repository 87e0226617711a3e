package controlplane

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"maps"
	"slices"
	"unicode/utf8"

	"coffer/internal/artifact"
)

// Pagination tokens are opaque to clients: base64url (no padding) of a
// format byte, a binding and the artifact layer's Next key.
//
// The binding is a digest of the operation and of every query parameter the
// request carried except the page size and the token itself, so a token
// presented to another operation, or to the same one with another domain,
// repository, package or filter, is refused instead of being read as a
// position in a different listing. It is a plain digest rather than a MAC:
// every node of a cluster computes the same one without sharing a key, and a
// client that forges a cursor only moves within a listing it may read anyway.
//
// The format byte lets a later release change the encoding; tokens of an
// older format are refused like foreign ones (clients start over).
const (
	tokenFormat = 2
	bindingSize = 8
)

// pagingParams are the query parameters left out of the binding.
var pagingParams = map[string]bool{"next-token": true, "max-results": true}

// pageToken is a token the request presented, kept until done() can compare
// its binding with the complete set of parameters.
type pageToken struct {
	field, raw string
	binding    []byte
}

// recordParam remembers a query parameter the handler read, for the binding.
func (in *input) recordParam(wire, val string) {
	if pagingParams[wire] {
		return
	}
	if in.params == nil {
		in.params = map[string]string{}
	}
	in.params[wire] = val
}

// binding digests the operation and the parameters read so far, each
// string length-prefixed so that no two sets give the same stream.
func (in *input) binding() []byte {
	h := sha256.New()
	put := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	put(in.op)
	for _, k := range slices.Sorted(maps.Keys(in.params)) {
		put(k)
		put(in.params[k])
	}
	return h.Sum(nil)[:bindingSize]
}

// page reads max-results (when the operation has it) and next-token of the
// list operation op.
func (in *input) page(op string, withMax bool) artifact.PageRequest {
	in.op = op
	var p artifact.PageRequest
	if withMax {
		p.Max = int(in.int("max-results", "maxResults", maxResultsMin, maxResultsMax))
	}
	if tok, ok := in.raw("next-token"); ok {
		p.After = in.token("nextToken", tok)
	}
	return p
}

// bodyPage reads maxResults and nextToken from a request body (ListDomains).
func (in *input) bodyPage(op string, max *int64, tok *string) artifact.PageRequest {
	in.op = op
	var p artifact.PageRequest
	if max != nil {
		in.v.intRange("maxResults", *max, maxResultsMin, maxResultsMax)
		p.Max = int(*max)
	}
	if tok != nil {
		p.After = in.token("nextToken", *tok)
	}
	return p
}

// token validates a nextToken at field and returns the Next key it carries.
// Whether it belongs to this operation and these parameters is checked by
// done(), once every parameter has been read.
func (in *input) token(field, tok string) string {
	before := len(in.v.problems)
	in.v.str(field, tok, specToken)
	if len(in.v.problems) > before {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2+bindingSize || b[0] != tokenFormat || !utf8.Valid(b[1+bindingSize:]) {
		in.v.fail(field, quote(tok), "Member must be a pagination token returned by a previous call")
		return ""
	}
	in.tok = &pageToken{field: field, raw: tok, binding: b[1 : 1+bindingSize]}
	return string(b[1+bindingSize:])
}

// checkToken refuses a token minted for another operation or parameters.
func (in *input) checkToken() {
	if in.tok == nil {
		return
	}
	if subtle.ConstantTimeCompare(in.tok.binding, in.binding()) != 1 {
		in.v.fail(in.tok.field, quote(in.tok.raw),
			"Member must be a pagination token returned by a previous call of "+in.op+" with the same parameters")
	}
	in.tok = nil
}

// nextToken turns the artifact layer's Next key into the nextToken of this
// request's listing; "" (the end of the listing) stays "" so that nextToken
// is omitted.
func (in *input) nextToken(next string) string {
	if next == "" {
		return ""
	}
	b := make([]byte, 0, 1+bindingSize+len(next))
	b = append(b, tokenFormat)
	b = append(b, in.binding()...)
	b = append(b, next...)
	return base64.RawURLEncoding.EncodeToString(b)
}
