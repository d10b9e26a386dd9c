/* Internal: what export and import share (the archive format is in docs/store.md). */
#ifndef GOACCEL_STORE_ARCHIVE_H
#define GOACCEL_STORE_ARCHIVE_H

#include <jansson.h>

#include "store_internal.h"

#define GA_EXPORT_FORMAT "goaccel-export"
#define GA_MANIFEST_FORMAT "goaccel-export-manifest"
#define GA_EXPORT_VERSION 1
#define GA_HEADER_ENTRY "goaccel-export.json"
#define GA_MANIFEST_ENTRY "manifest.json"
#define GA_HEADER_MAX (64u * 1024)
#define GA_MANIFEST_MAX (1024u * 1024 * 1024)

struct archive;

/* Sets an error with libarchive's message appended; fmt has one %s for arg. */
int ga_archive_error(int code, struct archive *a, const char *fmt, const char *arg);
/* Checks a manifest's format, version and sections. */
int ga_manifest_check(json_t *m, const char *display);
/* Imports an archive already in memory (the fuzz target's entry). */
int ga_store_import_memory(goaccel_transfer_result *out, goaccel_store *s, const void *data,
                           size_t len, const goaccel_import_options *opts);

#endif
