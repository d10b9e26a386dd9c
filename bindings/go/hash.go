package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"context"
	"runtime"
	"unsafe"
)

// HashFormatVersion is the version of the tree-digest encoding (docs/hashing.md).
const HashFormatVersion = C.GOACCEL_HASH_FORMAT_VERSION

// HashOptions select what HashTree and HashPaths hash; nil means the defaults (no patterns, no
// .gitignore, no stat cache, all cores, symbolic links hashed as links).
type HashOptions struct {
	// Exclude patterns in .dockerignore syntax ("*.log", "!keep.log", "/build"), applied after
	// IgnoreFile's. HashTree only.
	Exclude []string
	// IgnoreFile is a .dockerignore-syntax file of patterns ("" for none). HashTree only.
	IgnoreFile string
	// GitIgnore leaves out what git ignores (through libgit2), as git does. HashTree only.
	GitIgnore bool
	// GitGlobalExcludes also honours the user's and system's git ignore configuration.
	GitGlobalExcludes bool
	// StatCache is the file of the persistent stat cache ("" for none).
	StatCache string
	// Threads that walk and hash: 0 = one per CPU, 1 = the calling thread only.
	Threads int
	// FollowSymlinks hashes a link that resolves inside the root as what it points to.
	FollowSymlinks bool
	// Stats, when not nil, receives the counters of the call (also on failure).
	Stats *HashStats
}

// HashStats are the counters of one hash call (bytes_hashed == 0 on a warm stat cache).
type HashStats struct {
	Entries, Dirs, Excluded    uint64
	FilesHashed, BytesHashed   uint64
	CacheHits, CacheRacy       uint64
	CacheLoaded, CacheRejected bool
	CacheWritten               bool
}

// hashOptions builds the C options in C memory (they point to the stats and pattern arrays).
func (o *HashOptions) toC(a *cArena) (*C.goaccel_hash_options, error) {
	copts := (*C.goaccel_hash_options)(a.alloc(unsafe.Sizeof(C.goaccel_hash_options{})))
	if ret := C.goaccel_hash_options_init(copts, C.GOACCEL_HASH_OPTIONS_VERSION); ret < 0 {
		return nil, errorf(ErrVersion, "goaccel_hash_options_init failed")
	}
	if o == nil {
		return copts, nil
	}
	if len(o.Exclude) > 0 {
		copts.exclude = a.strs(o.Exclude)
		copts.exclude_count = C.size_t(len(o.Exclude))
	}
	copts.ignore_file = a.strOrNil(o.IgnoreFile)
	copts.gitignore = cBool(o.GitIgnore)
	copts.git_global_excludes = cBool(o.GitGlobalExcludes)
	copts.stat_cache = a.strOrNil(o.StatCache)
	if o.Threads < 0 {
		return nil, errorf(ErrInvalid, "HashOptions.Threads is negative: %d", o.Threads)
	}
	copts.threads = C.uint(o.Threads)
	copts.follow_symlinks = cBool(o.FollowSymlinks)
	if o.Stats != nil {
		copts.stats = (*C.goaccel_hash_stats)(a.alloc(unsafe.Sizeof(C.goaccel_hash_stats{})))
	}
	return copts, a.err
}

func (o *HashOptions) copyStats(copts *C.goaccel_hash_options) {
	if o == nil || o.Stats == nil || copts.stats == nil {
		return
	}
	s := copts.stats
	*o.Stats = HashStats{
		Entries: uint64(s.entries), Dirs: uint64(s.dirs), Excluded: uint64(s.excluded),
		FilesHashed: uint64(s.files_hashed), BytesHashed: uint64(s.bytes_hashed),
		CacheHits: uint64(s.cache_hits), CacheRacy: uint64(s.cache_racy),
		CacheLoaded: s.cache_loaded != 0, CacheRejected: s.cache_rejected != 0,
		CacheWritten: s.cache_written != 0,
	}
}

