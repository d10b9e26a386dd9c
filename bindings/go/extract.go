package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"os"
	"runtime"
	"unsafe"
)

// Owner is a numeric uid and gid. Either may be KeepID to keep the source's.
type Owner struct {
	UID, GID int64
}

// KeepID in an Owner keeps the source's uid or gid.
const KeepID = -1

// ExtractItem is one `COPY --from` source/destination pair.
type ExtractItem struct {
	Src   string       // inside the source root ('/'-separated; a leading '/' is optional)
	Dst   string       // inside the destination root; a trailing '/' means "into this directory"
	Chown *Owner       // owner for every copied entry (like --chown); nil keeps the source's
	Chmod *os.FileMode // permission bits for every copied entry (like --chmod); nil keeps them
}

// ExtractMTime says what happens to modification times.
type ExtractMTime int

// The mtime policies. The zero value is the library's default.
const (
	MTimeDefault ExtractMTime = iota // clamp when SourceDateEpoch is set, else keep
	MTimeKeep                        // keep the source's
	MTimeClamp                       // min(source mtime, epoch)
	MTimeSet                         // the epoch for every entry
)

// ExtractOptions are the options of Extract; nil means defaults.
type ExtractOptions struct {
	SourceDateEpoch *int64       // SOURCE_DATE_EPOCH in seconds (nil: none)
	MTime           ExtractMTime // see ExtractMTime
	ParentMode      os.FileMode  // mode of created parent directories (0: 0755)
	ParentOwner     *Owner       // owner of created parents (nil: 0:0; KeepID: the caller's)
	NoXattrs        bool         // do not copy extended attributes
	StrictOwner     bool         // failing to keep a source owner is an error
	NoOverwrite     bool         // an existing destination entry is ErrExists
}

// Extract copies items from srcRoot into dstRoot with Dockerfile `COPY --from` semantics:
// paths and symbolic links are resolved inside their roots (escaping one is ErrUnsafe), a
// directory's contents are copied, created parents get fixed metadata, hard links are kept.
// A missing source is ErrNotFound naming it. Nothing is rolled back on failure.
func Extract(dstRoot, srcRoot string, items []ExtractItem, opts *ExtractOptions) error {
	var a cArena
	defer a.free()
	cdst, csrc := a.str(dstRoot), a.str(srcRoot)
	var citems *C.goaccel_extract_item
	if len(items) > 0 {
		citems = (*C.goaccel_extract_item)(a.alloc(uintptr(len(items)) * unsafe.Sizeof(C.goaccel_extract_item{})))
		view := unsafe.Slice(citems, len(items))
		for i, it := range items {
			view[i].src = a.str(it.Src)
			view[i].dst = a.str(it.Dst)
			view[i].uid, view[i].gid, view[i].mode = C.GOACCEL_EXTRACT_KEEP, C.GOACCEL_EXTRACT_KEEP, C.GOACCEL_EXTRACT_KEEP
			if it.Chown != nil {
				view[i].uid, view[i].gid = C.int64_t(it.Chown.UID), C.int64_t(it.Chown.GID)
			}
			if it.Chmod != nil {
				view[i].mode = C.int(unixMode(*it.Chmod))
			}
		}
	}
	var copts C.goaccel_extract_options
	if ret := C.goaccel_extract_options_init(&copts, C.GOACCEL_EXTRACT_OPTIONS_VERSION); ret < 0 {
		return errorf(ErrVersion, "goaccel_extract_options_init failed")
	}
	if opts != nil {
		if opts.SourceDateEpoch != nil {
			copts.source_date_epoch = C.int64_t(*opts.SourceDateEpoch)
		}
		switch opts.MTime {
		case MTimeKeep:
			copts.mtime = C.GOACCEL_EXTRACT_MTIME_KEEP
		case MTimeClamp:
			copts.mtime = C.GOACCEL_EXTRACT_MTIME_CLAMP
		case MTimeSet:
			copts.mtime = C.GOACCEL_EXTRACT_MTIME_SET
		}
		if opts.ParentMode != 0 {
			copts.parent_mode = C.uint(unixMode(opts.ParentMode))
		}
		if opts.ParentOwner != nil {
			copts.parent_uid, copts.parent_gid = C.int64_t(opts.ParentOwner.UID), C.int64_t(opts.ParentOwner.GID)
		}
		copts.xattrs = cBool(!opts.NoXattrs)
		copts.strict_owner = cBool(opts.StrictOwner)
		copts.overwrite = cBool(!opts.NoOverwrite)
	}
	if a.err != nil {
		return a.err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_extract(cdst, csrc, citems, C.size_t(len(items)), &copts); ret < 0 {
		return makeError(ret)
	}
	return nil
}

// unixMode converts Go's FileMode to the Unix permission bits (07777) the library takes.
func unixMode(m os.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}
