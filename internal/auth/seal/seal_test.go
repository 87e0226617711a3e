package seal

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestSealRoundTripAndPurpose(t *testing.T) {
	s, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("secret"), "access-key")
	got, err := s.Open(sealed, "access-key")
	if err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "token-key"); err == nil {
		t.Fatal("a value sealed for one purpose opened for another")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed, "access-key"); err == nil {
		t.Fatal("a tampered value opened")
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(s.Seal([]byte("x"), "p"), "p"); err == nil {
		t.Fatal("opened with the wrong key")
	}
}

func TestLoadKeyCreatesOnceWithMode0600(t *testing.T) {
	file := filepath.Join(t.TempDir(), "master.key")
	k1, err := LoadKey(file, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v", st.Mode(), err)
	}
	k2, err := LoadKey(file, "")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key: %v", err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize))
	k3, err := LoadKey(file, env)
	if err != nil || !bytes.Equal(k3, bytes.Repeat([]byte{1}, KeySize)) {
		t.Fatalf("env key not used: %v", err)
	}
	if _, err := LoadKey(file, "bm90IGEga2V5"); err == nil {
		t.Fatal("a short env key was accepted")
	}
}
