package goaccel_test

import (
	"errors"
	"fmt"

	"libgoaccel.dev/go/goaccel"
)

// Digests are SHA-256 values computed by the library; they print as hex.
func ExampleDigestBytes() {
	d, err := goaccel.DigestBytes([]byte("abc"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
	fmt.Println(d.OCI()[:15])
	// Output:
	// ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
	// sha256:ba7816bf
}

// Every failure is a *goaccel.Error; its code is tested with errors.Is.
func ExampleError() {
	_, err := goaccel.DigestFile("/nonexistent/go.sum")
	if errors.Is(err, goaccel.ErrNotFound) {
		var e *goaccel.Error
		errors.As(err, &e)
		fmt.Println(e.Code, e.Class == goaccel.ClassOS || e.Class == goaccel.ClassDigest)
	}
	// Output:
	// GOACCEL_ENOTFOUND true
}

func ExampleParseDigest() {
	d, err := goaccel.ParseDigest("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
	fmt.Println(d, err)
	_, err = goaccel.ParseDigest("not-a-digest")
	fmt.Println(errors.Is(err, goaccel.ErrInvalid))
	// Output:
	// ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad <nil>
	// true
}

// A step key names a step's result by exactly its inputs; the order of the fields does not
// matter, and two keys can be compared field by field to explain a cache miss.
func ExampleNewKey() {
	mk := func(ldflags string) *goaccel.Key {
		k, _ := goaccel.NewKey("go-build")
		k.AddString("ldflags", ldflags)
		k.AddString("tags", "musl")
		return k
	}
	prev, cur := mk("-s -w"), mk("-s -w -X main.version=2")
	defer prev.Free()
	defer cur.Free()
	changes, _ := prev.Diff(cur)
	for _, c := range changes {
		fmt.Printf("%s %s: %q -> %q\n", c.Name, c.Change, c.OldValue, c.NewValue)
	}
	// Output:
	// ldflags changed: "-s -w" -> "-s -w -X main.version=2"
}
