package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"strings"
	"unsafe"
)

// cString copies s into C memory (free it with C.free). A string with a NUL byte cannot reach C
// unchanged, so it is refused with ErrInvalid instead of being silently truncated.
func cString(s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, errorf(ErrInvalid, "string contains a NUL byte: %q", s)
	}
	return C.CString(s), nil
}

// cStringOrNil is cString, mapping "" to NULL (the library's "use the default").
func cStringOrNil(s string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return cString(s)
}

// cStrings is a NULL-terminated C array of C strings owned by Go code; free releases it.
type cStrings struct {
	ptr **C.char
	n   int
}

// newCStrings copies ss into C memory. The array has a NULL after the last element so it also
// serves as an envp.
func newCStrings(ss []string) (*cStrings, error) {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return nil, errorf(ErrInvalid, "string contains a NUL byte: %q", s)
		}
	}
	size := C.size_t(len(ss)+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))
	arr := (**C.char)(C.calloc(1, size))
	view := unsafe.Slice(arr, len(ss)+1)
	for i, s := range ss {
		view[i] = C.CString(s)
	}
	return &cStrings{ptr: arr, n: len(ss)}, nil
}

// free releases the strings and the array. Safe on nil.
func (c *cStrings) free() {
	if c == nil || c.ptr == nil {
		return
	}
	view := unsafe.Slice(c.ptr, c.n+1)
	for i := 0; i < c.n; i++ {
		C.free(unsafe.Pointer(view[i]))
	}
	C.free(unsafe.Pointer(c.ptr))
	c.ptr = nil
}

// goStrarray copies a goaccel_strarray into Go strings and disposes of it.
func goStrarray(a *C.goaccel_strarray) []string {
	defer C.goaccel_strarray_dispose(a)
	if a.count == 0 || a.strings == nil {
		return []string{}
	}
	view := unsafe.Slice(a.strings, int(a.count))
	out := make([]string, len(view))
	for i, s := range view {
		out[i] = C.GoString(s)
	}
	return out
}
