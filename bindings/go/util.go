package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"runtime"
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

// cArena collects C allocations made to build one call's arguments and frees them together.
// The first failed conversion is remembered in err, so a caller converts everything and checks
// once.
type cArena struct {
	ptrs []unsafe.Pointer
	err  error
}

// str returns s as a C string owned by the arena (NULL after an earlier error).
func (a *cArena) str(s string) *C.char {
	if a.err != nil {
		return nil
	}
	cs, err := cString(s)
	if err != nil {
		a.err = err
		return nil
	}
	a.ptrs = append(a.ptrs, unsafe.Pointer(cs))
	return cs
}

// strOrNil is str, with "" mapped to NULL (the library's "default" / "none").
func (a *cArena) strOrNil(s string) *C.char {
	if s == "" {
		return nil
	}
	return a.str(s)
}

// strs returns ss as a NULL-terminated C array of C strings owned by the arena; nil gives NULL
// (for an envp: "this process's environment").
func (a *cArena) strs(ss []string) **C.char {
	if ss == nil || a.err != nil {
		return nil
	}
	size := C.size_t(len(ss)+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))
	arr := (**C.char)(C.calloc(1, size))
	a.ptrs = append(a.ptrs, unsafe.Pointer(arr))
	view := unsafe.Slice(arr, len(ss)+1)
	for i, s := range ss {
		view[i] = a.str(s)
	}
	return arr
}

// strList is strs for a (pointer, count) pair: NULL and 0 for an empty list.
func (a *cArena) strList(ss []string) (**C.char, C.size_t) {
	if len(ss) == 0 {
		return nil, 0
	}
	return a.strs(ss), C.size_t(len(ss))
}

// bytes copies b into C memory owned by the arena (NULL for an empty b).
func (a *cArena) bytes(b []byte) unsafe.Pointer {
	if len(b) == 0 || a.err != nil {
		return nil
	}
	p := C.CBytes(b)
	a.ptrs = append(a.ptrs, p)
	return p
}

// alloc returns size zeroed bytes of C memory owned by the arena. Options structs that point to
// other memory (stats, callbacks' payloads) live there, since Go memory handed to C may not hold
// Go pointers.
func (a *cArena) alloc(size uintptr) unsafe.Pointer {
	p := C.calloc(1, C.size_t(size))
	a.ptrs = append(a.ptrs, p)
	return p
}

// free releases everything the arena allocated.
func (a *cArena) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}

// call runs one library call on a locked OS thread (the library's error detail is thread-local,
// so it must be read on the thread that failed) and turns a negative return into its *Error.
func call(fn func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := fn(); ret < 0 {
		return makeError(ret)
	}
	return nil
}

// goString copies a C string, mapping NULL to "".
func goString(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// takeString copies a string the library allocated for the caller and frees it.
func takeString(s *C.char) string {
	defer C.goaccel_free(unsafe.Pointer(s))
	return goString(s)
}

// goStrarray copies a goaccel_strarray into Go strings and disposes of it.
func goStrarray(a *C.goaccel_strarray) []string {
	defer C.goaccel_strarray_dispose(a)
	out := make([]string, 0, int(a.count))
	if a.count == 0 || a.strings == nil {
		return out
	}
	for _, s := range unsafe.Slice(a.strings, int(a.count)) {
		out = append(out, C.GoString(s))
	}
	return out
}

// cBool converts a Go bool to the library's int flags.
func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// dedupEnv keeps the last of several NAME=VALUE entries with one name, in the position of the
// first, as os/exec does (the C library, like getenv, would take the first). nil stays nil.
func dedupEnv(env []string) []string {
	if env == nil {
		return nil
	}
	index := map[string]int{}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name := kv
		if i := strings.IndexByte(kv, '='); i >= 0 {
			name = kv[:i]
		}
		if i, ok := index[name]; ok {
			out[i] = kv
			continue
		}
		index[name] = len(out)
		out = append(out, kv)
	}
	return out
}
