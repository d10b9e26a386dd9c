/* The goaccel command: formatting, parsing and error helpers. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

volatile int cli_interrupted;

int cli_exit_code(int error)
{
	switch (error) {
	case 0:
		return CLI_OK;
	case GOACCEL_EBUILD:
		return CLI_BUILD;
	case GOACCEL_EMISMATCH:
		return CLI_MISMATCH;
	case GOACCEL_ELOCKED:
		return CLI_LOCKED;
	case GOACCEL_EUSER:
		return CLI_CANCELLED;
	default:
		return CLI_FAIL;
	}
}

int cli_fail(const char *what)
{
	const goaccel_error *e = goaccel_error_last();
	fprintf(stderr, "goaccel: %s: %s\n", what, e->message);
	return cli_exit_code(e->code ? e->code : GOACCEL_ERROR);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "goaccel %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see goaccel %s --help)\n", cmd);
	return CLI_USAGE;
}

void cli_fmt_duration(char *buf, size_t size, int64_t ns)
{
	double s = (double)ns / 1e9;
	if (ns < 0)
		ns = 0;
	if (s < 1.0)
		snprintf(buf, size, "%.0fms", (double)ns / 1e6);
	else if (s < 60.0)
		snprintf(buf, size, "%.2fs", s);
	else
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

void cli_fmt_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

int cli_parse_bytes(uint64_t *out, const char *s)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;
	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1024ull; end++; break;
	case 'm': case 'M': mul = 1024ull * 1024; end++; break;
	case 'g': case 'G': mul = 1024ull * 1024 * 1024; end++; break;
	case 't': case 'T': mul = 1024ull * 1024 * 1024 * 1024; end++; break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

int cli_parse_duration(int64_t *out, const char *s)
{
	char *end;
	double v = strtod(s, &end);
	double mul = 1e9;
	if (end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "s") || !*end)
		mul = 1e9;
	else if (!strcmp(end, "m"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else if (!strcmp(end, "d"))
		mul = 86400e9;
	else
		return -1;
	*out = (int64_t)(v * mul);
	return 0;
}

void cli_fmt_digest(char *buf, const goaccel_digest *d)
{
	memcpy(buf, "sha256:", 7);
	goaccel_digest_fmt(buf + 7, d);
}

int cli_list_add(cli_list *l, const char *s)
{
	const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

void cli_list_free(cli_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
