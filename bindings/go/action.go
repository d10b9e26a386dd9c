package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"os"
	"runtime"
	"time"
	"unsafe"
)

// ActionOutput is one output to record with Store.PutAction: a file (Path) or bytes (Data).
type ActionOutput struct {
	Name string      // relative, '/'-separated
	Path string      // the regular file to store; "" to store Data instead
	Data []byte      // the content when Path is ""
	Mode os.FileMode // permission bits to restore; 0 takes the source file's own (Data: 0644)
}

// ActionMeta is the metadata recorded with an action; nil means none.
type ActionMeta struct {
	Duration time.Duration // how long the step took: a later hit counts it as time saved
	Info     string        // free-form UTF-8 (e.g. JSON)
	Created  time.Time     // zero: now
}

// PutAction records the outputs of a step under its key (replacing an earlier record), copying
// every output into the store first so the record appears atomically with all its blobs.
// kind is [A-Za-z0-9._-]{1,64}.
func (s *Store) PutAction(key Digest, kind string, outputs []ActionOutput, meta *ActionMeta) error {
	var a cArena
	defer a.free()
	ckind := a.str(kind)
	var couts *C.goaccel_action_output
	if len(outputs) > 0 {
		couts = (*C.goaccel_action_output)(a.alloc(uintptr(len(outputs)) * unsafe.Sizeof(C.goaccel_action_output{})))
		view := unsafe.Slice(couts, len(outputs))
		for i, o := range outputs {
			view[i].name = a.str(o.Name)
			view[i].mode = -1
			if o.Mode != 0 {
				view[i].mode = C.int(o.Mode.Perm())
			}
			if o.Path != "" {
				view[i].path = a.str(o.Path)
			} else {
				view[i].data = a.bytes(o.Data)
				view[i].size = C.size_t(len(o.Data))
				if o.Mode == 0 {
					view[i].mode = 0o644
				}
			}
		}
	}
	var cmeta *C.goaccel_action_meta
	if meta != nil {
		cmeta = (*C.goaccel_action_meta)(a.alloc(unsafe.Sizeof(C.goaccel_action_meta{})))
		if ret := C.goaccel_action_meta_init(cmeta, C.GOACCEL_ACTION_META_VERSION); ret < 0 {
			return errorf(ErrVersion, "goaccel_action_meta_init failed")
		}
		cmeta.duration_ns = C.int64_t(meta.Duration)
		cmeta.info = a.strOrNil(meta.Info)
		if !meta.Created.IsZero() {
			cmeta.created_ns = C.int64_t(meta.Created.UnixNano())
		}
	}
	if a.err != nil {
		return a.err
	}
	ckey := cDigest(key)
	return s.call(func(p *C.goaccel_store) C.int {
		return C.goaccel_store_action_put(p, &ckey, ckind, couts, C.size_t(len(outputs)), cmeta)
	})
}

// RemoveAction removes the record of key (its blobs stay until Prune collects them).
func (s *Store) RemoveAction(key Digest) error {
	ckey := cDigest(key)
	return s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_action_remove(p, &ckey) })
}

// Action is an action record found by Store.LookupAction. It holds its output blobs open (so a
// concurrent prune cannot take them) and keeps its store alive; Free it when done. Not safe for
// concurrent use.
type Action struct {
	ptr   *C.goaccel_action
	store *Store
}

// ActionOutputInfo describes a recorded output.
type ActionOutputInfo struct {
	Name   string
	Mode   os.FileMode
	Size   uint64
	Digest Digest
}

// LookupAction looks a step key up: ErrNotFound on a miss (also for a dangling or corrupt
// record). A hit verifies every output blob and counts in the statistics under kind ("" = the
// record's own kind).
func (s *Store) LookupAction(kind string, key Digest) (*Action, error) {
	return s.LookupActionWith(kind, key, nil)
}

// LookupOptions are the options of LookupActionWith; nil means an ordinary lookup.
type LookupOptions struct {
	// Peek gives the same answer (every output blob is rehashed) but writes nothing: no hit,
	// miss or corrupt is counted, the record's last-used time stays as it was, and a damaged
	// record or blob is left in place (only reported as a miss). For dry runs and explanations.
	Peek bool
}

// LookupActionWith is LookupAction with options (see LookupOptions).
func (s *Store) LookupActionWith(kind string, key Digest, opts *LookupOptions) (*Action, error) {
	var copts C.goaccel_lookup_options
	if err := call(func() C.int { return C.goaccel_lookup_options_init(&copts, C.GOACCEL_LOOKUP_OPTIONS_VERSION) }); err != nil {
		return nil, err
	}
	if opts != nil && opts.Peek {
		copts.flags |= C.GOACCEL_LOOKUP_PEEK
	}
	return s.findAction(kind, key, func(out **C.goaccel_action, p *C.goaccel_store, ckind *C.char, ckey *C.goaccel_digest) C.int {
		return C.goaccel_store_action_lookup_ext(out, p, ckind, ckey, &copts)
	})
}

