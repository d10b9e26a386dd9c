/* Fuzzes the go.mod and go.work parsers: any bytes either parse into a file whose parts obey
 * the grammar's invariants, or are rejected with EINVALID and a "file:line" message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goaccel/goaccel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const char *file)
{
	if (rc == 0)
		return;
	if (rc != GOACCEL_EINVALID && rc != GOACCEL_ERROR)
		abort();
	if (rc == GOACCEL_EINVALID && strncmp(goaccel_error_last()->message, file, strlen(file)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	goaccel_gomod *m = NULL;
	goaccel_gowork *w = NULL;
	size_t i, lines = 1;
	int rc;
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	rc = goaccel_gomod_parse(&m, "f/go.mod", (const char *)data, size);
	check_error(rc, "f/go.mod:");
	if (rc == 0) {
		for (i = 0; i < goaccel_gomod_require_count(m); i++) {
			const goaccel_gomod_module *r = goaccel_gomod_require_byindex(m, i);
			if (!r->path || !r->version || r->version[0] != 'v' || r->line < 1 || r->line > lines)
				abort();
		}
		for (i = 0; i < goaccel_gomod_replace_count(m); i++) {
			const goaccel_gomod_replace *r = goaccel_gomod_replace_byindex(m, i);
			if (!r->old_path || !r->new_path || (r->is_dir != (r->new_version == NULL)))
				abort();
		}
		for (i = 0; i < goaccel_gomod_retract_count(m); i++)
			if (!goaccel_gomod_retract_byindex(m, i)->rationale)
				abort();
		if (goaccel_gomod_require_byindex(m, goaccel_gomod_require_count(m)))
			abort();
	}
	goaccel_gomod_free(m);
	rc = goaccel_gowork_parse(&w, "f/go.work", (const char *)data, size);
	check_error(rc, "f/go.work:");
	if (rc == 0)
		for (i = 0; i < goaccel_gowork_use_count(w); i++)
			if (!goaccel_gowork_use_byindex(w, i))
				abort();
	goaccel_gowork_free(w);
	return 0;
}
