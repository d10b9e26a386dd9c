/* Internal: libarchive, loaded at run time with dlopen() on first use (docs/dependencies.md).
 *
 * libgoaccel does not link libarchive: Debian's libarchive pulls in libxml2, ICU,
 * libstdc++, nettle, lz4, bzip2, acl and more, whose loading and relocation cost every process
 * about a millisecond before main, while only export/import, image writing and h1 of module
 * zips need it.
 * A file that calls libarchive includes this header instead of <archive.h> and <archive_entry.h>. The
 * header declares a table of correctly typed pointers to exactly the functions libgoaccel uses
 * (the X-macro list below) and redefines each of those names to its table entry, so call sites
 * keep reading like ordinary libarchive calls. The entry points that can reach libarchive call
 * ga_archive_load() first; a name used but missing from the list stays an undefined symbol of
 * libgoaccel.so, which tests/sh/lazy_deps.sh rejects. */
#ifndef GOACCEL_UTIL_DL_ARCHIVE_H
#define GOACCEL_UTIL_DL_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

/* Every libarchive function libgoaccel calls, and nothing else. */
#define GA_DL_ARCHIVE_FUNCS(X) \
	X(archive_entry_clear) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_mode) \
	X(archive_entry_mtime) \
	X(archive_entry_mtime_nsec) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_pathname_utf8) \
	X(archive_entry_perm) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_gname) \
	X(archive_entry_set_hardlink) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_rdevmajor) \
	X(archive_entry_set_rdevminor) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink) \
	X(archive_entry_set_uid) \
	X(archive_entry_set_uname) \
	X(archive_entry_size) \
	X(archive_entry_size_is_set) \
	X(archive_entry_symlink) \
	X(archive_entry_xattr_add_entry) \
	X(archive_error_string) \
	X(archive_read_data) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_filename) \
	X(archive_read_open_memory) \
	X(archive_read_support_filter_gzip) \
	X(archive_read_support_filter_zstd) \
	X(archive_read_support_format_raw) \
	X(archive_read_support_format_tar) \
	X(archive_read_support_format_zip) \
	X(archive_version_number) \
	X(archive_write_add_filter_zstd) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open) \
	X(archive_write_open_fd) \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_bytes_per_block) \
	X(archive_write_set_filter_option) \
	X(archive_write_set_format_pax_restricted)

typedef struct {
#define GA_DL_FIELD(name) __typeof__(&name) name;
	GA_DL_ARCHIVE_FUNCS(GA_DL_FIELD)
#undef GA_DL_FIELD
} ga_dl_archive_table;

/* Filled once by the loader; read only after a successful load (which happens-before the read:
 * the same thread's load call, or ga_dl_archive_loaded()). */
extern ga_dl_archive_table ga_dl_archive;

/* Loads libarchive (dlopen of the SONAME the build was configured against, then dlsym of every
 * function in the list) unless it is loaded already. Thread-safe; after the first success it is
 * one atomic load. libarchive stays loaded for the life of the process. A failed load is not
 * remembered: the next call tries again.
 * Returns 0, or GOACCEL_ERROR with an error (class GOACCEL_ERROR_ARCHIVE) naming the SONAME and
 * dlerror()'s message. */
int ga_archive_load(void);

/* Non-zero when libarchive is loaded (acquire). Never loads it. */
int ga_dl_archive_loaded(void);

