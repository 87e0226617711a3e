package format

import (
	"bytes"
	"errors"
	"testing"
)

func TestHoldBackKeepsTheLastByteUntilRelease(t *testing.T) {
	var out bytes.Buffer
	h := &holdBack{W: &out}
	if !h.Release() || out.Len() != 0 {
		t.Fatal("Release with nothing written must send nothing and succeed")
	}
	for _, p := range []string{"abc", "", "d", "ef"} {
		if n, err := h.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if out.String() != "abcde" {
		t.Fatalf("before Release the client has %q, want %q", out.String(), "abcde")
	}
	if !h.Release() || out.String() != "abcdef" {
		t.Fatalf("after Release the client has %q", out.String())
	}
}

// leavingClient accepts writes until it leaves.
type leavingClient struct {
	bytes.Buffer
	gone bool
}

func (c *leavingClient) Write(p []byte) (int, error) {
	if c.gone {
		return 0, errors.New("client gone")
	}
	return c.Buffer.Write(p)
}

func TestHoldBackReportsAClientThatLeft(t *testing.T) {
	c := &leavingClient{}
	h := &holdBack{W: c}
	if _, err := h.Write([]byte("xy")); err != nil {
		t.Fatal(err)
	}
	c.gone = true
	if _, err := h.Write([]byte("z")); err == nil {
		t.Fatal("a write to a gone client was not reported")
	}
	if h.Release() {
		t.Fatal("Release of the held byte to a gone client reported success")
	}
	if c.String() != "x" {
		t.Fatalf("the client got %q", c.String())
	}
}
