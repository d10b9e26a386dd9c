package goaccel

/*
#include <stdlib.h>
#include "wrapper.h"
*/
import "C"

import (
	"context"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// Store is an open cache store: content-addressed blobs, action records (step key → outputs),
// named refs, cache mounts and persistent statistics, shared safely by many processes.
//
// A Store is safe for concurrent use by several goroutines. Close it when done; objects obtained
// from it (*Mount, *Action) keep it alive, so Close frees the C handle only once the last of them
// is released.
type Store struct {
	mu     sync.Mutex
	ptr    *C.goaccel_store
	users  int // calls in flight plus live mounts and actions
	closed bool
	path   string
}

// StoreOptions are the options of OpenStoreWithOptions; nil means defaults.
type StoreOptions struct {
	NoCreate bool // fail with ErrNotFound instead of creating a missing store
	Fsync    bool // fsync before renames, so entries survive a power loss
}

// DefaultStoreRoot returns the default store root: $GOACCEL_CACHE, $XDG_CACHE_HOME/goaccel or
// $HOME/.cache/goaccel. ErrNotFound when none is usable.
func DefaultStoreRoot() (string, error) {
	var out *C.char
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_store_default_root(&out); ret < 0 {
		return "", makeError(ret)
	}
	return takeString(out), nil
}

// OpenStore opens (creating it if needed) the store at path; "" means DefaultStoreRoot().
func OpenStore(path string) (*Store, error) {
	return OpenStoreWithOptions(path, nil)
}

// OpenStoreWithOptions is OpenStore with options. ErrVersion for a store of another layout
// version, ErrInvalid when path is not a store, ErrNotFound with NoCreate and no store.
func OpenStoreWithOptions(path string, opts *StoreOptions) (*Store, error) {
	var a cArena
	defer a.free()
	cpath := a.strOrNil(path)
	if a.err != nil {
		return nil, a.err
	}
	var copts C.goaccel_store_options
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_store_options_init(&copts, C.GOACCEL_STORE_OPTIONS_VERSION); ret < 0 {
		return nil, makeError(ret)
	}
	if opts != nil {
		copts.no_create = cBool(opts.NoCreate)
		copts.fsync = cBool(opts.Fsync)
	}
	var ptr *C.goaccel_store
	if ret := C.goaccel_store_open(&ptr, cpath, &copts); ret < 0 {
		return nil, makeError(ret)
	}
	s := &Store{ptr: ptr, path: C.GoString(C.goaccel_store_path(ptr))}
	runtime.SetFinalizer(s, (*Store).Close)
	return s, nil
}

var errStoreClosed = &Error{Code: ErrInvalid, Class: ClassStore, Message: "goaccel: the store is closed"}

// ref takes a reference on the C handle for a call or a child object; unref gives it back.
func (s *Store) ref() (*C.goaccel_store, error) {
	if s == nil {
		return nil, errStoreClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.ptr == nil {
		return nil, errStoreClosed
	}
	s.users++
	return s.ptr, nil
}

func (s *Store) unref() {
	s.mu.Lock()
	s.users--
	var ptr *C.goaccel_store
	if s.closed && s.users == 0 {
		ptr, s.ptr = s.ptr, nil
	}
	s.mu.Unlock()
	if ptr != nil {
		C.goaccel_store_free(ptr)
	}
}

// Close closes the store. Calls in flight finish first; mounts and actions still held keep the
// C handle open until they are released. Further calls return ErrInvalid. Safe to call twice.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	runtime.SetFinalizer(s, nil)
	var ptr *C.goaccel_store
	if s.users == 0 {
		ptr, s.ptr = s.ptr, nil
	}
	s.mu.Unlock()
	if ptr != nil {
		C.goaccel_store_free(ptr)
	}
	return nil
}

// Path returns the store's absolute root directory.
func (s *Store) Path() string { return s.path }

// call runs fn with the C handle on a locked OS thread and maps its result to an error.
func (s *Store) call(fn func(p *C.goaccel_store) C.int) error {
	p, err := s.ref()
	if err != nil {
		return err
	}
	defer s.unref()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := fn(p)
	runtime.KeepAlive(s)
	if ret < 0 {
		return makeError(ret)
	}
	return nil
}

// ---- blobs ----

// PutFile copies a regular file into the store as a blob and returns its digest.
func (s *Store) PutFile(path string) (Digest, error) {
	cpath, err := cString(path)
	if err != nil {
		return Digest{}, err
	}
	defer C.free(unsafe.Pointer(cpath))
	var cd C.goaccel_digest
	err = s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_blob_put_file(&cd, p, cpath) })
	return goDigest(&cd), err
}

