package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// KeyEncodingVersion is the version of the step-key encoding the library writes (docs/keys.md).
const KeyEncodingVersion = C.GOACCEL_KEY_ENCODING_VERSION

// Key builds a step key: a kind, named string and digest fields and an optional parent, encoded
// canonically (fields sorted by name) and digested, so the same logical inputs give the same key
// from C, Python and Go. Not safe for concurrent use. Free it when done (a finalizer is a
// safety net).
type Key struct {
	ptr *C.goaccel_key
}

// KeyFieldType is the type of a key field.
type KeyFieldType int

// The field types.
const (
	KeyFieldString KeyFieldType = C.GOACCEL_KEY_FIELD_STRING
	KeyFieldDigest KeyFieldType = C.GOACCEL_KEY_FIELD_DIGEST
)

// KeyField is one field of a key.
type KeyField struct {
	Name   string
	Type   KeyFieldType
	Value  string // the string (may hold NULs), or the digest as hex
	Digest Digest // the digest (zero for strings)
}

func newKey(ptr *C.goaccel_key) *Key {
	k := &Key{ptr: ptr}
	runtime.SetFinalizer(k, (*Key).Free)
	return k
}

// NewKey starts a key of the given kind, e.g. "go-build". ErrInvalid for an empty kind.
func NewKey(kind string) (*Key, error) {
	return makeKey(kind, func(out **C.goaccel_key, s *C.char) C.int { return C.goaccel_key_new(out, s) })

}

// KeyFromJSON rebuilds a key from Key.JSON's output (ErrVersion for another encoding version,
// ErrInvalid for malformed JSON, ErrCorrupt when its "key" member does not match).
func KeyFromJSON(json string) (*Key, error) {
	return makeKey(json, func(out **C.goaccel_key, s *C.char) C.int { return C.goaccel_key_from_json(out, s) })
}

// makeKey creates a key with a constructor taking one string.
func makeKey(arg string, create func(**C.goaccel_key, *C.char) C.int) (*Key, error) {
	var a cArena
	defer a.free()
	carg := a.str(arg)
	if a.err != nil {
		return nil, a.err
	}
	var ptr *C.goaccel_key
	if err := call(func() C.int { return create(&ptr, carg) }); err != nil {
		return nil, err
	}
	return newKey(ptr), nil

}

// Free releases the key. Safe to call more than once.
func (k *Key) Free() {
	if k == nil || k.ptr == nil {
		return
	}
	runtime.SetFinalizer(k, nil)
	C.goaccel_key_free(k.ptr)
	k.ptr = nil
}

// valid guards against use after Free (which would otherwise pass NULL and get ErrInvalid from
// the library with a less helpful message).
func (k *Key) valid() error {
	if k == nil || k.ptr == nil {
		return errorf(ErrInvalid, "goaccel: use of a freed Key")
	}
	return nil
}

// AddString adds a string field (which may hold any bytes). Names are non-empty, unique and do
// not start with '@': ErrExists for a duplicate, ErrInvalid for a bad name.
func (k *Key) AddString(name, value string) error {
	if err := k.valid(); err != nil {
		return err
	}
	var a cArena
	defer a.free()
	cname := a.str(name)
	if a.err != nil {
		return a.err
	}
	// Values go through add_bytes so that a NUL inside them is kept, as in the C API.
	cval := a.bytes([]byte(value))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_key_add_bytes(k.ptr, cname, cval, C.size_t(len(value)))
	runtime.KeepAlive(k)
	if ret < 0 {
		return makeError(ret)
	}
	return nil
}

// AddDigest adds a digest field (same naming rules as AddString).
func (k *Key) AddDigest(name string, d Digest) error {
	if err := k.valid(); err != nil {
		return err
	}
	cname, err := cString(name)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cname))
	cd := cDigest(d)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_key_add_digest(k.ptr, cname, &cd)
	runtime.KeepAlive(k)
	if ret < 0 {
		return makeError(ret)
	}
	return nil
}