// HashTree returns the tree digest of a file or directory (docs/hashing.md): relative paths,
// types, executable bits, sizes, contents and link targets — never timestamps, owners or the
// absolute root path. ErrNotFound when root does not exist, ErrChanged when a file changed while
// it was read.
//
// The context is checked before hashing starts; the hash layer offers no progress callback, so a
// hash already running completes.
func HashTree(ctx context.Context, root string, opts *HashOptions) (Digest, error) {
	d, _, err := hashTree(ctx, root, opts, false)
	return d, err
}

// HashTreeManifest is HashTree that also returns the per-entry manifest (its Digest is the tree
// digest). Free the manifest when done.
func HashTreeManifest(ctx context.Context, root string, opts *HashOptions) (*Manifest, error) {
	_, m, err := hashTree(ctx, root, opts, true)
	return m, err
}

func hashTree(ctx context.Context, root string, opts *HashOptions, wantManifest bool) (Digest, *Manifest, error) {
	var a cArena
	defer a.free()
	return runHash(ctx, &a, root, opts, wantManifest,
		func(cd *C.goaccel_digest, mp **C.goaccel_manifest, croot *C.char, copts *C.goaccel_hash_options) C.int {
			return C.goaccel_hash_tree(cd, mp, croot, copts)
		})
}

// HashPaths digests exactly the listed files of root (relative, '/'-separated, any order) with
// HashTree's encoding and stat cache: the list BuildInputs returns gives a build's input digest.
// Selection options are not applied. ErrNotFound for a missing path, ErrUnsafe for a path that
// leads out of root.
func HashPaths(ctx context.Context, root string, relpaths []string, opts *HashOptions) (Digest, error) {
	d, _, err := hashPaths(ctx, root, relpaths, opts, false)
	return d, err
}

// HashPathsManifest is HashPaths that also returns the manifest. Free it when done.
func HashPathsManifest(ctx context.Context, root string, relpaths []string, opts *HashOptions) (*Manifest, error) {
	_, m, err := hashPaths(ctx, root, relpaths, opts, true)
	return m, err
}

func hashPaths(ctx context.Context, root string, relpaths []string, opts *HashOptions, wantManifest bool) (Digest, *Manifest, error) {
	var a cArena
	defer a.free()
	cpaths := a.strs(append([]string{}, relpaths...))
	return runHash(ctx, &a, root, opts, wantManifest,
		func(cd *C.goaccel_digest, mp **C.goaccel_manifest, croot *C.char, copts *C.goaccel_hash_options) C.int {
			return C.goaccel_hash_paths(cd, mp, croot, cpaths, C.size_t(len(relpaths)), copts)
		})
}

// runHash is the body of hashTree and hashPaths: root and opts converted into a (which holds the
// call's other arguments), then hash on a locked thread, the stats copied back either way.
func runHash(ctx context.Context, a *cArena, root string, opts *HashOptions, wantManifest bool,
	hash func(*C.goaccel_digest, **C.goaccel_manifest, *C.char, *C.goaccel_hash_options) C.int) (Digest, *Manifest, error) {
	if err := ctxErr(ctx); err != nil {
		return Digest{}, nil, err
	}
	croot := a.str(root)
	copts, err := opts.toC(a)
	if err != nil {
		return Digest{}, nil, err
	}
	var cd C.goaccel_digest
	var m *C.goaccel_manifest
	var mp **C.goaccel_manifest
	if wantManifest {
		mp = &m
	}
	err = call(func() C.int {
		ret := hash(&cd, mp, croot, copts)
		opts.copyStats(copts)
		return ret
	})
	if err != nil {
		return Digest{}, nil, err
	}
	return goDigest(&cd), newManifest(m), nil
}

// ctxErr reports a context that is already done as a cancellation *Error (ErrUser wrapping
// ctx.Err()), the same error a call cancelled midway returns.
func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return &Error{Code: ErrUser, Class: ClassCallback, Message: "cancelled: " + err.Error(), Cause: err}
	}
	return nil
}

// EntryType is the type of a manifest entry.
type EntryType int

// The entry types (directories appear only through their content).
const (
	EntryFile    EntryType = C.GOACCEL_ENTRY_FILE
	EntrySymlink EntryType = C.GOACCEL_ENTRY_SYMLINK
)