// FetchAction looks key up and restores its outputs under destDir (created if missing) in one
// pass: each blob is verified while it is copied, and a file is renamed into place only once
// every output matched, so a damaged blob never reaches destDir. ErrNotFound on a miss (absent,
// dangling or corrupt; nothing new is left in destDir), ErrExists with opts.NoOverwrite when an
// output exists. A hit counts as LookupAction's does, plus the bytes restored. Free the action.
func (s *Store) FetchAction(kind string, key Digest, destDir string, opts *RestoreOptions) (*Action, error) {
	var a cArena
	defer a.free()
	cdir := a.str(destDir)
	if a.err != nil {
		return nil, a.err
	}
	copts, err := opts.toC()
	if err != nil {
		return nil, err
	}
	return s.findAction(kind, key, func(out **C.goaccel_action, p *C.goaccel_store, ckind *C.char, ckey *C.goaccel_digest) C.int {
		return C.goaccel_store_action_fetch(out, p, ckind, ckey, cdir, &copts)
	})
}

// findAction runs a lookup-like call; the Action it returns holds a reference on the store.
func (s *Store) findAction(kind string, key Digest,
	find func(out **C.goaccel_action, p *C.goaccel_store, ckind *C.char, ckey *C.goaccel_digest) C.int) (*Action, error) {
	var a cArena
	defer a.free()
	ckind := a.strOrNil(kind)
	if a.err != nil {
		return nil, a.err
	}
	p, err := s.ref()
	if err != nil {
		return nil, err
	}
	ckey := cDigest(key)
	var ptr *C.goaccel_action
	if err := call(func() C.int { return find(&ptr, p, ckind, &ckey) }); err != nil {
		s.unref()
		return nil, err
	}
	runtime.KeepAlive(s)
	act := &Action{ptr: ptr, store: s} // the store reference taken above is the action's
	runtime.SetFinalizer(act, (*Action).Free)
	return act, nil
}

// ActionSort is the order of ListActions.
type ActionSort int

// The orders.
const (
	SortByKey      ActionSort = C.GOACCEL_ACTION_SORT_KEY       // bytewise by key
	SortByLastUsed ActionSort = C.GOACCEL_ACTION_SORT_LAST_USED // least recently used first (prune's order), then key
)

// ListActionsOptions are the options of ListActions; nil lists every record by key.
type ListActionsOptions struct {
	Kind string     // only records of this step kind ("": all)
	Glob string     // fnmatch(3) glob on "<kind>/<key hex>" ("": all)
	Sort ActionSort // SortByKey (default) or SortByLastUsed
}

// ActionEntry is one listed action record.
type ActionEntry struct {
	Key         Digest
	Kind        string
	Created     time.Time
	LastUsed    time.Time // its last hit, or its creation if it never had one
	Duration    time.Duration
	Info        string
	Outputs     []ActionOutputInfo // in name order
	TotalSize   uint64             // the sum of the outputs' sizes
	RecordBytes uint64             // the record file's own size
}

// ActionList is what ListActions found. Skipped counts records that could not be read.
type ActionList struct {
	Entries []ActionEntry
	Skipped int
}

// ListActions lists the store's action records: a cheap snapshot read from the records alone
// (blobs are neither read nor checked, so a listed record may still miss; Verify checks).
// Nothing is counted and no last-used time changes. ErrInvalid for a malformed kind.
func (s *Store) ListActions(opts *ListActionsOptions) (ActionList, error) {
	var a cArena
	defer a.free()
	var copts C.goaccel_action_list_options
	if err := call(func() C.int {
		return C.goaccel_action_list_options_init(&copts, C.GOACCEL_ACTION_LIST_OPTIONS_VERSION)
	}); err != nil {
		return ActionList{}, err
	}
	if opts != nil {
		copts.kind, copts.glob = a.strOrNil(opts.Kind), a.strOrNil(opts.Glob)
		copts.sort = C.goaccel_action_sort(opts.Sort)
	}
	if a.err != nil {
		return ActionList{}, a.err
	}
	var list *C.goaccel_action_list
	if err := s.call(func(p *C.goaccel_store) C.int { return C.goaccel_store_action_list_get(&list, p, &copts) }); err != nil {
		return ActionList{}, err
	}
	defer C.goaccel_action_list_free(list)
	n := C.goaccel_action_list_count(list)
	out := ActionList{Entries: make([]ActionEntry, 0, int(n)), Skipped: int(C.goaccel_action_list_skipped(list))}
	for i := C.size_t(0); i < n; i++ {
		e := C.goaccel_action_list_byindex(list, i)
		entry := ActionEntry{Key: goDigest(&e.key), Kind: goString(e.kind), Created: time.Unix(0, int64(e.created_ns)),
			LastUsed: time.Unix(0, int64(e.last_used_ns)), Duration: time.Duration(e.duration_ns), Info: goString(e.info),
			TotalSize: uint64(e.total_size), RecordBytes: uint64(e.record_bytes)}
		if e.output_count > 0 {
			for _, o := range unsafe.Slice(e.outputs, int(e.output_count)) {
				entry.Outputs = append(entry.Outputs, goOutputInfo(&o))
			}
		}
		out.Entries = append(out.Entries, entry)
	}
	return out, nil
}