// PutBytes stores b as a blob and returns its digest.
func (s *Store) PutBytes(b []byte) (Digest, error) {
	var a cArena
	defer a.free()
	data := a.bytes(b)
	var cd C.goaccel_digest
	err := s.call(func(p *C.goaccel_store) C.int {
		return C.goaccel_store_blob_put_buffer(&cd, p, data, C.size_t(len(b)))
	})
	return goDigest(&cd), err
}

// Blob reads a whole blob, verified against its digest. maxSize 0 means no limit (ErrLimit
// above it). ErrNotFound for no such blob, ErrCorrupt for a damaged one (which is removed).
func (s *Store) Blob(d Digest, maxSize int) ([]byte, error) {
	cd := cDigest(d)
	var data unsafe.Pointer
	var n C.size_t
	err := s.call(func(p *C.goaccel_store) C.int {
		return C.goaccel_store_blob_get(&data, &n, p, &cd, C.size_t(maxSize))
	})
	if err != nil {
		return nil, err
	}
	defer C.goaccel_free(data)
	return C.GoBytes(data, C.int(n)), nil
}

// CopyBlob writes a blob, verified, to dest (atomically, by reflink where possible) with the
// given permission bits.
func (s *Store) CopyBlob(d Digest, dest string, mode os.FileMode) error {
	cdest, err := cString(dest)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cdest))
	cd := cDigest(d)
	return s.call(func(p *C.goaccel_store) C.int {
		return C.goaccel_store_blob_copy(p, &cd, cdest, C.uint(mode.Perm()))
	})
}

// HasBlob reports whether a blob exists (without verifying it).
func (s *Store) HasBlob(d Digest) (bool, error) {
	cd := cDigest(d)
	var has C.int
	err := s.call(func(p *C.goaccel_store) C.int {
		has = C.goaccel_store_blob_exists(p, &cd)
		return has
	})
	return has == 1, err
}

// BlobPath returns where a blob lives, whether or not it exists. Reading it directly skips
// verification; prefer Blob and CopyBlob.
func (s *Store) BlobPath(d Digest) (string, error) {
	cd := cDigest(d)
	var out *C.char
	err := s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_blob_path(&out, p, &cd) })
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// ---- refs ----

// SetRef points name at a blob (store the blob first), replacing the previous value.
func (s *Store) SetRef(name string, blob Digest) error {
	cname, err := cString(name)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cname))
	cd := cDigest(blob)
	return s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_ref_set(p, cname, &cd) })
}

// Ref reads a ref: ErrNotFound when there is none.
func (s *Store) Ref(name string) (Digest, error) {
	cname, err := cString(name)
	if err != nil {
		return Digest{}, err
	}
	defer C.free(unsafe.Pointer(cname))
	var cd C.goaccel_digest
	err = s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_ref_get(&cd, p, cname) })
	return goDigest(&cd), err
}

// RemoveRef removes a ref (ErrNotFound when there is none).
func (s *Store) RemoveRef(name string) error {
	cname, err := cString(name)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cname))
	return s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_ref_remove(p, cname) })
}

// RefEntry is one named ref as listed by Refs.
type RefEntry struct {
	Name     string
	Blob     Digest
	LastUsed time.Time // when it was last set or read
}

