/*
 * libgoaccel — reproducible OCI images without a daemon or a registry.
 *
 * An image is built in memory from a base (an existing OCI image layout, or scratch), layers made
 * from directories, and configuration (entrypoint, env, ...), then written as an OCI image
 * layout directory or as a docker-archive tarball (`docker load`, `podman load`).
 *
 *     goaccel_image *img;
 *     goaccel_digest manifest;
 *     const char *cmd[] = {"/app"};
 *     goaccel_image_new(&img, NULL);                     // scratch, linux/<host arch>
 *     goaccel_image_add_layer_dir(img, "stage/final", NULL);
 *     goaccel_image_set_entrypoint(img, cmd, 1);
 *     goaccel_image_set_env(img, "TZ", "Asia/Shanghai");
 *     goaccel_image_write_oci(&manifest, img, "out/oci", "latest");
 *     goaccel_image_free(img);
 *
 * Layers are deterministic: the same content gives the same bytes on any machine, whatever the
 * umask, mtimes, owners, checkout path or directory listing order (docs/image.md specifies the
 * tar and gzip encoding byte for byte). With a layer cache, an unchanged directory is never
 * re-tarred nor re-compressed: its layer is found by a key computed from the entries' metadata
 * and content digests.
 *
 * Thread safety: an image handle is used by one thread at a time; distinct handles are
 * independent (several may share a layer cache directory, also across processes).
 */
#ifndef INCLUDE_goaccel_image_h__
#define INCLUDE_goaccel_image_h__

#include "common.h"
#include "digest.h"
#include "store.h"

GOACCEL_BEGIN_DECL

/** An image under construction. Opaque; free with goaccel_image_free(). */
typedef struct goaccel_image goaccel_image;

/** source_date_epoch value meaning "use $SOURCE_DATE_EPOCH when set, else 0". */
#define GOACCEL_IMAGE_EPOCH_FROM_ENV (-1)

/** Options of goaccel_image_new(). Initialise with GOACCEL_IMAGE_OPTIONS_INIT. */
typedef struct {
	unsigned int version; /**< GOACCEL_IMAGE_OPTIONS_VERSION */
	/** Directory of the layer cache (created if missing), or NULL for no cache. Compressed
	 *  layers are kept there by content key; see docs/image.md. */
	const char *layer_cache;
	/** Timestamp in seconds for the config's `created`, history entries and every mtime in
	 *  new layers; GOACCEL_IMAGE_EPOCH_FROM_ENV (default) reads $SOURCE_DATE_EPOCH, or 0. */
	int64_t source_date_epoch;
	/** gzip level 1..9 for new layers (default 6); 0 writes uncompressed tar layers. Part of
	 *  the layer's identity: another level gives other blob bytes. */
	int gzip_level;
	/** Platform of the image: GOOS-style os (default "linux"), GOARCH-style architecture
	 *  (default: the architecture this library was built for) and an optional variant
	 *  ("v7" for GOARM=7). A base image's platform wins unless set with _set_platform(). */
	const char *os;
	const char *architecture;
	const char *variant;
	/** A store to keep the layer cache in (borrowed; it must outlive the image), or NULL.
	 *  Layers are then store actions of kind "image-layer" keyed by the layer key, with the
	 *  blob as their output: the store verifies the blob on every hit, counts hits, misses and
	 *  time saved, and prunes them like any other entry. The stat cache of content digests is
	 *  kept in the store's cache mount "goaccel-image-statcache" (held SHARED while the image
	 *  lives). Takes precedence over layer_cache. */
	goaccel_store *store;
	/** Threads compressing new layers: 0 (default) = the online CPUs, at most 8. The blob bytes
	 *  never depend on it (each 128 KiB block is compressed on its own; docs/image.md). */
	unsigned int threads;
} goaccel_image_options;

#define GOACCEL_IMAGE_OPTIONS_VERSION 1
#define GOACCEL_IMAGE_OPTIONS_INIT                                                              \
	{ GOACCEL_IMAGE_OPTIONS_VERSION, NULL, GOACCEL_IMAGE_EPOCH_FROM_ENV, 6, NULL, NULL, NULL, NULL, 0 }

