//go:build goaccel_static

package goaccel

// With -tags goaccel_static, libgoaccel.a is linked into the program and its dependencies come
// from the system's shared libraries, the way tests/install/check_install.sh links its static
// consumer: libgoaccel's own -I/-L come from pkg-config, the archive is forced with -Bstatic, and
// the dependencies are goaccel.pc's Requires.private (kept in sync by TestStaticDependencies).
// --as-needed drops the shared libgoaccel.so that pkg-config's "-lgoaccel" would otherwise add.
// libgit2 and libarchive are not linked: libgoaccel loads them with dlopen() when a call needs
// them (-ldl), so they must be installed at run time, not at link time.

/*
#cgo pkg-config: goaccel libcrypto jansson zlib
#cgo LDFLAGS: -Wl,-Bstatic -lgoaccel -Wl,-Bdynamic -Wl,--as-needed -lpthread -ldl
*/
import "C"

const linkedStatically = true
