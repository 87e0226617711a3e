package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"io"
	"net/http"

	"coffer/internal/fault"
)

// verifiedBody streams a request body through SHA-256 and fails the read
// that reaches its end unless the digest is the signed payload hash. Every
// consumer reads a body to its end before acting on it (a JSON document, a
// form, an upload that is staged and then committed), so an altered body is
// refused before anything is done with it.
type verifiedBody struct {
	io.ReadCloser
	want []byte
	h    hash.Hash
	err  error // sticky: the mismatch, once found
}

func newVerifiedBody(body io.ReadCloser, wantHex string) io.ReadCloser {
	if body == nil {
		body = http.NoBody
	}
	want, _ := hex.DecodeString(wantHex) // checked by isSHA256Hex
	return &verifiedBody{ReadCloser: body, want: want, h: sha256.New()}
}

func (b *verifiedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.ReadCloser.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF {
		if got := b.h.Sum(nil); subtle.ConstantTimeCompare(got, b.want) != 1 {
			b.err = fault.Unauthenticated(CodeInvalidSignature, "The request body's SHA-256 %s does not match the signed x-amz-content-sha256 %s.",
				hex.EncodeToString(got), hex.EncodeToString(b.want))
			return n, b.err
		}
	}
	return n, err
}

// HandlerVerifiesPayload returns the body of a request verified with a
// signed payload hash without the verifier's own check, for the one
// operation whose handler compares the body with that same hash itself and
// answers a mismatch in its own terms (PublishPackageVersion: the header is
// the asset's SHA-256, a wrong one is a ValidationException). Any other body
// is returned unchanged.
func HandlerVerifiesPayload(body io.ReadCloser) io.ReadCloser {
	if vb, ok := body.(*verifiedBody); ok {
		return vb.ReadCloser
	}
	return body
}

// unsignedBody stands for the body of a request whose signature covers no
// payload (UNSIGNED-PAYLOAD, presigned URLs): it may be empty, and reading
// any byte of it is an error, so that a captured presigned URL cannot carry
// input of the holder's choosing.
type unsignedBody struct{ io.ReadCloser }

func unsignedBodyOf(body io.ReadCloser) io.ReadCloser {
	if body == nil || body == http.NoBody {
		return body
	}
	return unsignedBody{body}
}

func (b unsignedBody) Read(p []byte) (int, error) {
	var one [1]byte
	n, err := b.ReadCloser.Read(one[:])
	if n > 0 {
		return 0, fault.Validation("A request signed with UNSIGNED-PAYLOAD or presigned cannot carry a body; sign the payload hash.")
	}
	return 0, err
}
