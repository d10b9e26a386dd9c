// Package goaccel is the Go binding of libgoaccel, a C library that gives build tools
// BuildKit-style caching for Go builds: content-hashed step keys, persistent cache mounts for Go's
// module and build caches, extraction of artifacts and reproducible OCI images — with no daemon.
//
// The package wraps the installed library through cgo and pkg-config:
//
//	PKG_CONFIG_PATH=PREFIX/lib/pkgconfig go build ./...
//
// Build with -tags goaccel_static to link libgoaccel.a into the program (its dependencies — OpenSSL,
// jansson, zlib, SQLite — still come from the system's shared libraries; libgit2 and libarchive
// are loaded with dlopen() by the calls that need them).
//
// # Conventions
//
// Every failure is a *Error carrying the library's code, class and message; test the code with
// errors.Is(err, goaccel.ErrNotFound) and its siblings. Calls that take a context.Context pass
// its cancellation to the library through the operation's progress callback; a cancelled call
// returns an error for which both errors.Is(err, ErrUser) and errors.Is(err, ctx.Err()) hold.
//
// Handles (*Store, *Mount, *Manifest, ...) own C memory. Release them explicitly with Close, Free
// or Release; a finalizer is only a safety net. A handle is safe for use by one goroutine at a
// time unless its documentation says otherwise.
package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"fmt"
	"runtime"
)

// The library is initialised once for the life of the process; goaccel_init is reference
// counted, so a program that also initialises libgoaccel through another binding is unaffected.
func init() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_init(); ret < 0 {
		panic(fmt.Sprintf("goaccel: cannot initialise libgoaccel: %v", makeError(ret)))
	}
}

// Version returns the version of the libgoaccel that is running (which may differ from the one
// the package was compiled against when the shared library was replaced).
func Version() (major, minor, patch int) {
	var cmaj, cmin, cpat C.int
	C.goaccel_version(&cmaj, &cmin, &cpat)
	return int(cmaj), int(cmin), int(cpat)
}

// VersionString returns the running library's version as "MAJOR.MINOR.PATCH".
func VersionString() string {
	return C.GoString(C.goaccel_version(nil, nil, nil))
}

// HeaderVersion is the version of the headers this package was compiled against.
const HeaderVersion = C.GOACCEL_VERSION

// staticDeps lists the dependencies link_static.go names in its pkg-config directive; a test
// compares it with `pkg-config --print-requires-private goaccel` so the two cannot drift apart.
var staticDeps = []string{"libcrypto", "jansson", "zlib"}

// LinkedStatically reports whether the package was built with -tags goaccel_static, i.e. whether
// libgoaccel.a is part of the program rather than a shared library loaded at run time.
func LinkedStatically() bool { return linkedStatically }