// Refs lists every readable named ref, sorted by name, touching nothing.
func (s *Store) Refs() ([]RefEntry, error) {
	var refs C.gobind_refs
	ret := C.int(0)
	err := s.call(func(p *C.goaccel_store) C.int {
		ret = C.gobind_refs_get(&refs, p)
		if ret == C.GOACCEL_EUSER {
			return 0 // reported below: only a failed copy stops the walk
		}
		return ret
	})
	if err != nil {
		return nil, err
	}
	if ret == C.GOACCEL_EUSER {
		return nil, errorf(ErrGeneric, "goaccel: out of memory listing refs")
	}
	defer C.gobind_refs_free(&refs)
	out := make([]RefEntry, 0, int(refs.count))
	if refs.count > 0 {
		for _, r := range unsafe.Slice(refs.items, int(refs.count)) {
			out = append(out, RefEntry{Name: goString(r.name), Blob: goDigest(&r.blob), LastUsed: time.Unix(0, int64(r.last_used_ns))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ---- statistics ----

// StoreCounters are the persistent counters of one step kind, or of all kinds together.
type StoreCounters struct {
	Hits, Misses, Corrupt uint64
	BytesRestored         uint64
	TimeSaved             time.Duration
	Puts, BytesPut        uint64
}

// HitRate is Hits / (Hits + Misses), or 0 when there were no lookups.
func (c StoreCounters) HitRate() float64 {
	if c.Hits+c.Misses == 0 {
		return 0
	}
	return float64(c.Hits) / float64(c.Hits+c.Misses)
}

func goCounters(c *C.goaccel_store_counters) StoreCounters {
	return StoreCounters{
		Hits: uint64(c.hits), Misses: uint64(c.misses), Corrupt: uint64(c.corrupt),
		BytesRestored: uint64(c.bytes_restored), TimeSaved: time.Duration(c.time_saved_ns),
		Puts: uint64(c.puts), BytesPut: uint64(c.bytes_put),
	}
}

// Stats returns the counters of kind, or their sum over all kinds when kind is "".
func (s *Store) Stats(kind string) (StoreCounters, error) {
	var a cArena
	defer a.free()
	ckind := a.strOrNil(kind)
	if a.err != nil {
		return StoreCounters{}, a.err
	}
	var c C.goaccel_store_counters
	err := s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_stats(&c, p, ckind) })
	return goCounters(&c), err
}

// AddStats adds delta to the counters of kind (for work accounted outside lookup/put).
func (s *Store) AddStats(kind string, delta StoreCounters) error {
	ckind, err := cString(kind)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ckind))
	c := C.goaccel_store_counters{
		hits: C.uint64_t(delta.Hits), misses: C.uint64_t(delta.Misses), corrupt: C.uint64_t(delta.Corrupt),
		bytes_restored: C.uint64_t(delta.BytesRestored), time_saved_ns: C.uint64_t(delta.TimeSaved),
		puts: C.uint64_t(delta.Puts), bytes_put: C.uint64_t(delta.BytesPut),
	}
	return s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_stats_add(p, ckind, &c) })
}

// StatsJSON returns the statistics as the library's JSON document (with the store's usage when
// withUsage is set).
func (s *Store) StatsJSON(withUsage bool) (string, error) {
	var out *C.char
	err := s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_stats_json(&out, p, cBool(withUsage)) })
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// ResetStats sets every counter back to zero.
func (s *Store) ResetStats() error {
	return s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_stats_reset(p) })
}

// StoreUsage is what the store holds (apparent sizes).
type StoreUsage struct {
	Blobs, BlobBytes     uint64
	Actions, ActionBytes uint64
	Refs                 uint64
	Mounts, MountBytes   uint64
	TotalBytes           uint64
}

// Usage measures the store by walking it.
func (s *Store) Usage() (StoreUsage, error) {
	var u C.goaccel_store_usage
	err := s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_usage_get(&u, p) })
	return StoreUsage{
		Blobs: uint64(u.blobs), BlobBytes: uint64(u.blob_bytes), Actions: uint64(u.actions),
		ActionBytes: uint64(u.action_bytes), Refs: uint64(u.refs), Mounts: uint64(u.mounts),
		MountBytes: uint64(u.mount_bytes), TotalBytes: uint64(u.total_bytes),
	}, err
}

// ---- prune ----

// EntryKind is what a pruned entry is; PruneOptions.Kinds is a mask of them.
type EntryKind uint

// The entry kinds.
const (
	EntryBlob   EntryKind = C.GOACCEL_ENTRY_BLOB
	EntryAction EntryKind = C.GOACCEL_ENTRY_ACTION
	EntryMount  EntryKind = C.GOACCEL_ENTRY_MOUNT
	EntryRef    EntryKind = C.GOACCEL_ENTRY_REF
	EntryTemp   EntryKind = C.GOACCEL_ENTRY_TEMP
)

