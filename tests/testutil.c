#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "util/fs.h"

char *tu_tempdir(const char *prefix)
{
	char *p = NULL;
	if (ga_mkdtemp(&p, prefix) < 0)
		fail_msg("mkdtemp: %s", goaccel_error_last()->message);
	return p;
}

void tu_rmtree(const char *path)
{
	if (path && ga_rm_rf(path) < 0)
		fail_msg("rm -rf %s: %s", path, goaccel_error_last()->message);
}

char *tu_path(const char *dir, const char *rel)
{
	char *p = ga_path_join(dir, rel);
	assert_non_null(p);
	return p;
}

void tu_write_bytes(const char *dir, const char *rel, const void *data, size_t len)
{
	char *path = tu_path(dir, rel);
	char *slash = strrchr(path, '/');
	FILE *f;
	*slash = '\0';
	if (ga_mkdir_p(path, 0755) < 0)
		fail_msg("mkdir %s: %s", path, goaccel_error_last()->message);
	*slash = '/';
	f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s", path);
	if (len && fwrite(data, 1, len, f) != len)
		fail_msg("short write %s", path);
	fclose(f);
	free(path);
}

void tu_write(const char *dir, const char *rel, const char *content)
{
	tu_write_bytes(dir, rel, content, strlen(content));
}

char *tu_read(const char *path, size_t *len)
{
	ga_buf b = GA_BUF_INIT;
	if (ga_read_file(&b, path, 0) < 0)
		fail_msg("read %s: %s", path, goaccel_error_last()->message);
	if (len)
		*len = b.size;
	return ga_buf_detach(&b);
}

static char *vformat(const char *fmt, va_list ap)
{
	char *cmd = NULL;
	if (vasprintf(&cmd, fmt, ap) < 0)
		fail_msg("out of memory");
	return cmd;
}

int tu_sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;
	va_start(ap, fmt);
	cmd = vformat(fmt, ap);
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

char *tu_sh_out(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	FILE *p;
	ga_buf b = GA_BUF_INIT;
	char chunk[4096];
	size_t n;
	va_start(ap, fmt);
	cmd = vformat(fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		fail_msg("popen %s", cmd);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		ga_buf_put(&b, chunk, n);
	pclose(p);
	free(cmd);
	while (b.size && b.ptr[b.size - 1] == '\n')
		b.ptr[--b.size] = '\0';
	return ga_buf_detach(&b);
}

int tu_group_setup(void **state)
{
	(void)state;
	return goaccel_init() > 0 ? 0 : -1;
}

int tu_group_teardown(void **state)
{
	(void)state;
	goaccel_shutdown();
	return 0;
}
