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

// ImageOptions are the options of NewImage; nil means defaults (no layer cache,
// $SOURCE_DATE_EPOCH or 0, gzip level 6, linux/<host arch>).
type ImageOptions struct {
	LayerCache      string // directory of the layer cache ("": none)
	SourceDateEpoch *int64 // timestamp of created, history and every mtime (nil: from the environment)
	GzipLevel       int    // 1..9 (0: the default, 6)
	Uncompressed    bool   // write uncompressed tar layers
	OS              string // GOOS-style ("": linux)
	Architecture    string // GOARCH-style ("": this library's)
	Variant         string // e.g. "v7"
}

// LayerOptions are the options of Image.AddLayerDir; nil means defaults.
type LayerOptions struct {
	Prefix    string // where the directory goes in the image ("": "/")
	Owner     *Owner // uid/gid of every entry (nil: 0:0; KeepID: the file's own)
	KeepMode  bool   // record permission bits as they are (default: derived from the owner's)
	Xattrs    bool   // record extended attributes
	CreatedBy string // the history entry's created_by
	Comment   string // the history entry's comment
}

// LayerInfo describes one layer of an image.
type LayerInfo struct {
	Digest    Digest // the blob as stored (compressed)
	DiffID    Digest // the uncompressed tar
	Size      uint64
	MediaType string
	FromBase  bool // the layer came from the base image
	CacheHit  bool // the blob came out of the layer cache (nothing was re-tarred)
}

// Image is an OCI image under construction: a base (or scratch), layers made from directories,
// configuration, written as an OCI layout or a docker-archive. Deterministic: the same content
// gives the same bytes on any machine. Not safe for concurrent use; Free it when done.
type Image struct {
	ptr *C.goaccel_image
}

// NewImage creates an empty image (scratch, no layers).
func NewImage(opts *ImageOptions) (*Image, error) {
	var a cArena
	defer a.free()
	var copts C.goaccel_image_options
	if ret := C.goaccel_image_options_init(&copts, C.GOACCEL_IMAGE_OPTIONS_VERSION); ret < 0 {
		return nil, errorf(ErrVersion, "goaccel_image_options_init failed")
	}
	if opts != nil {
		copts.layer_cache = a.strOrNil(opts.LayerCache)
		if opts.SourceDateEpoch != nil {
			copts.source_date_epoch = C.int64_t(*opts.SourceDateEpoch)
		}
		if opts.Uncompressed {
			copts.gzip_level = 0
		} else if opts.GzipLevel != 0 {
			copts.gzip_level = C.int(opts.GzipLevel)
		}
		copts.os = a.strOrNil(opts.OS)
		copts.architecture = a.strOrNil(opts.Architecture)
		copts.variant = a.strOrNil(opts.Variant)
	}
	if a.err != nil {
		return nil, a.err
	}
	var ptr *C.goaccel_image
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_image_new(&ptr, &copts); ret < 0 {
		return nil, makeError(ret)
	}
	img := &Image{ptr: ptr}
	runtime.SetFinalizer(img, (*Image).Free)
	return img, nil
}

// Free releases the image and its temporary files. Safe to call twice.
func (img *Image) Free() {
	if img == nil || img.ptr == nil {
		return
	}
	runtime.SetFinalizer(img, nil)
	C.goaccel_image_free(img.ptr)
	img.ptr = nil
}

