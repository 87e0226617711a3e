package format

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"coffer/internal/fault"
)

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestLimitBody(t *testing.T) {
	over := TooLarge("file", 10)
	for _, tc := range []struct {
		size    int
		wantErr bool
	}{{0, false}, {9, false}, {10, false}, {11, true}, {1 << 20, true}} {
		src := &countingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), tc.size))}
		r := httptest.NewRequest(http.MethodPut, "/", io.NopCloser(src))
		LimitBody(r, 10, over)
		got, err := io.ReadAll(r.Body)
		if tc.wantErr {
			if !errors.Is(err, fault.ErrQuotaExceeded) || len(got) != 10 {
				t.Errorf("%d bytes: read %d, %v; want the first 10 and QuotaExceeded", tc.size, len(got), err)
			}
			if src.n > 11 {
				t.Errorf("%d bytes: %d read from the client, want at most 11", tc.size, src.n)
			}
			if _, err2 := r.Body.Read(make([]byte, 8)); err2 != err {
				t.Errorf("error not sticky: %v", err2)
			}
		} else if err != nil || len(got) != tc.size {
			t.Errorf("%d bytes: read %d, %v", tc.size, len(got), err)
		}
	}

	// The limit can be raised while reading, and lowered with another error.
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789abcdef"))
	first := fault.Validation("name first")
	b := LimitBody(r, 4, first)
	buf := make([]byte, 3)
	if n, err := io.ReadFull(r.Body, buf); n != 3 || err != nil {
		t.Fatalf("ReadFull = %d, %v", n, err)
	}
	b.SetLimit(12, over)
	rest, err := io.ReadAll(r.Body)
	if string(rest) != "3456789ab" || !errors.Is(err, fault.ErrQuotaExceeded) {
		t.Fatalf("after raising the limit: %q, %v", rest, err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
	LimitBody(r, 4, first)
	if _, err := io.ReadAll(r.Body); !errors.Is(err, fault.ErrValidation) {
		t.Fatalf("first limit's error: %v", err)
	}
}

func TestCheckLength(t *testing.T) {
	r := httptest.NewRequest(http.MethodPut, "/", nil)
	for _, tc := range []struct {
		length int64
		ok     bool
	}{{-1, true}, {0, true}, {100, true}, {101, false}} {
		r.ContentLength = tc.length
		err := CheckLength(r, "file", 100)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, fault.ErrQuotaExceeded)) {
			t.Errorf("Content-Length %d: %v", tc.length, err)
		}
	}
}