// PruneEvent is an entry prune removes (or would remove in a dry run).
type PruneEvent struct {
	Kind     EntryKind
	ID       string // blob hex, "<kind>/<key hex>", "<id>[@<n>]" or a ref name
	Bytes    uint64
	LastUsed time.Time
	Reason   string // "unreferenced", "expired" or "size"
}

func goPruneEvent(e *C.goaccel_prune_event) PruneEvent {
	return PruneEvent{Kind: EntryKind(e.kind), ID: goString(e.id), Bytes: uint64(e.bytes),
		LastUsed: time.Unix(0, int64(e.last_used_ns)), Reason: goString(e.reason)}
}

// PruneOptions are the options of Prune; nil means the defaults (collect unreferenced blobs).
type PruneOptions struct {
	MaxBytes  uint64                 // keep the store at or below this many bytes (0: no limit)
	KeepFor   time.Duration          // remove entries unused for longer (0: no age limit)
	Kinds     EntryKind              // mask of kinds prune may remove (0: blobs, actions, mounts, refs)
	IDGlob    string                 // fnmatch(3) glob on the entry id ("": all)
	DryRun    bool                   // remove nothing, report what would go
	BlobGrace time.Duration          // keep unreferenced blobs younger than this (0: default 10 min)
	NoGrace   bool                   // no grace period at all
	OnEntry   func(PruneEvent) error // called per entry; an error stops prune
}

// PruneResult says what prune removed (or would remove).
type PruneResult struct {
	Blobs, Actions, Mounts, Refs uint64
	BytesFreed                   uint64
	BytesBefore, BytesAfter      uint64
	MountsInUse                  uint64
}

// Prune removes entries by the policy in opts: unreferenced blobs, then entries unused for
// longer than KeepFor, then least recently used entries while the store is above MaxBytes.
// Held mounts are never touched. Cancelling ctx (or an error from OnEntry) stops it at the next
// entry with an error matching ErrUser and the cause.
func (s *Store) Prune(ctx context.Context, opts *PruneOptions) (PruneResult, error) {
	if err := ctxErr(ctx); err != nil {
		return PruneResult{}, err
	}
	var a cArena
	defer a.free()
	copts := (*C.goaccel_prune_options)(a.alloc(unsafe.Sizeof(C.goaccel_prune_options{})))
	if ret := C.goaccel_prune_options_init(copts, C.GOACCEL_PRUNE_OPTIONS_VERSION); ret < 0 {
		return PruneResult{}, errorf(ErrVersion, "goaccel_prune_options_init failed")
	}
	var fn func(interface{}) error
	if opts != nil {
		copts.max_bytes = C.uint64_t(opts.MaxBytes)
		copts.keep_duration_ns = C.int64_t(opts.KeepFor)
		copts.kinds = C.uint(opts.Kinds)
		copts.id_glob = a.strOrNil(opts.IDGlob)
		copts.dry_run = cBool(opts.DryRun)
		if opts.NoGrace {
			copts.blob_grace_ns = -1
		} else if opts.BlobGrace > 0 {
			copts.blob_grace_ns = C.int64_t(opts.BlobGrace)
		}
		if cb := opts.OnEntry; cb != nil {
			fn = func(e interface{}) error { return cb(e.(PruneEvent)) }
		}
	}
	if a.err != nil {
		return PruneResult{}, a.err
	}
	st, h := newCallState(ctx, fn)
	defer h.Delete()
	C.gobind_prune_set_callback(copts, C.uintptr_t(h))
	var r C.goaccel_prune_result
	p, err := s.ref()
	if err != nil {
		return PruneResult{}, err
	}
	defer s.unref()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_store_prune(&r, p, copts)
	runtime.KeepAlive(s)
	return PruneResult{
		Blobs: uint64(r.blobs), Actions: uint64(r.actions), Mounts: uint64(r.mounts), Refs: uint64(r.refs),
		BytesFreed: uint64(r.bytes_freed), BytesBefore: uint64(r.bytes_before),
		BytesAfter: uint64(r.bytes_after), MountsInUse: uint64(r.mounts_in_use),
	}, st.finish(ret)
}

// ---- verify ----

// VerifyProblem is the kind of problem Verify found.
type VerifyProblem int

