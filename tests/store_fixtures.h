/* Helpers shared by the store and mount suites: a fresh store per test (cmocka setup/teardown),
 * and writing crafted tar archives (plain or zstd) with libarchive, so hostile inputs can be
 * built entry by entry. Include after testutil.h. */
#ifndef GOACCEL_TEST_STORE_FIXTURES_H
#define GOACCEL_TEST_STORE_FIXTURES_H

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>

#include <stdlib.h>

#include "goaccel/store.h"

static inline goaccel_store *open_store(const char *root)
{
	goaccel_store *s = NULL;
	GA_OK(goaccel_store_open(&s, root, NULL));
	return s;
}

/* A test's own temporary directory with a store in it: at dir itself (tf_setup) or at
 * dir/store (tf_setup_sub, leaving room beside it for sources and destinations). */
typedef struct {
	char *dir, *root;
	goaccel_store *s;
} tf_store;

static inline int tf_setup_at(void **state, const char *sub)
{
	tf_store *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->dir = tu_tempdir("ga-store");
	f->root = sub ? tu_path(f->dir, sub) : strdup(f->dir);
	f->s = open_store(f->root);
	*state = f;
	return 0;
}

static inline int tf_setup(void **state)
{
	return tf_setup_at(state, NULL);
}

static inline int tf_setup_sub(void **state)
{
	return tf_setup_at(state, "store");
}

static inline int tf_teardown(void **state)
{
	tf_store *f = *state;
	goaccel_store_free(f->s);
	tu_rmtree(f->dir);
	free(f->root);
	free(f->dir);
	free(f);
	return 0;
}

typedef struct {
	const char *name;
	unsigned int type;     /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO... */
	unsigned int mode;     /* full mode bits incl. setuid (type is added) */
	const char *data;      /* regular file content */
	const char *symlink;   /* symlink target */
	const char *hardlink;  /* hard link target (archive path) */
	long long size;        /* >= 0: declared size instead of strlen(data) */
} tf_entry;

#define TF_END {NULL, 0, 0, NULL, NULL, NULL, -1}

/* Writes entries into path as a tar (zstd-compressed when zstd). Returns 0 or -1. */
static inline int tf_write_archive(const char *path, const tf_entry *entries, int zstd)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int rc = 0;
	if (zstd)
		archive_write_add_filter_zstd(a);
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		rc = -1;
		goto done;
	}
	for (; entries->name; entries++) {
		size_t len = entries->data ? strlen(entries->data) : 0;
		archive_entry_clear(e);
		archive_entry_set_pathname(e, entries->name);
		archive_entry_set_mode(e, (entries->type ? entries->type : AE_IFREG) | (entries->mode & 07777));
		archive_entry_set_size(e, entries->size >= 0 ? entries->size : (long long)len);
		if (entries->symlink)
			archive_entry_set_symlink(e, entries->symlink);
		if (entries->hardlink) {
			archive_entry_set_hardlink(e, entries->hardlink);
			archive_entry_set_size(e, 0);
		}
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			rc = -1;
			goto done;
		}
		if (len && !entries->hardlink && (entries->type == 0 || entries->type == AE_IFREG))
			archive_write_data(a, entries->data, len);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
done:
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

#define TF_HEADER {"goaccel-export.json", AE_IFREG, 0644, "{\"format\":\"goaccel-export\",\"version\":1}", NULL, NULL, -1}
#define TF_MANIFEST {"manifest.json", AE_IFREG, 0644, "{\"format\":\"goaccel-export-manifest\",\"version\":1,\"blobs\":{},\"actions\":{},\"refs\":{},\"mounts\":{}}", NULL, NULL, -1}

#endif