// goOutputInfo copies an output's description.
func goOutputInfo(o *C.goaccel_action_output_info) ActionOutputInfo {
	return ActionOutputInfo{Name: goString(o.name), Mode: os.FileMode(o.mode), Size: uint64(o.size), Digest: goDigest(&o.digest)}
}

// Free releases the action (closing its blobs) and its hold on the store. Safe twice.
func (act *Action) Free() {
	if act == nil || act.ptr == nil {
		return
	}
	runtime.SetFinalizer(act, nil)
	C.goaccel_action_free(act.ptr)
	act.ptr = nil
	act.store.unref()
}

func (act *Action) valid() error {
	if act == nil || act.ptr == nil {
		return errorf(ErrInvalid, "goaccel: use of a freed Action")
	}
	return nil
}

// RestoreOptions are the options of Action.Restore; nil means defaults.
type RestoreOptions struct {
	NoOverwrite bool // ErrExists when an output already exists
	NoReflink   bool // always copy bytes
}

// Restore writes the outputs under destDir (created if missing), each atomically with its
// recorded mode, by reflink where possible.
func (act *Action) Restore(destDir string, opts *RestoreOptions) error {
	if err := act.valid(); err != nil {
		return err
	}
	var a cArena
	defer a.free()
	cdir := a.str(destDir)
	if a.err != nil {
		return a.err
	}
	copts, err := opts.toC()
	if err != nil {
		return err
	}
	err = call(func() C.int { return C.goaccel_action_restore(act.ptr, cdir, &copts) })
	runtime.KeepAlive(act)
	return err
}

// toC converts the options (nil: defaults).
func (o *RestoreOptions) toC() (C.goaccel_restore_options, error) {
	var copts C.goaccel_restore_options
	if err := call(func() C.int { return C.goaccel_restore_options_init(&copts, C.GOACCEL_RESTORE_OPTIONS_VERSION) }); err != nil {
		return copts, err
	}
	if o != nil {
		copts.no_overwrite = cBool(o.NoOverwrite)
		copts.no_reflink = cBool(o.NoReflink)
	}
	return copts, nil
}

// Key returns the action's key.
func (act *Action) Key() Digest {
	if act.valid() != nil {
		return Digest{}
	}
	defer runtime.KeepAlive(act)
	return goDigest(C.goaccel_action_key(act.ptr))
}

// Kind returns the step kind recorded with the action.
func (act *Action) Kind() string {
	if act.valid() != nil {
		return ""
	}
	defer runtime.KeepAlive(act)
	return goString(C.goaccel_action_kind(act.ptr))
}

// Outputs returns the recorded outputs in name order.
func (act *Action) Outputs() []ActionOutputInfo {
	if act.valid() != nil {
		return nil
	}
	defer runtime.KeepAlive(act)
	n := C.goaccel_action_output_count(act.ptr)
	out := make([]ActionOutputInfo, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		out = append(out, goOutputInfo(C.goaccel_action_output_byindex(act.ptr, i)))
	}
	return out
}

// Created returns when the record was created.
func (act *Action) Created() time.Time {
	if act.valid() != nil {
		return time.Time{}
	}
	defer runtime.KeepAlive(act)
	return time.Unix(0, int64(C.goaccel_action_created(act.ptr)))
}

// LastUsed returns when the record was used before this lookup.
func (act *Action) LastUsed() time.Time {
	if act.valid() != nil {
		return time.Time{}
	}
	defer runtime.KeepAlive(act)
	return time.Unix(0, int64(C.goaccel_action_last_used(act.ptr)))
}

// Duration returns how long the step took when it ran.
func (act *Action) Duration() time.Duration {
	if act.valid() != nil {
		return 0
	}
	defer runtime.KeepAlive(act)
	return time.Duration(C.goaccel_action_duration(act.ptr))
}

// Info returns the free-form info stored with the record.
func (act *Action) Info() string {
	if act.valid() != nil {
		return ""
	}
	defer runtime.KeepAlive(act)
	return goString(C.goaccel_action_info(act.ptr))
}