#ifndef GA_DL_NO_RENAME
#define archive_entry_clear                     (ga_dl_archive.archive_entry_clear)
#define archive_entry_filetype                  (ga_dl_archive.archive_entry_filetype)
#define archive_entry_free                      (ga_dl_archive.archive_entry_free)
#define archive_entry_hardlink                  (ga_dl_archive.archive_entry_hardlink)
#define archive_entry_mode                      (ga_dl_archive.archive_entry_mode)
#define archive_entry_mtime                     (ga_dl_archive.archive_entry_mtime)
#define archive_entry_mtime_nsec                (ga_dl_archive.archive_entry_mtime_nsec)
#define archive_entry_new                       (ga_dl_archive.archive_entry_new)
#define archive_entry_pathname                  (ga_dl_archive.archive_entry_pathname)
#define archive_entry_pathname_utf8             (ga_dl_archive.archive_entry_pathname_utf8)
#define archive_entry_perm                      (ga_dl_archive.archive_entry_perm)
#define archive_entry_set_filetype              (ga_dl_archive.archive_entry_set_filetype)
#define archive_entry_set_gid                   (ga_dl_archive.archive_entry_set_gid)
#define archive_entry_set_gname                 (ga_dl_archive.archive_entry_set_gname)
#define archive_entry_set_hardlink              (ga_dl_archive.archive_entry_set_hardlink)
#define archive_entry_set_mtime                 (ga_dl_archive.archive_entry_set_mtime)
#define archive_entry_set_pathname              (ga_dl_archive.archive_entry_set_pathname)
#define archive_entry_set_perm                  (ga_dl_archive.archive_entry_set_perm)
#define archive_entry_set_rdevmajor             (ga_dl_archive.archive_entry_set_rdevmajor)
#define archive_entry_set_rdevminor             (ga_dl_archive.archive_entry_set_rdevminor)
#define archive_entry_set_size                  (ga_dl_archive.archive_entry_set_size)
#define archive_entry_set_symlink               (ga_dl_archive.archive_entry_set_symlink)
#define archive_entry_set_uid                   (ga_dl_archive.archive_entry_set_uid)
#define archive_entry_set_uname                 (ga_dl_archive.archive_entry_set_uname)
#define archive_entry_size                      (ga_dl_archive.archive_entry_size)
#define archive_entry_size_is_set               (ga_dl_archive.archive_entry_size_is_set)
#define archive_entry_symlink                   (ga_dl_archive.archive_entry_symlink)
#define archive_entry_xattr_add_entry           (ga_dl_archive.archive_entry_xattr_add_entry)
#define archive_error_string                    (ga_dl_archive.archive_error_string)
#define archive_read_data                       (ga_dl_archive.archive_read_data)
#define archive_read_free                       (ga_dl_archive.archive_read_free)
#define archive_read_new                        (ga_dl_archive.archive_read_new)
#define archive_read_next_header                (ga_dl_archive.archive_read_next_header)
#define archive_read_open_filename              (ga_dl_archive.archive_read_open_filename)
#define archive_read_open_memory                (ga_dl_archive.archive_read_open_memory)
#define archive_read_support_filter_gzip        (ga_dl_archive.archive_read_support_filter_gzip)
#define archive_read_support_filter_zstd        (ga_dl_archive.archive_read_support_filter_zstd)
#define archive_read_support_format_raw         (ga_dl_archive.archive_read_support_format_raw)
#define archive_read_support_format_tar         (ga_dl_archive.archive_read_support_format_tar)
#define archive_read_support_format_zip         (ga_dl_archive.archive_read_support_format_zip)
#define archive_version_number                  (ga_dl_archive.archive_version_number)
#define archive_write_add_filter_zstd           (ga_dl_archive.archive_write_add_filter_zstd)
#define archive_write_close                     (ga_dl_archive.archive_write_close)
#define archive_write_data                      (ga_dl_archive.archive_write_data)
#define archive_write_free                      (ga_dl_archive.archive_write_free)
#define archive_write_header                    (ga_dl_archive.archive_write_header)
#define archive_write_new                       (ga_dl_archive.archive_write_new)
#define archive_write_open                      (ga_dl_archive.archive_write_open)
#define archive_write_open_fd                   (ga_dl_archive.archive_write_open_fd)
#define archive_write_set_bytes_in_last_block   (ga_dl_archive.archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block       (ga_dl_archive.archive_write_set_bytes_per_block)
#define archive_write_set_filter_option         (ga_dl_archive.archive_write_set_filter_option)
#define archive_write_set_format_pax_restricted (ga_dl_archive.archive_write_set_format_pax_restricted)
#endif

#endif
