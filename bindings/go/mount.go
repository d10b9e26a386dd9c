package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// Sharing says how a cache mount is shared between holders (BuildKit's sharing=...). The rules
// hold across processes (flock(2)); a holder that dies releases its mount.
type Sharing int

// The sharing modes.
const (
	// Shared allows many holders at once; it waits while a Locked holder has the mount.
	Shared Sharing = C.GOACCEL_MOUNT_SHARED
	// Private gives a holder an instance of its own (the main one if idle, else an extra one).
	Private Sharing = C.GOACCEL_MOUNT_PRIVATE
	// Locked allows one holder; others wait up to the timeout, then get ErrLocked.
	Locked Sharing = C.GOACCEL_MOUNT_LOCKED
)

// String names the sharing mode as BuildKit does.
func (s Sharing) String() string {
	switch s {
	case Shared:
		return "shared"
	case Private:
		return "private"
	case Locked:
		return "locked"
	}
	return "unknown"
}

// MountOptions are the options of Store.MountWithOptions; nil means defaults.
type MountOptions struct {
	// Timeout is how long Shared and Locked wait for a conflicting holder: 0 means the library's
	// default (10 minutes), a negative value forever. NoWait overrides it.
	Timeout time.Duration
	// NoWait fails at once with ErrLocked instead of waiting.
	NoWait bool
}

// Mount is a held cache mount: a directory of the store that builds keep across runs. It keeps
// its store alive; Release it when done (a finalizer releases a forgotten one, but a lock held
// until the garbage collector runs is a lock held too long).
type Mount struct {
	ptr      *C.goaccel_mount
	store    *Store
	path     string
	id       string
	instance int
	sharing  Sharing
}

// Mount acquires the cache mount id (creating it empty if needed) with the default timeout.
// id is [A-Za-z0-9._-]{1,128}, not starting with '.'.
func (s *Store) Mount(id string, sharing Sharing) (*Mount, error) {
	return s.MountWithOptions(id, sharing, nil)
}

// MountWithOptions is Mount with options. ErrLocked when the timeout passed.
func (s *Store) MountWithOptions(id string, sharing Sharing, opts *MountOptions) (*Mount, error) {
	cid, err := cString(id)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cid))
	var copts C.goaccel_mount_options
	if ret := C.goaccel_mount_options_init(&copts, C.GOACCEL_MOUNT_OPTIONS_VERSION); ret < 0 {
		return nil, errorf(ErrVersion, "goaccel_mount_options_init failed")
	}
	if opts != nil {
		switch {
		case opts.NoWait:
			copts.timeout_ms = 0
		case opts.Timeout < 0:
			copts.timeout_ms = -1
		case opts.Timeout > 0:
			ms := opts.Timeout / time.Millisecond
			if ms == 0 {
				ms = 1
			}
			copts.timeout_ms = C.int64_t(ms)
		}
	}
	p, err := s.ref()
	if err != nil {
		return nil, err
	}
	var ptr *C.goaccel_mount
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_mount_acquire(&ptr, p, cid, C.goaccel_mount_sharing(sharing), &copts); ret < 0 {
		err := makeError(ret)
		s.unref()
		return nil, err
	}
	m := &Mount{
		ptr: ptr, store: s, // the store reference taken above is the mount's
		path:     C.GoString(C.goaccel_mount_path(ptr)),
		id:       C.GoString(C.goaccel_mount_id(ptr)),
		instance: int(C.goaccel_mount_instance(ptr)),
		sharing:  Sharing(C.goaccel_mount_sharing_of(ptr)),
	}
	runtime.SetFinalizer(m, func(m *Mount) { _ = m.Release() })
	return m, nil
}

// Path returns the mount's directory (absolute). Valid until Release.
func (m *Mount) Path() string { return m.path }

// ID returns the mount's id.
func (m *Mount) ID() string { return m.id }

// Instance returns 0 for the main instance, n > 0 for an extra Private instance.
func (m *Mount) Instance() int { return m.instance }

// Sharing returns the sharing the mount was acquired with.
func (m *Mount) Sharing() Sharing { return m.sharing }

// Release records the last use, releases the lock and frees the mount. Safe to call twice;
// an error (the last use could not be recorded) still releases the mount.
func (m *Mount) Release() error {
	if m == nil || m.ptr == nil {
		return nil
	}
	runtime.SetFinalizer(m, nil)
	ptr := m.ptr
	m.ptr = nil
	defer m.store.unref()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_mount_release(ptr); ret < 0 {
		return makeError(ret)
	}
	return nil
}

// MountInfo describes one mount instance, as listed by Store.Mounts.
type MountInfo struct {
	ID       string
	Instance int
	Path     string
	Bytes    uint64 // apparent size (0 unless sizes were asked for)
	Files    uint64
	LastUsed time.Time
	InUse    bool
}

// Mounts lists the store's mount instances by id then instance; withSizes walks each one.
func (s *Store) Mounts(withSizes bool) ([]MountInfo, error) {
	var list *C.goaccel_mount_list
	if err := s.call(func(p *C.goaccel_store) C.int {
		return C.goaccel_mount_list_get(&list, p, cBool(withSizes))
	}); err != nil {
		return nil, err
	}
	defer C.goaccel_mount_list_free(list)
	n := C.goaccel_mount_list_count(list)
	out := make([]MountInfo, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		e := C.goaccel_mount_list_byindex(list, i)
		out = append(out, MountInfo{ID: goString(e.id), Instance: int(e.instance), Path: goString(e.path),
			Bytes: uint64(e.bytes), Files: uint64(e.files), LastUsed: time.Unix(0, int64(e.last_used_ns)),
			InUse: e.in_use != 0})
	}
	return out, nil
}

// RemoveMount removes a mount (every instance), waiting up to timeout for holders (negative:
// forever). ErrNotFound when there is no such mount, ErrLocked when it stayed held.
func (s *Store) RemoveMount(id string, timeout time.Duration) error {
	cid, err := cString(id)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cid))
	ms := C.int64_t(-1)
	if timeout >= 0 {
		ms = C.int64_t(timeout / time.Millisecond)
	}
	return s.call(func(p *C.goaccel_store) C.int { return C.goaccel_mount_remove(p, cid, ms) })
}
