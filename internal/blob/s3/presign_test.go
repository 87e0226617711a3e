package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"coffer/internal/blob"
	"coffer/internal/blob/blobtest"
	"coffer/internal/fault"
)

func TestPresignGet(t *testing.T) {
	s := newTestStore(t, nil)
	data := blobtest.RandomBytes(200_000, 1)
	sha := put(t, s, data)
	raw, err := s.PresignGet(context.Background(), sha, 5*time.Minute)
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	if secret := s3Secret(); secret != "" && strings.Contains(raw, secret) {
		t.Fatal("the presigned URL contains the secret key")
	}
	get := func(u string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	if status, body := get(raw); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET of the presigned URL: status %d, %d bytes; want 200 and the %d bytes", status, len(body), len(data))
	}

	// The signature covers the key: the URL opens nothing else.
	u, _ := url.Parse(raw)
	other := put(t, s, []byte("other"))
	u.Path = strings.Replace(u.Path, sha, other, 2)
	if status, _ := get(u.String()); status != http.StatusForbidden {
		t.Errorf("GET of another key with the signature: status %d, want 403", status)
	}

	// It expires.
	short, err := s.PresignGet(context.Background(), sha, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if status, _ := get(short); status != http.StatusForbidden {
		t.Errorf("GET of an expired presigned URL: status %d, want 403", status)
	}

	for _, ttl := range []time.Duration{0, -time.Second, MaxPresignTTL + time.Second} {
		if _, err := s.PresignGet(context.Background(), sha, ttl); !errors.Is(err, fault.ErrValidation) {
			t.Errorf("ttl %v: err = %v, want ErrValidation", ttl, err)
		}
	}
	if _, err := s.PresignGet(context.Background(), "../x", time.Minute); !errors.Is(err, fault.ErrValidation) {
		t.Errorf("invalid name: err = %v, want ErrValidation", err)
	}
}

// Objects larger than PresignLargerThan offer a presigned URL; others none.
func TestRedirectURL(t *testing.T) {
	s := newTestStore(t, func(c *Config) { c.PresignLargerThan = 1000 })
	for _, size := range []int{1000, 1001} {
		data := blobtest.RandomBytes(size, uint64(size))
		obj, err := s.Open(context.Background(), put(t, s, data))
		if err != nil {
			t.Fatal(err)
		}
		obj.Close()
		var u string
		ok := false
		if rd, isRedirector := obj.(blob.Redirector); isRedirector { // a blob served from memory is not
			u, ok, err = rd.RedirectURL(context.Background())
		}
		if err != nil || ok != (size > 1000) {
			t.Fatalf("size %d: RedirectURL = %q, %v, %v", size, u, ok, err)
		}
		if !ok {
			continue
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Errorf("GET of the redirect: status %d, %d bytes", resp.StatusCode, len(body))
		}
	}
}