// The problems.
const (
	VerifyCorruptBlob    VerifyProblem = C.GOACCEL_VERIFY_CORRUPT_BLOB
	VerifyBadRecord      VerifyProblem = C.GOACCEL_VERIFY_BAD_RECORD
	VerifyDanglingRecord VerifyProblem = C.GOACCEL_VERIFY_DANGLING_RECORD
	VerifyDanglingRef    VerifyProblem = C.GOACCEL_VERIFY_DANGLING_REF
	VerifyTempFile       VerifyProblem = C.GOACCEL_VERIFY_TEMP_FILE
	VerifyStray          VerifyProblem = C.GOACCEL_VERIFY_STRAY
)

// VerifyEvent is one problem found by Verify.
type VerifyEvent struct {
	Problem  VerifyProblem
	Path     string // the file, absolute
	Detail   string
	Repaired bool
}

func goVerifyEvent(e *C.goaccel_verify_event) VerifyEvent {
	return VerifyEvent{Problem: VerifyProblem(e.problem), Path: goString(e.path),
		Detail: goString(e.detail), Repaired: e.repaired != 0}
}

// VerifyOptions are the options of Verify; nil means check only.
type VerifyOptions struct {
	Repair    bool                    // remove what is damaged, dangling or left over
	OnProblem func(VerifyEvent) error // called per problem; an error stops verify
}

// VerifyResult says what Verify checked and found.
type VerifyResult struct {
	Blobs, Actions, Refs                      uint64
	CorruptBlobs, BadRecords, DanglingRecords uint64
	DanglingRefs, TempFiles, Stray            uint64
	Problems, Repaired                        uint64
}

// Verify checks every blob (rehashing it), record and ref. It returns an error matching
// ErrMismatch when problems remain (the result says how many); cancelling ctx stops it at the
// next problem.
func (s *Store) Verify(ctx context.Context, opts *VerifyOptions) (VerifyResult, error) {
	if err := ctxErr(ctx); err != nil {
		return VerifyResult{}, err
	}
	var a cArena
	defer a.free()
	copts := (*C.goaccel_verify_options)(a.alloc(unsafe.Sizeof(C.goaccel_verify_options{})))
	if ret := C.goaccel_verify_options_init(copts, C.GOACCEL_VERIFY_OPTIONS_VERSION); ret < 0 {
		return VerifyResult{}, errorf(ErrVersion, "goaccel_verify_options_init failed")
	}
	var fn func(interface{}) error
	if opts != nil {
		copts.repair = cBool(opts.Repair)
		if cb := opts.OnProblem; cb != nil {
			fn = func(e interface{}) error { return cb(e.(VerifyEvent)) }
		}
	}
	st, h := newCallState(ctx, fn)
	defer h.Delete()
	C.gobind_verify_set_callback(copts, C.uintptr_t(h))
	var r C.goaccel_verify_result
	p, err := s.ref()
	if err != nil {
		return VerifyResult{}, err
	}
	defer s.unref()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_store_verify(&r, p, copts)
	runtime.KeepAlive(s)
	return VerifyResult{
		Blobs: uint64(r.blobs), Actions: uint64(r.actions), Refs: uint64(r.refs),
		CorruptBlobs: uint64(r.corrupt_blobs), BadRecords: uint64(r.bad_records),
		DanglingRecords: uint64(r.dangling_records), DanglingRefs: uint64(r.dangling_refs),
		TempFiles: uint64(r.temp_files), Stray: uint64(r.stray),
		Problems: uint64(r.problems), Repaired: uint64(r.repaired),
	}, st.finish(ret)
}

// ---- export / import ----

// ExportOptions select what Export writes; nil exports nothing but the archive's manifest.
type ExportOptions struct {
	Mounts      []string      // mount ids to export (their main instance)
	AllMounts   bool          // every mount (Mounts is ignored)
	Actions     bool          // action records with their blobs
	ActionsGlob string        // fnmatch(3) glob on "<kind>/<key hex>" ("": all)
	Refs        bool          // every ref with its blob
	Base        string        // an earlier export (archive or manifest): write only what changed
	ManifestOut string        // also write the manifest here (usable as a later Base)
	Level       int           // zstd level 1..19 (0: 3)
	Threads     int           // zstd threads (0: one per core)
	LockTimeout time.Duration // wait for a busy mount (0: default 10 min; negative: forever)
}