/** @return 0, GOACCEL_EINVALID for NULL, GOACCEL_EVERSION for an unknown version. */
GOACCEL_EXTERN(int) goaccel_image_options_init(goaccel_image_options *opts, unsigned int version);

/** How file modes are recorded in a new layer. */
typedef enum {
	/** Default. Permission bits derived from the owner's only, so the umask of whoever
	 *  created the files does not matter: read and execute bits of the owner are copied to
	 *  group and other, write stays the owner's (0700 -> 0755, 0600 -> 0644, 0500 -> 0555).
	 *  setuid/setgid/sticky are kept. */
	GOACCEL_LAYER_MODE_NORMALIZE = 0,
	/** The file system's permission bits as they are. */
	GOACCEL_LAYER_MODE_KEEP = 1,
} goaccel_layer_mode;

/** "Keep the file's owner" for goaccel_layer_options uid/gid. */
#define GOACCEL_LAYER_KEEP_OWNER (-1)

/** Options of a new layer. Initialise with GOACCEL_LAYER_OPTIONS_INIT. */
typedef struct {
	unsigned int version; /**< GOACCEL_LAYER_OPTIONS_VERSION */
	/** Where the directory's content goes in the image ("" or NULL = "/", "opt/app" puts
	 *  root/x at /opt/app/x). The prefix's own directories get entries of mode 0755. */
	const char *prefix;
	/** uid and gid of every entry (default 0, written with empty user and group names), or
	 *  GOACCEL_LAYER_KEEP_OWNER for the file's own numeric ids. */
	int64_t uid;
	int64_t gid;
	/** How permission bits are recorded. */
	goaccel_layer_mode mode;
	/** Record extended attributes as PAX SCHILY.xattr records (default 0: they vary between
	 *  machines). security.selinux is never recorded. */
	int xattrs;
	/** The history entry's created_by (default "goaccel: layer from directory"). */
	const char *created_by;
	/** The history entry's comment (default none). */
	const char *comment;
} goaccel_layer_options;

#define GOACCEL_LAYER_OPTIONS_VERSION 1
#define GOACCEL_LAYER_OPTIONS_INIT                                                              \
	{ GOACCEL_LAYER_OPTIONS_VERSION, NULL, 0, 0, GOACCEL_LAYER_MODE_NORMALIZE, 0, NULL, NULL }

/** @return 0, GOACCEL_EINVALID for NULL, GOACCEL_EVERSION for an unknown version. */
GOACCEL_EXTERN(int) goaccel_layer_options_init(goaccel_layer_options *opts, unsigned int version);

/** What is known about one layer of an image. Plain value; strings are borrowed from the image. */
typedef struct {
	goaccel_digest digest;  /**< digest of the blob as stored (compressed) */
	goaccel_digest diff_id; /**< digest of the uncompressed tar (config rootfs.diff_ids) */
	uint64_t size;          /**< blob size in bytes */
	const char *media_type; /**< e.g. "application/vnd.oci.image.layer.v1.tar+gzip" */
	int from_base;          /**< 1 if the layer came from the base image */
	int cache_hit;          /**< 1 if the blob came out of the layer cache (not re-tarred) */
} goaccel_layer_info;

/**
 * Creates an empty image (scratch, no layers, empty config).
 * @param out   receives the image; the caller frees it with goaccel_image_free()
 * @param opts  NULL for defaults
 * @return 0; GOACCEL_EINVALID (bad argument, bad gzip level, bad $SOURCE_DATE_EPOCH);
 *         GOACCEL_EVERSION; GOACCEL_ELOCKED (the store's stat-cache mount is held LOCKED by
 *         someone else past the mount timeout); GOACCEL_ERROR when the layer cache directory
 *         or the mount cannot be created.
 */
GOACCEL_EXTERN(int) goaccel_image_new(goaccel_image **out, const goaccel_image_options *opts);