// SetParent sets the parent key (the step this one builds on); a zero Digest clears it.
func (k *Key) SetParent(parent Digest) error {
	if err := k.valid(); err != nil {
		return err
	}
	cd := cDigest(parent)
	pd := &cd
	if parent.IsZero() {
		pd = nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_key_set_parent(k.ptr, pd)
	runtime.KeepAlive(k)
	if ret < 0 {
		return makeError(ret)
	}
	return nil
}

// Finish computes the key (SHA-256 of Encode's bytes). The key stays usable.
func (k *Key) Finish() (Digest, error) {
	if err := k.valid(); err != nil {
		return Digest{}, err
	}
	var cd C.goaccel_digest
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_key_finish(&cd, k.ptr)
	runtime.KeepAlive(k)
	if ret < 0 {
		return Digest{}, makeError(ret)
	}
	return goDigest(&cd), nil
}

// Encode returns the canonical encoding that Finish digests (docs/keys.md).
func (k *Key) Encode() ([]byte, error) {
	if err := k.valid(); err != nil {
		return nil, err
	}
	var buf *C.uchar
	var n C.size_t
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_key_encode(&buf, &n, k.ptr)
	runtime.KeepAlive(k)
	if ret < 0 {
		return nil, makeError(ret)
	}
	defer C.goaccel_free(unsafe.Pointer(buf))
	return C.GoBytes(unsafe.Pointer(buf), C.int(n)), nil
}

// Kind returns the key's kind ("" after Free).
func (k *Key) Kind() string {
	if k.valid() != nil {
		return ""
	}
	s := goString(C.goaccel_key_kind(k.ptr))
	runtime.KeepAlive(k)
	return s
}

// Parent returns the parent key and whether one is set.
func (k *Key) Parent() (Digest, bool) {
	if k.valid() != nil {
		return Digest{}, false
	}
	p := C.goaccel_key_parent(k.ptr)
	defer runtime.KeepAlive(k)
	if p == nil {
		return Digest{}, false
	}
	return goDigest(p), true
}

// Fields returns the fields in canonical (name) order.
func (k *Key) Fields() []KeyField {
	if k.valid() != nil {
		return nil
	}
	defer runtime.KeepAlive(k)
	n := C.goaccel_key_field_count(k.ptr)
	out := make([]KeyField, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		out = append(out, goKeyField(C.goaccel_key_field_byindex(k.ptr, i)))
	}
	return out
}

// Field returns the field with that name.
func (k *Key) Field(name string) (KeyField, bool) {
	if k.valid() != nil || len(name) == 0 {
		return KeyField{}, false
	}
	cname, err := cString(name)
	if err != nil {
		return KeyField{}, false
	}
	defer C.free(unsafe.Pointer(cname))
	f := C.goaccel_key_field_byname(k.ptr, cname)
	defer runtime.KeepAlive(k)
	if f == nil {
		return KeyField{}, false
	}
	return goKeyField(f), true
}

func goKeyField(f *C.goaccel_key_field) KeyField {
	return KeyField{
		Name:   goString(f.name),
		Type:   KeyFieldType(f._type),
		Value:  C.GoStringN(f.value, C.int(f.value_len)),
		Digest: goDigest(&f.digest),
	}
}

// JSON returns the key's JSON form (docs/keys.md), which KeyFromJSON reads back.
func (k *Key) JSON() (string, error) {
	if err := k.valid(); err != nil {
		return "", err
	}
	var out *C.char
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_key_to_json(&out, k.ptr)
	runtime.KeepAlive(k)
	if ret < 0 {
		return "", makeError(ret)
	}
	return takeString(out), nil
}

// KeyChange says how a field changed between two keys.
type KeyChange int

// The changes.
const (
	KeyAdded   KeyChange = C.GOACCEL_KEY_ADDED   // only the new key has the field
	KeyRemoved KeyChange = C.GOACCEL_KEY_REMOVED // only the old key has it
	KeyChanged KeyChange = C.GOACCEL_KEY_CHANGED // both have it, with another type or value
)

// String names the change ("added", "removed", "changed").
func (c KeyChange) String() string {
	switch c {
	case KeyAdded:
		return "added"
	case KeyRemoved:
		return "removed"
	case KeyChanged:
		return "changed"
	}
	return "unknown"
}

// KeyDiffEntry is one difference between two keys. "@kind" and "@parent" stand for the kind and
// the parent; OldValue/NewValue are "" on the side that lacks the field (HasOld/HasNew say so).
type KeyDiffEntry struct {
	Name     string
	Change   KeyChange
	OldValue string
	NewValue string
	HasOld   bool
	HasNew   bool
}

// DiffKeys compares two keys field by field — "why did this miss?". Entries are in name order
// ("@kind", "@parent" first); no entries means the keys are equal.
func DiffKeys(oldKey, newKey *Key) ([]KeyDiffEntry, error) {
	if err := oldKey.valid(); err != nil {
		return nil, err
	}
	if err := newKey.valid(); err != nil {
		return nil, err
	}
	var d *C.goaccel_key_diff
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_key_diff_new(&d, oldKey.ptr, newKey.ptr)
	runtime.KeepAlive(oldKey)
	runtime.KeepAlive(newKey)
	if ret < 0 {
		return nil, makeError(ret)
	}
	defer C.goaccel_key_diff_free(d)
	n := C.goaccel_key_diff_entrycount(d)
	out := make([]KeyDiffEntry, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		e := C.goaccel_key_diff_entry_byindex(d, i)
		out = append(out, KeyDiffEntry{
			Name: goString(e.name), Change: KeyChange(e.change),
			OldValue: goString(e.old_value), NewValue: goString(e.new_value),
			HasOld: e.old_value != nil, HasNew: e.new_value != nil,
		})
	}
	return out, nil
}

// Diff is DiffKeys(k, newer).
func (k *Key) Diff(newer *Key) ([]KeyDiffEntry, error) { return DiffKeys(k, newer) }
