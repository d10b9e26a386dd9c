package goaccel

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The library's SHA-256 agrees with Go's crypto/sha256.
func TestDigestBytes(t *testing.T) {
	for _, in := range []string{"", "abc", strings.Repeat("goaccel", 100000)} {
		got, err := DigestBytes([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256([]byte(in)); got != Digest(want) {
			t.Fatalf("DigestBytes(%d bytes) = %s, want %x", len(in), got, want)
		}
	}
	d, _ := DigestBytes([]byte("abc"))
	if d.String() != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("sha256(abc) = %s", d)
	}
}

func TestDigestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data")
	content := []byte(strings.Repeat("0123456789", 50000))
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := DigestFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(content); got != Digest(want) {
		t.Fatalf("DigestFile = %s, want %x", got, want)
	}
}

func TestParseDigest(t *testing.T) {
	const hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	for _, s := range []string{hex, strings.ToUpper(hex), "sha256:" + hex} {
		d, err := ParseDigest(s)
		if err != nil {
			t.Fatalf("ParseDigest(%q): %v", s, err)
		}
		if d.String() != hex || d.OCI() != "sha256:"+hex {
			t.Fatalf("ParseDigest(%q) = %s", s, d)
		}
	}
	for _, s := range []string{"", hex[:63], hex + "0", "md5:" + hex, hex[:62] + "zz"} {
		if _, err := ParseDigest(s); !errors.Is(err, ErrInvalid) {
			t.Fatalf("ParseDigest(%q) = %v, want ErrInvalid", s, err)
		}
	}
	if !(Digest{}).IsZero() {
		t.Fatal("zero digest is not zero")
	}
}

func TestDigestJSON(t *testing.T) {
	d, _ := DigestBytes([]byte("x"))
	b, err := json.Marshal(map[string]Digest{"d": d})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]Digest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["d"] != d {
		t.Fatalf("round trip through %s gave %s", b, back["d"])
	}
	if err := json.Unmarshal([]byte(`{"d":"nope"}`), &back); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad digest in JSON: %v", err)
	}
}