/** Frees an image and its temporary files. NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_image_free(goaccel_image *img);

/**
 * Starts the image from a base stored in an OCI image layout directory (`DIR:ref`), replacing
 * any earlier base. Must be called before the first goaccel_image_add_layer_dir().
 *
 * The manifest is found in DIR/index.json by its `org.opencontainers.image.ref.name`
 * annotation; ref NULL accepts an index holding exactly one manifest. An image index (several
 * platforms) is resolved to the manifest of the image's platform. The manifest, the config and
 * every layer blob are read and their digests and sizes verified. OCI and Docker schema 2
 * media types are accepted; Docker layers are re-labelled with their OCI media types on output.
 * The base's config (env, entrypoint, ...) and history are inherited.
 *
 * @return 0;
 *         GOACCEL_ENOTFOUND when DIR, a blob (named) or the ref (the message lists the refs
 *         present) is missing, or no manifest matches the platform;
 *         GOACCEL_EINVALID for bad JSON or a malformed field (the file and field are named), an
 *         unknown media type (named), or a base set after layers were added;
 *         GOACCEL_ECORRUPT when a blob's digest or size does not match its descriptor;
 *         GOACCEL_EVERSION when oci-layout's imageLayoutVersion is not 1.x;
 *         GOACCEL_ERROR for I/O failures.
 */
GOACCEL_EXTERN(int) goaccel_image_set_base(goaccel_image *img, const char *layout_dir, const char *ref);

/**
 * Adds a layer holding the tree under root (regular files, directories, symbolic links, hard
 * links, fifos and device nodes), written as a deterministic tar (docs/image.md), compressed,
 * digested in the same pass, and appended with a history entry.
 *
 * With a layer cache (a directory, or a store), the layer's key (entries' paths, types, recorded
 * modes and owners, sizes, content digests, link targets, options, encoding version) is looked
 * up first, and on a hit the cached blob is used without tarring or compressing anything.
 *
 * Files must not change while the layer is written: a file whose size or mtime changes during
 * the copy gives GOACCEL_ECHANGED.
 *
 * @param opts NULL for defaults
 * @return 0; GOACCEL_ENOTFOUND when root is missing; GOACCEL_EINVALID (bad argument, a socket
 *         in the tree, a bad prefix); GOACCEL_ECHANGED; GOACCEL_EVERSION; GOACCEL_ERROR for I/O
 *         or libarchive/zlib failures (their message is kept).
 */
GOACCEL_EXTERN(int) goaccel_image_add_layer_dir(goaccel_image *img, const char *root,
                                                const goaccel_layer_options *opts);

/** Number of layers (base layers included). NULL gives 0. */
GOACCEL_EXTERN(size_t) goaccel_image_layercount(const goaccel_image *img);

/**
 * Describes layer idx (0 = the bottom layer). Strings in *out stay valid until img is freed.
 * @return 0, GOACCEL_EINVALID (NULL), GOACCEL_ENOTFOUND (idx out of range).
 */
GOACCEL_EXTERN(int) goaccel_image_layer_info(goaccel_layer_info *out, const goaccel_image *img,
                                             size_t idx);

/**
 * Sets the entrypoint (argv form; argc 0 clears it). Like Dockerfile's ENTRYPOINT, this also
 * clears a Cmd inherited from the base unless goaccel_image_set_cmd() is called too.
 * @return 0, GOACCEL_EINVALID (NULL img, NULL argv with argc > 0, a NULL element), GOACCEL_ERROR (OOM).
 */
GOACCEL_EXTERN(int) goaccel_image_set_entrypoint(goaccel_image *img, const char *const *argv, size_t argc);

/** Sets Cmd (argv form; argc 0 clears it). Returns like goaccel_image_set_entrypoint(). */
GOACCEL_EXTERN(int) goaccel_image_set_cmd(goaccel_image *img, const char *const *argv, size_t argc);

/**
 * Sets one environment variable (replacing an inherited one in place), or removes it when value
 * is NULL. @return 0, GOACCEL_EINVALID (NULL img, an empty name or one containing '='),
 * GOACCEL_ERROR (OOM).
 */
GOACCEL_EXTERN(int) goaccel_image_set_env(goaccel_image *img, const char *name, const char *value);

/** Sets WorkingDir (NULL or "" clears it). @return 0, GOACCEL_EINVALID, GOACCEL_ERROR (OOM). */
GOACCEL_EXTERN(int) goaccel_image_set_workdir(goaccel_image *img, const char *dir);