// call runs fn with the C handle on a locked OS thread and maps its result to an error.
func (img *Image) call(fn func(p *C.goaccel_image) C.int) error {
	if img == nil || img.ptr == nil {
		return errorf(ErrInvalid, "goaccel: use of a freed Image")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := fn(img.ptr)
	runtime.KeepAlive(img)
	if ret < 0 {
		return makeError(ret)
	}
	return nil
}

// SetBase starts the image from a base in an OCI image layout directory (ref "" accepts a layout
// holding exactly one manifest). Blobs are verified (ErrCorrupt); must precede AddLayerDir.
func (img *Image) SetBase(layoutDir, ref string) error {
	var a cArena
	defer a.free()
	cdir, cref := a.str(layoutDir), a.strOrNil(ref)
	if a.err != nil {
		return a.err
	}
	return img.call(func(p *C.goaccel_image) C.int { return C.goaccel_image_set_base(p, cdir, cref) })
}

func (o *LayerOptions) toC(a *cArena) (*C.goaccel_layer_options, error) {
	c := (*C.goaccel_layer_options)(a.alloc(unsafe.Sizeof(C.goaccel_layer_options{})))
	if ret := C.goaccel_layer_options_init(c, C.GOACCEL_LAYER_OPTIONS_VERSION); ret < 0 {
		return nil, errorf(ErrVersion, "goaccel_layer_options_init failed")
	}
	if o == nil {
		return c, nil
	}
	c.prefix = a.strOrNil(o.Prefix)
	if o.Owner != nil {
		c.uid, c.gid = C.int64_t(o.Owner.UID), C.int64_t(o.Owner.GID)
	}
	if o.KeepMode {
		c.mode = C.GOACCEL_LAYER_MODE_KEEP
	}
	c.xattrs = cBool(o.Xattrs)
	c.created_by = a.strOrNil(o.CreatedBy)
	c.comment = a.strOrNil(o.Comment)
	return c, a.err
}

// AddLayerDir adds a deterministic layer holding the tree under root (served from the layer
// cache when unchanged). ErrChanged when a file changes while it is read.
func (img *Image) AddLayerDir(root string, opts *LayerOptions) error {
	var a cArena
	defer a.free()
	croot := a.str(root)
	copts, err := opts.toC(&a)
	if err != nil {
		return err
	}
	return img.call(func(p *C.goaccel_image) C.int { return C.goaccel_image_add_layer_dir(p, croot, copts) })
}

// Layers describes every layer, bottom first (base layers included).
func (img *Image) Layers() ([]LayerInfo, error) {
	if img == nil || img.ptr == nil {
		return nil, errorf(ErrInvalid, "goaccel: use of a freed Image")
	}
	n := int(C.goaccel_image_layercount(img.ptr))
	out := make([]LayerInfo, 0, n)
	for i := 0; i < n; i++ {
		var li C.goaccel_layer_info
		if err := img.call(func(p *C.goaccel_image) C.int { return C.goaccel_image_layer_info(&li, p, C.size_t(i)) }); err != nil {
			return nil, err
		}
		out = append(out, LayerInfo{Digest: goDigest(&li.digest), DiffID: goDigest(&li.diff_id),
			Size: uint64(li.size), MediaType: goString(li.media_type), FromBase: li.from_base != 0,
			CacheHit: li.cache_hit != 0})
	}
	return out, nil
}

func (img *Image) setArgv(argv []string, fn func(p *C.goaccel_image, argv **C.char, n C.size_t) C.int) error {
	var a cArena
	defer a.free()
	cargv := a.strs(append([]string{}, argv...))
	if a.err != nil {
		return a.err
	}
	return img.call(func(p *C.goaccel_image) C.int { return fn(p, cargv, C.size_t(len(argv))) })
}

// SetEntrypoint sets the entrypoint (argv form; empty clears it). Like ENTRYPOINT, it also clears
// an inherited Cmd unless SetCmd is called too.
func (img *Image) SetEntrypoint(argv ...string) error {
	return img.setArgv(argv, func(p *C.goaccel_image, v **C.char, n C.size_t) C.int {
		return C.goaccel_image_set_entrypoint(p, v, n)
	})
}

// SetCmd sets Cmd (argv form; empty clears it).
func (img *Image) SetCmd(argv ...string) error {
	return img.setArgv(argv, func(p *C.goaccel_image, v **C.char, n C.size_t) C.int {
		return C.goaccel_image_set_cmd(p, v, n)
	})
}

// SetEnv sets one environment variable, replacing an inherited one in place.
func (img *Image) SetEnv(name, value string) error {
	return img.setPair(name, &value, func(p *C.goaccel_image, n, v *C.char) C.int { return C.goaccel_image_set_env(p, n, v) })
}

// UnsetEnv removes an environment variable.
func (img *Image) UnsetEnv(name string) error {
	return img.setPair(name, nil, func(p *C.goaccel_image, n, v *C.char) C.int { return C.goaccel_image_set_env(p, n, v) })
}

// setPair calls fn with name and value (nil: NULL, "remove") as C strings.
func (img *Image) setPair(name string, value *string, fn func(p *C.goaccel_image, name, value *C.char) C.int) error {
	var a cArena
	defer a.free()
	cn := a.str(name)
	var cv *C.char
	if value != nil {
		cv = a.str(*value)
	}
	if a.err != nil {
		return a.err
	}
	return img.call(func(p *C.goaccel_image) C.int { return fn(p, cn, cv) })
}

// SetWorkdir sets WorkingDir ("" clears it).
func (img *Image) SetWorkdir(dir string) error {
	return img.setString(dir, func(p *C.goaccel_image, s *C.char) C.int { return C.goaccel_image_set_workdir(p, s) })
}

// SetUser sets User ("uid", "uid:gid", "name"; "" clears it).
func (img *Image) SetUser(user string) error {
	return img.setString(user, func(p *C.goaccel_image, s *C.char) C.int { return C.goaccel_image_set_user(p, s) })
}

// AddPort adds an exposed port: "8080", "8080/tcp", "53/udp".
func (img *Image) AddPort(port string) error {
	return img.setString(port, func(p *C.goaccel_image, s *C.char) C.int { return C.goaccel_image_add_port(p, s) })
}

func (img *Image) setString(s string, fn func(p *C.goaccel_image, s *C.char) C.int) error {
	var a cArena
	defer a.free()
	cs := a.strOrNil(s)
	if a.err != nil {
		return a.err
	}
	return img.call(func(p *C.goaccel_image) C.int { return fn(p, cs) })
}

// SetLabel sets a label.
func (img *Image) SetLabel(key, value string) error {
	return img.setPair(key, &value, func(p *C.goaccel_image, k, v *C.char) C.int { return C.goaccel_image_set_label(p, k, v) })
}

// RemoveLabel removes a label.
func (img *Image) RemoveLabel(key string) error {
	return img.setPair(key, nil, func(p *C.goaccel_image, k, v *C.char) C.int { return C.goaccel_image_set_label(p, k, v) })
}

// SetPlatform sets the platform from Go's names (variant "" for none); it overrides the base's.
func (img *Image) SetPlatform(goos, goarch, variant string) error {
	var a cArena
	defer a.free()
	co, ca, cv := a.str(goos), a.str(goarch), a.strOrNil(variant)
	if a.err != nil {
		return a.err
	}
	return img.call(func(p *C.goaccel_image) C.int { return C.goaccel_image_set_platform(p, co, ca, cv) })
}

// ConfigJSON returns the image configuration as it would be written now (canonical JSON).
func (img *Image) ConfigJSON() (string, error) {
	var out *C.char
	if err := img.call(func(p *C.goaccel_image) C.int { return C.goaccel_image_config_json(&out, p) }); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// WriteOCI writes the image into an OCI image layout directory (created if missing, added to if
// present) tagged ref ("" for no ref annotation), and returns the manifest's digest.
func (img *Image) WriteOCI(dir, ref string) (Digest, error) {
	var a cArena
	defer a.free()
	cdir, cref := a.str(dir), a.strOrNil(ref)
	if a.err != nil {
		return Digest{}, a.err
	}
	var cd C.goaccel_digest
	err := img.call(func(p *C.goaccel_image) C.int { return C.goaccel_image_write_oci(&cd, p, cdir, cref) })
	return goDigest(&cd), err
}

// WriteDockerArchive writes the image as a docker-archive tarball (`docker load`), tagged tag
// ("" for no RepoTags).
func (img *Image) WriteDockerArchive(path, tag string) error {
	var a cArena
	defer a.free()
	cpath, ctag := a.str(path), a.strOrNil(tag)
	if a.err != nil {
		return a.err
	}
	return img.call(func(p *C.goaccel_image) C.int { return C.goaccel_image_write_docker_archive(p, cpath, ctag) })
}

// WriteLayerTar writes the deterministic, uncompressed layer tar of root to tarPath (the bytes
// whose digest AddLayerDir records as the diff_id) and returns that digest. sourceDateEpoch nil
// takes $SOURCE_DATE_EPOCH (or 0).
func WriteLayerTar(tarPath, root string, sourceDateEpoch *int64, opts *LayerOptions) (Digest, error) {
	var a cArena
	defer a.free()
	ctar, croot := a.str(tarPath), a.str(root)
	copts, err := opts.toC(&a)
	if err != nil {
		return Digest{}, err
	}
	epoch := C.int64_t(C.GOACCEL_IMAGE_EPOCH_FROM_ENV)
	if sourceDateEpoch != nil {
		epoch = C.int64_t(*sourceDateEpoch)
	}
	var cd C.goaccel_digest
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_image_write_layer_tar(&cd, ctar, croot, epoch, copts); ret < 0 {
		return Digest{}, makeError(ret)
	}
	return goDigest(&cd), nil
}
