package controlplane

import (
	"encoding/base64"
	"unicode/utf8"
)

// Pagination tokens are opaque to clients: base64url (no padding) of a
// format byte followed by the artifact layer's Next key. The format byte lets
// a later release change the encoding and makes most foreign strings fail to
// decode instead of silently becoming a listing position.
const tokenFormat = 1

// encodeToken turns the artifact layer's Next key into a nextToken; "" (the
// end of the listing) stays "" so that nextToken is omitted.
func encodeToken(next string) string {
	if next == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(append([]byte{tokenFormat}, next...))
}

// token validates a nextToken at field and returns the Next key it carries.
func (in *input) token(field, tok string) string {
	before := len(in.v.problems)
	in.v.str(field, tok, specToken)
	if len(in.v.problems) > before {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || b[0] != tokenFormat || !utf8.Valid(b[1:]) {
		in.v.fail(field, quote(tok), "Member must be a pagination token returned by a previous call")
		return ""
	}
	return string(b[1:])
}