/** Sets User ("uid", "uid:gid", "name"; NULL or "" clears). @return 0, GOACCEL_EINVALID, GOACCEL_ERROR. */
GOACCEL_EXTERN(int) goaccel_image_set_user(goaccel_image *img, const char *user);

/** Sets a label, or removes it when value is NULL. @return 0, GOACCEL_EINVALID (empty key), GOACCEL_ERROR. */
GOACCEL_EXTERN(int) goaccel_image_set_label(goaccel_image *img, const char *key, const char *value);

/**
 * Adds an exposed port: "8080", "8080/tcp", "53/udp" or "5000/sctp" ("8080" means tcp).
 * @return 0, GOACCEL_EINVALID (a malformed port, named), GOACCEL_ERROR (OOM).
 */
GOACCEL_EXTERN(int) goaccel_image_add_port(goaccel_image *img, const char *port);

/**
 * Sets the platform from Go's names: goos ("linux"), goarch ("amd64", "arm64", "arm", ...) and
 * an optional variant ("v7"; NULL or "" for none). Overrides the base's platform.
 * @return 0, GOACCEL_EINVALID (NULL img/goos/goarch or an empty one), GOACCEL_ERROR (OOM).
 */
GOACCEL_EXTERN(int) goaccel_image_set_platform(goaccel_image *img, const char *goos, const char *goarch,
                                               const char *variant);

/**
 * The image configuration as it would be written now (canonical JSON: sorted keys, compact).
 * @param out receives a string freed with goaccel_free()
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR (OOM).
 */
GOACCEL_EXTERN(int) goaccel_image_config_json(char **out, const goaccel_image *img);

/**
 * Writes the image into an OCI image layout directory (created if missing): `oci-layout`,
 * `blobs/sha256/<hex>` for every layer, the config and the manifest, and `index.json`. An
 * existing layout is added to: its other manifests are kept, and a manifest with the same ref
 * name is replaced. Blobs already present with the right size are not copied again. index.json
 * is replaced atomically.
 *
 * @param manifest_out receives the manifest's digest (may be NULL)
 * @param dir          the layout directory
 * @param ref          the value of org.opencontainers.image.ref.name ("latest"), or NULL for
 *                     no annotation
 * @return 0; GOACCEL_EINVALID (bad argument, or an existing index.json that is not valid JSON);
 *         GOACCEL_ERROR for I/O failures (the path is named).
 */
GOACCEL_EXTERN(int) goaccel_image_write_oci(goaccel_digest *manifest_out, goaccel_image *img,
                                            const char *dir, const char *ref);

/**
 * Writes the image as a docker-archive tarball (the `docker save` format that `docker load`,
 * `podman load` and `skopeo copy docker-archive:` read): manifest.json, the config as
 * <hex>.json and every layer uncompressed as <diff_id hex>.tar. Deterministic for the same
 * image and tag. The file is replaced atomically.
 *
 * @param path  the tarball to write
 * @param tag   a repository tag such as "example.com/app:latest" for RepoTags, or NULL
 * @return 0; GOACCEL_EINVALID (bad argument); GOACCEL_ECORRUPT when a layer does not
 *         decompress to its diff_id; GOACCEL_ERROR for I/O failures.
 */
GOACCEL_EXTERN(int) goaccel_image_write_docker_archive(goaccel_image *img, const char *path, const char *tag);

/**
 * Writes the deterministic, uncompressed layer tar for root (the same bytes whose digest is
 * the diff_id goaccel_image_add_layer_dir() records) to tar_path, without an image. For tools
 * and tests that want the tar itself.
 *
 * @param diff_id_out        receives the tar's digest (may be NULL)
 * @param source_date_epoch  mtime of every entry (GOACCEL_IMAGE_EPOCH_FROM_ENV allowed)
 * @return like goaccel_image_add_layer_dir().
 */
GOACCEL_EXTERN(int) goaccel_image_write_layer_tar(goaccel_digest *diff_id_out, const char *tar_path,
                                                  const char *root, int64_t source_date_epoch,
                                                  const goaccel_layer_options *opts);

GOACCEL_END_DECL

#endif