// ManifestEntry is one hashed entry.
type ManifestEntry struct {
	Path       string // relative, '/'-separated ("" when the root was a file)
	Type       EntryType
	Exec       bool   // the owner-executable bit (files)
	Size       uint64 // content size, or the link target's length
	Digest     Digest // SHA-256 of the content (or of the link target)
	LinkTarget string // the link's target ("" for files)
}

func goManifestEntry(e *C.goaccel_manifest_entry) ManifestEntry {
	return ManifestEntry{
		Path: goString(e.path), Type: EntryType(e._type), Exec: e.exec != 0,
		Size: uint64(e.size), Digest: goDigest(&e.digest), LinkTarget: goString(e.link_target),
	}
}

// Manifest is the per-entry list behind a tree digest. Immutable, so safe for concurrent use.
// Free it when done (a finalizer is a safety net).
type Manifest struct {
	ptr *C.goaccel_manifest
}

func newManifest(ptr *C.goaccel_manifest) *Manifest {
	if ptr == nil {
		return nil
	}
	m := &Manifest{ptr: ptr}
	runtime.SetFinalizer(m, (*Manifest).Free)
	return m
}

// Free releases the manifest. Safe to call more than once; not concurrently with other methods.
func (m *Manifest) Free() {
	if m == nil || m.ptr == nil {
		return
	}
	runtime.SetFinalizer(m, nil)
	C.goaccel_manifest_free(m.ptr)
	m.ptr = nil
}

// Len returns the number of entries (0 after Free).
func (m *Manifest) Len() int {
	if m == nil || m.ptr == nil {
		return 0
	}
	n := int(C.goaccel_manifest_entrycount(m.ptr))
	runtime.KeepAlive(m)
	return n
}

// Entry returns entry i (bytewise path order); it panics when i is out of range, like a slice.
func (m *Manifest) Entry(i int) ManifestEntry {
	if i < 0 || i >= m.Len() {
		panic("goaccel: Manifest.Entry index out of range")
	}
	e := goManifestEntry(C.goaccel_manifest_entry_byindex(m.ptr, C.size_t(i)))
	runtime.KeepAlive(m)
	return e
}

// Entries returns every entry, in bytewise path order.
func (m *Manifest) Entries() []ManifestEntry {
	n := m.Len()
	out := make([]ManifestEntry, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, goManifestEntry(C.goaccel_manifest_entry_byindex(m.ptr, C.size_t(i))))
	}
	runtime.KeepAlive(m)
	return out
}

// Lookup returns the entry with that path.
func (m *Manifest) Lookup(path string) (ManifestEntry, bool) {
	if m == nil || m.ptr == nil {
		return ManifestEntry{}, false
	}
	cpath, err := cString(path)
	if err != nil {
		return ManifestEntry{}, false
	}
	defer C.free(unsafe.Pointer(cpath))
	e := C.goaccel_manifest_entry_bypath(m.ptr, cpath)
	defer runtime.KeepAlive(m)
	if e == nil {
		return ManifestEntry{}, false
	}
	return goManifestEntry(e), true
}

// Digest returns the tree digest of the entries (what HashTree returned with the manifest).
func (m *Manifest) Digest() Digest {
	if m == nil || m.ptr == nil {
		return Digest{}
	}
	d := goDigest(C.goaccel_manifest_digest(m.ptr))
	runtime.KeepAlive(m)
	return d
}

// JSON returns the manifest's versioned JSON form (docs/hashing.md).
func (m *Manifest) JSON() ([]byte, error) {
	if m == nil || m.ptr == nil {
		return nil, errorf(ErrInvalid, "goaccel: use of a freed Manifest")
	}
	var out *C.char
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_manifest_to_json(&out, m.ptr)
	runtime.KeepAlive(m)
	if ret < 0 {
		return nil, makeError(ret)
	}
	defer C.goaccel_free(unsafe.Pointer(out))
	return []byte(C.GoString(out)), nil
}

