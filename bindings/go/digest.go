package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"encoding/hex"
	"runtime"
	"unsafe"
)

// DigestSize is the number of bytes in a Digest.
const DigestSize = C.GOACCEL_DIGEST_SIZE

// Digest is a SHA-256 digest, the content address of everything in libgoaccel. A plain value;
// the zero Digest means "unset".
type Digest [DigestSize]byte

// String formats the digest as 64 lowercase hex digits.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// OCI formats the digest as "sha256:<hex>", the form OCI manifests use.
func (d Digest) OCI() string { return "sha256:" + d.String() }

// IsZero reports whether the digest is unset (all zeroes).
func (d Digest) IsZero() bool { return d == Digest{} }

// MarshalText encodes the digest as 64 hex digits (for JSON and the like).
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses the forms ParseDigest accepts.
func (d *Digest) UnmarshalText(text []byte) error {
	p, err := ParseDigest(string(text))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// ParseDigest parses 64 hex digits (either case), optionally prefixed with "sha256:", with the
// library's parser. A malformed string gives ErrInvalid.
func ParseDigest(s string) (Digest, error) {
	return digestOf(s, func(cd *C.goaccel_digest, cs *C.char) C.int { return C.goaccel_digest_parse(cd, cs) })

}

// DigestBytes returns the SHA-256 digest of b, computed by the library (OpenSSL).
func DigestBytes(b []byte) (Digest, error) {
	var cd C.goaccel_digest
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_digest_buffer(&cd, p, C.size_t(len(b))); ret < 0 {
		return Digest{}, makeError(ret)
	}
	return goDigest(&cd), nil
}

// DigestFile returns the SHA-256 digest of a file's content, read in chunks.
// ErrNotFound if the path does not exist, ErrInvalid if it is not a regular file.
func DigestFile(path string) (Digest, error) {
	return digestOf(path, func(cd *C.goaccel_digest, cs *C.char) C.int { return C.goaccel_digest_file(cd, cs) })
}

// digestOf computes a digest with a library call taking one string.
func digestOf(arg string, fn func(*C.goaccel_digest, *C.char) C.int) (Digest, error) {
	var a cArena
	defer a.free()
	carg := a.str(arg)
	if a.err != nil {
		return Digest{}, a.err
	}
	var cd C.goaccel_digest
	if err := call(func() C.int { return fn(&cd, carg) }); err != nil {
		return Digest{}, err
	}
	return goDigest(&cd), nil

}

// goDigest copies a C digest into a Go value.
func goDigest(cd *C.goaccel_digest) Digest {
	var d Digest
	copy(d[:], C.GoBytes(unsafe.Pointer(&cd.id[0]), DigestSize))
	return d
}

// cDigest copies a Go digest into a C value.
func cDigest(d Digest) C.goaccel_digest {
	var cd C.goaccel_digest
	for i := range d {
		cd.id[i] = C.uchar(d[i])
	}
	return cd
}
