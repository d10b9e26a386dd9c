package goaccel

/*
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"fmt"
)

// ErrorCode is a libgoaccel return code (GOACCEL_E*). The codes are themselves errors, so they are
// the sentinels of errors.Is:
//
//	if errors.Is(err, goaccel.ErrNotFound) { ... }
type ErrorCode int

// The library's error codes. New codes are only ever appended.
const (
	ErrGeneric  ErrorCode = C.GOACCEL_ERROR     // a failure with no more specific code (I/O, memory)
	ErrNotFound ErrorCode = C.GOACCEL_ENOTFOUND // a path, key, mount, ref or module does not exist
	ErrExists   ErrorCode = C.GOACCEL_EEXISTS   // the object exists already
	ErrLocked   ErrorCode = C.GOACCEL_ELOCKED   // a lock could not be taken within its timeout
	ErrInvalid  ErrorCode = C.GOACCEL_EINVALID  // bad argument or malformed input
	ErrBuild    ErrorCode = C.GOACCEL_EBUILD    // a child process (go, cc) failed
	ErrUser     ErrorCode = C.GOACCEL_EUSER     // a callback aborted the operation (cancellation)
	ErrCorrupt  ErrorCode = C.GOACCEL_ECORRUPT  // stored data does not match its digest or format
	ErrChanged  ErrorCode = C.GOACCEL_ECHANGED  // a file changed while it was being read
	ErrVersion  ErrorCode = C.GOACCEL_EVERSION  // an unsupported format or options version
	ErrMismatch ErrorCode = C.GOACCEL_EMISMATCH // a verification found differences
	ErrUnsafe   ErrorCode = C.GOACCEL_EUNSAFE   // a path would escape its root or is forbidden
	ErrLimit    ErrorCode = C.GOACCEL_ELIMIT    // a size or count limit was exceeded
)

// Name is the library's stable name of the code, such as "GOACCEL_ENOTFOUND".
func (c ErrorCode) Name() string {
	return C.GoString(C.goaccel_error_code_name(C.int(c)))
}

// String is the same as Name.
func (c ErrorCode) String() string { return c.Name() }

// Error makes a code usable as an error value (the sentinel of errors.Is).
func (c ErrorCode) Error() string { return c.Name() }

// ErrorClass says which part of the system an error came from (GOACCEL_ERROR_*).
type ErrorClass int

// The library's error classes.
const (
	ClassNone     ErrorClass = C.GOACCEL_ERROR_NONE
	ClassNoMemory ErrorClass = C.GOACCEL_ERROR_NOMEMORY
	ClassOS       ErrorClass = C.GOACCEL_ERROR_OS
	ClassInvalid  ErrorClass = C.GOACCEL_ERROR_INVALID
	ClassSSL      ErrorClass = C.GOACCEL_ERROR_SSL
	ClassGit      ErrorClass = C.GOACCEL_ERROR_GIT
	ClassArchive  ErrorClass = C.GOACCEL_ERROR_ARCHIVE
	ClassJSON     ErrorClass = C.GOACCEL_ERROR_JSON
	ClassDigest   ErrorClass = C.GOACCEL_ERROR_DIGEST
	ClassHash     ErrorClass = C.GOACCEL_ERROR_HASH
	ClassGoMod    ErrorClass = C.GOACCEL_ERROR_GOMOD
	ClassKey      ErrorClass = C.GOACCEL_ERROR_KEY
	ClassStore    ErrorClass = C.GOACCEL_ERROR_STORE
	ClassMount    ErrorClass = C.GOACCEL_ERROR_MOUNT
	ClassExtract  ErrorClass = C.GOACCEL_ERROR_EXTRACT
	ClassImage    ErrorClass = C.GOACCEL_ERROR_IMAGE
	ClassBuild    ErrorClass = C.GOACCEL_ERROR_BUILD
	ClassCallback ErrorClass = C.GOACCEL_ERROR_CALLBACK
	ClassSQLite   ErrorClass = C.GOACCEL_ERROR_SQLITE
)

// Error is the one error type of the package: a failed libgoaccel call.
type Error struct {
	Code    ErrorCode  // the code the C function returned
	Class   ErrorClass // the subsystem that failed
	Message string     // what failed, naming the path or field (goaccel_error_last()->message)
	// Cause is the Go error behind a callback's abort (ctx.Err() for a cancelled context, or the
	// error a Go callback returned); nil otherwise. Unwrap returns it.
	Cause error
}

// Error formats the message with the code's name.
func (e *Error) Error() string {
	if e.Cause != nil && e.Message == "" {
		return fmt.Sprintf("goaccel: %v (%s)", e.Cause, e.Code.Name())
	}
	return fmt.Sprintf("goaccel: %s (%s)", e.Message, e.Code.Name())
}

// Is reports whether target is this error's code (errors.Is(err, goaccel.ErrLocked)) or a *Error
// with the same code.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case ErrorCode:
		return e.Code == t
	case *Error:
		return t != nil && e.Code == t.Code
	}
	return false
}

// Unwrap returns the Go error behind a callback's abort, so errors.Is(err, context.Canceled)
// holds for a cancelled call.
func (e *Error) Unwrap() error { return e.Cause }

// makeError turns a negative return code into a *Error, reading the calling thread's last error.
// The caller must hold runtime.LockOSThread since the C call that failed: the library's last
// error is thread-local and the goroutine could otherwise have moved to another thread.
func makeError(ret C.int) error {
	last := C.goaccel_error_last()
	e := &Error{Code: ErrorCode(ret), Class: ErrorClass(last.klass), Message: C.GoString(last.message)}
	// The code the function returned wins. Should a function ever fail without recording why,
	// the thread's record says "no error": say the code instead of that.
	if last.code == 0 {
		e.Message = e.Code.Name()
	}
	return e
}

// errorf makes an *Error for a failure detected on the Go side (a bad argument the library cannot
// see, such as a string with a NUL byte).
func errorf(code ErrorCode, format string, args ...interface{}) error {
	return &Error{Code: code, Class: ClassInvalid, Message: fmt.Sprintf(format, args...)}
}