// Save writes the JSON form to path atomically.
func (m *Manifest) Save(path string) error {
	if m == nil || m.ptr == nil {
		return errorf(ErrInvalid, "goaccel: use of a freed Manifest")
	}
	cpath, err := cString(path)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cpath))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_manifest_save(m.ptr, cpath)
	runtime.KeepAlive(m)
	if ret < 0 {
		return makeError(ret)
	}
	return nil
}

// LoadManifest reads a manifest written by Save (ErrNotFound, ErrInvalid, ErrVersion,
// ErrCorrupt when its recorded digest does not match its entries).
func LoadManifest(path string) (*Manifest, error) {
	var a cArena
	defer a.free()
	cpath := a.str(path)
	return makeManifest(&a, func(m **C.goaccel_manifest) C.int { return C.goaccel_manifest_load(m, cpath) })

}

// ParseManifest parses a manifest's JSON form, validating it as LoadManifest does.
func ParseManifest(data []byte) (*Manifest, error) {
	var a cArena
	defer a.free()
	p := a.bytes(data)
	return makeManifest(&a, func(m **C.goaccel_manifest) C.int {
		return C.goaccel_manifest_from_json(m, (*C.char)(p), C.size_t(len(data)))
	})
}

// makeManifest runs a manifest constructor once a's conversions succeeded.
func makeManifest(a *cArena, create func(**C.goaccel_manifest) C.int) (*Manifest, error) {
	if a.err != nil {
		return nil, a.err
	}
	var m *C.goaccel_manifest
	if err := call(func() C.int { return create(&m) }); err != nil {
		return nil, err
	}
	return newManifest(m), nil

}

// Change is a set of flags saying how a path changed between two manifests.
type Change uint

// The change flags. ChangeContent and ChangeMode may be combined; the others stand alone.
const (
	ChangeAdded   Change = C.GOACCEL_CHANGE_ADDED
	ChangeRemoved Change = C.GOACCEL_CHANGE_REMOVED
	ChangeContent Change = C.GOACCEL_CHANGE_CONTENT
	ChangeMode    Change = C.GOACCEL_CHANGE_MODE
	ChangeType    Change = C.GOACCEL_CHANGE_TYPE
)

// ManifestChange is one changed path. Old is nil for an added path, New for a removed one.
type ManifestChange struct {
	Path   string
	Change Change
	Old    *ManifestEntry
	New    *ManifestEntry
}

// ManifestDiff is the result of Manifest.Diff: the changed paths in bytewise order.
type ManifestDiff struct {
	Changes []ManifestChange
	text    string
}

// String is the library's human-readable summary, one line per change ("content  main.go").
func (d *ManifestDiff) String() string { return d.text }

// Diff compares m (the old manifest) with newer path by path: which paths were added, removed,
// or changed content, executable bit or type — why a tree digest changed.
func (m *Manifest) Diff(newer *Manifest) (*ManifestDiff, error) {
	if m == nil || m.ptr == nil || newer == nil || newer.ptr == nil {
		return nil, errorf(ErrInvalid, "goaccel: Manifest.Diff on a nil or freed Manifest")
	}
	var ch *C.goaccel_manifest_changes
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_manifest_diff(&ch, m.ptr, newer.ptr)
	runtime.KeepAlive(m)
	runtime.KeepAlive(newer)
	if ret < 0 {
		return nil, makeError(ret)
	}
	defer C.goaccel_manifest_changes_free(ch)
	d := &ManifestDiff{}
	n := C.goaccel_manifest_changes_count(ch)
	for i := C.size_t(0); i < n; i++ {
		c := C.goaccel_manifest_changes_byindex(ch, i)
		mc := ManifestChange{Path: goString(c.path), Change: Change(c.change)}
		if c.old_entry != nil {
			e := goManifestEntry(c.old_entry)
			mc.Old = &e
		}
		if c.new_entry != nil {
			e := goManifestEntry(c.new_entry)
			mc.New = &e
		}
		d.Changes = append(d.Changes, mc)
	}
	var text *C.char
	if ret := C.goaccel_manifest_changes_to_text(&text, ch, 0); ret < 0 {
		return nil, makeError(ret)
	}
	d.text = takeString(text)
	return d, nil
}
