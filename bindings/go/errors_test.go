package goaccel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestErrorCodeNames(t *testing.T) {
	codes := map[ErrorCode]string{
		ErrGeneric: "GOACCEL_ERROR", ErrNotFound: "GOACCEL_ENOTFOUND", ErrExists: "GOACCEL_EEXISTS",
		ErrLocked: "GOACCEL_ELOCKED", ErrInvalid: "GOACCEL_EINVALID", ErrBuild: "GOACCEL_EBUILD",
		ErrUser: "GOACCEL_EUSER", ErrCorrupt: "GOACCEL_ECORRUPT", ErrChanged: "GOACCEL_ECHANGED",
		ErrVersion: "GOACCEL_EVERSION", ErrMismatch: "GOACCEL_EMISMATCH", ErrUnsafe: "GOACCEL_EUNSAFE",
		ErrLimit: "GOACCEL_ELIMIT",
	}
	for code, name := range codes {
		if got := code.Name(); got != name {
			t.Errorf("ErrorCode(%d).Name() = %q, want %q", int(code), got, name)
		}
	}
	if got := ErrorCode(-999).Name(); got != "GOACCEL_E?" {
		t.Errorf("unknown code named %q", got)
	}
}

// A real failure from the library carries its code, class and message, and matches its sentinel
// with errors.Is and *Error with errors.As, also when wrapped.
func TestErrorFromLibrary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-file")
	_, err := DigestFile(missing)
	if err == nil {
		t.Fatal("DigestFile of a missing path succeeded")
	}
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("errors.Is(%v, ErrNotFound) = false", err)
	}
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrLocked) {
		t.Fatalf("%v matches a code it does not have", err)
	}
	wrapped := fmt.Errorf("hashing go.sum: %w", err)
	var e *Error
	if !errors.As(wrapped, &e) {
		t.Fatalf("errors.As(%v) found no *Error", wrapped)
	}
	if e.Code != ErrNotFound || !strings.Contains(e.Message, missing) {
		t.Fatalf("error %+v should name %s", e, missing)
	}
	if !errors.Is(wrapped, ErrNotFound) || !errors.Is(wrapped, &Error{Code: ErrNotFound}) {
		t.Fatalf("wrapped error lost its code: %v", wrapped)
	}
	if !strings.Contains(err.Error(), "GOACCEL_ENOTFOUND") {
		t.Fatalf("Error() = %q does not name the code", err.Error())
	}

	dir := t.TempDir()
	_, err = DigestFile(dir)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("DigestFile(directory) = %v, want ErrInvalid", err)
	}
}

// The last error is thread-local in C: many goroutines failing differently at once must each
// see their own message (this is what runtime.LockOSThread around each call guarantees).
func TestErrorThreadLocal(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		i := i
		go func() {
			for j := 0; j < 50; j++ {
				if i%2 == 0 {
					p := filepath.Join(dir, fmt.Sprintf("missing-%d", i))
					_, err := DigestFile(p)
					if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), p) {
						errs <- fmt.Errorf("goroutine %d: got %v", i, err)
						return
					}
				} else {
					bad := fmt.Sprintf("zz%d", i)
					_, err := ParseDigest(bad)
					if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), bad) {
						errs <- fmt.Errorf("goroutine %d: got %v", i, err)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < 32; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestErrorCause(t *testing.T) {
	e := &Error{Code: ErrUser, Message: "cancelled", Cause: context.Canceled}
	var err error = e
	if !errors.Is(err, ErrUser) || !errors.Is(err, context.Canceled) {
		t.Fatalf("%v should match ErrUser and context.Canceled", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v matches DeadlineExceeded", err)
	}
}

func TestNULInString(t *testing.T) {
	_, err := DigestFile("a\x00b")
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("DigestFile with NUL = %v, want ErrInvalid", err)
	}
}