// TransferResult counts what an export wrote or an import merged.
type TransferResult struct {
	Blobs, Actions, Refs, Mounts uint64
	Files                        uint64 // mount files, directories and symlinks
	Bytes                        uint64 // content bytes before compression
	Unchanged                    uint64 // entries left out of a delta export
	Skipped                      uint64 // import: records whose blobs are unavailable
}

func goTransfer(r *C.goaccel_transfer_result) TransferResult {
	return TransferResult{Blobs: uint64(r.blobs), Actions: uint64(r.actions), Refs: uint64(r.refs),
		Mounts: uint64(r.mounts), Files: uint64(r.files), Bytes: uint64(r.bytes),
		Unchanged: uint64(r.unchanged), Skipped: uint64(r.skipped)}
}

func lockTimeoutMs(d time.Duration, def C.int64_t) C.int64_t {
	switch {
	case d < 0:
		return -1
	case d == 0:
		return def
	}
	return C.int64_t(d / time.Millisecond)
}

// Export writes the selected mounts, actions and refs into one tar+zstd archive at path (never
// half-written), for carrying a cache to another machine (docs/store.md).
func (s *Store) Export(path string, opts *ExportOptions) (TransferResult, error) {
	var a cArena
	defer a.free()
	cpath := a.str(path)
	copts := (*C.goaccel_export_options)(a.alloc(unsafe.Sizeof(C.goaccel_export_options{})))
	if ret := C.goaccel_export_options_init(copts, C.GOACCEL_EXPORT_OPTIONS_VERSION); ret < 0 {
		return TransferResult{}, errorf(ErrVersion, "goaccel_export_options_init failed")
	}
	if opts != nil {
		if len(opts.Mounts) > 0 {
			copts.mounts = a.strs(opts.Mounts)
			copts.mounts_count = C.size_t(len(opts.Mounts))
		}
		copts.all_mounts = cBool(opts.AllMounts)
		copts.actions = cBool(opts.Actions)
		copts.actions_glob = a.strOrNil(opts.ActionsGlob)
		copts.refs = cBool(opts.Refs)
		copts.base = a.strOrNil(opts.Base)
		copts.manifest_out = a.strOrNil(opts.ManifestOut)
		copts.compression_level = C.int(opts.Level)
		copts.threads = C.uint(opts.Threads)
		copts.lock_timeout_ms = lockTimeoutMs(opts.LockTimeout, copts.lock_timeout_ms)
	}
	if a.err != nil {
		return TransferResult{}, a.err
	}
	var r C.goaccel_transfer_result
	err := s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_export(&r, p, cpath, copts) })
	return goTransfer(&r), err
}

// ImportOptions bound what Import accepts; nil means the defaults (4 GiB per file, 64 GiB and
// 4 million entries in total).
type ImportOptions struct {
	MaxEntrySize uint64
	MaxTotalSize uint64
	MaxEntries   uint64
	LockTimeout  time.Duration // wait for a busy mount (0: default 10 min; negative: forever)
}

// Import merges an archive written by Export into the store. The archive is treated as hostile:
// forbidden entries give ErrUnsafe, damaged ones ErrCorrupt, oversized ones ErrLimit, and an
// interrupted import leaves nothing half-written visible.
func (s *Store) Import(path string, opts *ImportOptions) (TransferResult, error) {
	cpath, err := cString(path)
	if err != nil {
		return TransferResult{}, err
	}
	defer C.free(unsafe.Pointer(cpath))
	var copts C.goaccel_import_options
	if ret := C.goaccel_import_options_init(&copts, C.GOACCEL_IMPORT_OPTIONS_VERSION); ret < 0 {
		return TransferResult{}, errorf(ErrVersion, "goaccel_import_options_init failed")
	}
	if opts != nil {
		copts.max_entry_size = C.uint64_t(opts.MaxEntrySize)
		copts.max_total_size = C.uint64_t(opts.MaxTotalSize)
		copts.max_entries = C.uint64_t(opts.MaxEntries)
		copts.lock_timeout_ms = lockTimeoutMs(opts.LockTimeout, copts.lock_timeout_ms)
	}
	var r C.goaccel_transfer_result
	err = s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_import(&r, p, cpath, &copts) })
	return goTransfer(&r), err
}
