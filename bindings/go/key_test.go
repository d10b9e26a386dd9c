package goaccel

import (
	"crypto/sha256"
	"errors"
	"testing"
)

func buildKey(t *testing.T, kind string, fields [][2]string, digests map[string]Digest, parent Digest) *Key {
	t.Helper()
	k, err := NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if err := k.AddString(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for name, d := range digests {
		if err := k.AddDigest(name, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.SetParent(parent); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKey(t *testing.T) {
	tree, _ := DigestBytes([]byte("tree"))
	parent, _ := DigestBytes([]byte("deps"))
	a := buildKey(t, "go-build", [][2]string{{"env:GOFLAGS", "-trimpath"}, {"ldflags", "-s -w"}},
		map[string]Digest{"inputs:.": tree}, parent)
	defer a.Free()
	// The same fields added in another order give the same key.
	b := buildKey(t, "go-build", [][2]string{{"ldflags", "-s -w"}, {"env:GOFLAGS", "-trimpath"}},
		map[string]Digest{"inputs:.": tree}, parent)
	defer b.Free()
	ka, err := a.Finish()
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := b.Finish()
	if ka != kb {
		t.Fatalf("field order changed the key: %s %s", ka, kb)
	}
	enc, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if Digest(sha256.Sum256(enc)) != ka {
		t.Fatal("Finish is not the SHA-256 of Encode")
	}
	if a.Kind() != "go-build" {
		t.Fatalf("Kind() = %q", a.Kind())
	}
	if p, ok := a.Parent(); !ok || p != parent {
		t.Fatalf("Parent() = %s %v", p, ok)
	}
	fields := a.Fields()
	if len(fields) != 3 || fields[0].Name != "env:GOFLAGS" || fields[2].Name != "ldflags" {
		t.Fatalf("Fields() = %+v", fields)
	}
	if f, ok := a.Field("inputs:."); !ok || f.Type != KeyFieldDigest || f.Digest != tree || f.Value != tree.String() {
		t.Fatalf("Field(inputs:.) = %+v %v", f, ok)
	}

	// Rules of names.
	if err := a.AddString("ldflags", "x"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate field: %v", err)
	}
	if err := a.AddString("@kind", "x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reserved name: %v", err)
	}
	if _, err := NewKey(""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty kind: %v", err)
	}

	// A NUL inside a value is kept.
	if err := b.AddString("bytes", "a\x00b"); err != nil {
		t.Fatal(err)
	}
	if f, _ := b.Field("bytes"); f.Value != "a\x00b" {
		t.Fatalf("value with NUL came back as %q", f.Value)
	}

	// JSON round trip, then the diff names what changed.
	js, err := a.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := KeyFromJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Free()
	if kback, _ := back.Finish(); kback != ka {
		t.Fatalf("JSON round trip changed the key: %s", js)
	}
	diff, err := DiffKeys(back, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff) != 1 || diff[0].Name != "bytes" || diff[0].Change != KeyAdded || diff[0].HasOld || !diff[0].HasNew {
		t.Fatalf("diff = %+v", diff)
	}
	if same, _ := a.Diff(back); len(same) != 0 {
		t.Fatalf("a key differs from its JSON copy: %+v", same)
	}
	if err := b.SetParent(Digest{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Parent(); ok {
		t.Fatal("SetParent(zero) did not clear the parent")
	}

	// Freed keys fail cleanly.
	a.Free()
	a.Free()
	if _, err := a.Finish(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Finish after Free: %v", err)
	}
}
