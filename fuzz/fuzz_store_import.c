/* Fuzzes goaccel_store_import: any byte string (a tar, zstd-compressed or not, or garbage) is
 * either merged or refused, and whatever happens:
 *   - nothing is created outside the store's root;
 *   - verify finds the store valid (no damaged, dangling, stray or half-written entry);
 *   - no symlink inside an imported mount resolves outside that mount. */
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goaccel/goaccel.h"
#include "store_archive.h"
#include "util/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *top;     /* a private directory holding only the store */
static char *root;    /* top/store */
static goaccel_store *store;
static unsigned long runs;
static const char *mount_root; /* for the symlink walk */

static void cleanup(void)
{
	goaccel_store_free(store);
	if (top)
		ga_rm_rf(top);
	free(root);
	free(top);
	goaccel_shutdown();
}

static void setup(void)
{
	if (store)
		return;
	goaccel_init();
	if (ga_mkdtemp(&top, "ga-fuzz-import") < 0 || (root = ga_path_join(top, "store")) == NULL ||
	    goaccel_store_open(&store, root, NULL) < 0)
		abort();
	atexit(cleanup);
}

static void only_the_store_in_top(void)
{
	DIR *d = opendir(top);
	struct dirent *de;
	if (!d)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "store"))
			continue;
		fprintf(stderr, "import wrote outside the store: %s/%s\n", top, de->d_name);
		abort();
	}
	closedir(d);
}

static int check_link(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char real[PATH_MAX];
	(void)st;
	(void)ftw;
	if (flag != FTW_SL && flag != FTW_SLN)
		return 0;
	if (realpath(path, real) == NULL)
		return 0; /* dangling inside: harmless */
	if (strncmp(real, mount_root, strlen(mount_root)) != 0) {
		fprintf(stderr, "symlink %s resolves outside its mount: %s\n", path, real);
		abort();
	}
	return 0;
}

static void links_stay_inside(void)
{
	goaccel_mount_list *l = NULL;
	size_t i;
	if (goaccel_mount_list_get(&l, store, 0) < 0)
		abort();
	for (i = 0; i < goaccel_mount_list_count(l); i++) {
		char real[PATH_MAX];
		if (realpath(goaccel_mount_list_byindex(l, i)->path, real) == NULL)
			continue;
		mount_root = real;
		nftw(real, check_link, 32, FTW_PHYS);
	}
	goaccel_mount_list_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	goaccel_import_options o = GOACCEL_IMPORT_OPTIONS_INIT;
	goaccel_verify_result vr;
	setup();
	o.max_entry_size = 1 << 20;
	o.max_total_size = 16 << 20;
	o.max_entries = 10000;
	o.lock_timeout_ms = 0;
	ga_store_import_memory(NULL, store, data, size, &o);
	only_the_store_in_top();
	if (goaccel_store_verify(&vr, store, NULL) != 0 || vr.problems != 0) {
		fprintf(stderr, "store invalid after an import: %s\n", goaccel_error_last()->message);
		abort();
	}
	links_stay_inside();
	/* keep the store small over long runs */
	if (++runs % 256 == 0) {
		goaccel_store_free(store);
		store = NULL;
		if (ga_rm_rf(root) < 0 || goaccel_store_open(&store, root, NULL) < 0)
			abort();
	}
	return 0;
}
