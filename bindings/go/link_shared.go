//go:build !goaccel_static

package goaccel

// The default: link against the shared libgoaccel found through pkg-config
// (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig; LD_LIBRARY_PATH=PREFIX/lib at run time unless PREFIX is a
// system directory).

/*
#cgo pkg-config: goaccel
*/
import "C"

const linkedStatically = false
