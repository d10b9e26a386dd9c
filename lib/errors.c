/* The thread-local last error (goaccel/errors.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dl_git.h"
#include <openssl/err.h>

#include "goaccel/errors.h"
#include "util/err.h"

#define GA_ERROR_MAX 4096

/* The message lives in a fixed thread-local buffer: setting an error never allocates, so an
 * out-of-memory path can report itself, and there is nothing to free at thread exit. */
static _Thread_local char tl_message[GA_ERROR_MAX];
static _Thread_local goaccel_error tl_error = {"no error", GOACCEL_ERROR_NONE, GOACCEL_OK};

static void set_message(int code, int klass, const char *fmt, va_list ap)
{
	vsnprintf(tl_message, sizeof(tl_message), fmt, ap);
	tl_error.message = tl_message;
	tl_error.klass = klass;
	tl_error.code = code;
}

static void append(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void append(const char *fmt, ...)
{
	size_t len = strlen(tl_message);
	va_list ap;
	if (len >= sizeof(tl_message) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(tl_message + len, sizeof(tl_message) - len, fmt, ap);
	va_end(ap);
}

int ga_error(int code, int klass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(code, klass, fmt, ap);
	va_end(ap);
	return code;
}

int ga_error_os(int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	if (code == 0) {
		if (errnum == ENOENT || errnum == ENOTDIR)
			code = GOACCEL_ENOTFOUND;
		else if (errnum == EEXIST)
			code = GOACCEL_EEXISTS;
		else
			code = GOACCEL_ERROR;
	}
	va_start(ap, fmt);
	set_message(code, errnum == ENOMEM ? GOACCEL_ERROR_NOMEMORY : GOACCEL_ERROR_OS, fmt, ap);
	va_end(ap);
	append(": %s", strerror(errnum));
	return code;
}

int ga_error_ssl(const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	char buf[256];
	va_start(ap, fmt);
	set_message(GOACCEL_ERROR, GOACCEL_ERROR_SSL, fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		append(": %s", buf);
	}
	return GOACCEL_ERROR;
}

int ga_error_git(int code, const char *fmt, ...)
{
	va_list ap;
	/* never loads libgit2: a failure before it was loaded has no libgit2 message */
	const git_error *ge = ga_dl_git_loaded() ? git_error_last() : NULL;
	va_start(ap, fmt);
	set_message(code ? code : GOACCEL_ERROR, GOACCEL_ERROR_GIT, fmt, ap);
	va_end(ap);
	if (ge && ge->message)
		append(": %s", ge->message);
	return tl_error.code;
}

int ga_error_oom(void)
{
	snprintf(tl_message, sizeof(tl_message), "out of memory");
	tl_error.message = tl_message;
	tl_error.klass = GOACCEL_ERROR_NOMEMORY;
	tl_error.code = GOACCEL_ERROR;
	return GOACCEL_ERROR;
}

int ga_error_recode(int code)
{
	tl_error.code = code;
	return code;
}

const goaccel_error *goaccel_error_last(void)
{
	return &tl_error;
}

void goaccel_error_clear(void)
{
	tl_message[0] = '\0';
	tl_error.message = "no error";
	tl_error.klass = GOACCEL_ERROR_NONE;
	tl_error.code = GOACCEL_OK;
}

void goaccel_error_set_str(int klass, const char *message)
{
	ga_error(GOACCEL_EUSER, klass, "%s", message ? message : "callback failed");
}

const char *goaccel_error_code_name(int code)
{
	switch (code) {
	case GOACCEL_OK: return "GOACCEL_OK";
	case GOACCEL_ERROR: return "GOACCEL_ERROR";
	case GOACCEL_ENOTFOUND: return "GOACCEL_ENOTFOUND";
	case GOACCEL_EEXISTS: return "GOACCEL_EEXISTS";
	case GOACCEL_ELOCKED: return "GOACCEL_ELOCKED";
	case GOACCEL_EINVALID: return "GOACCEL_EINVALID";
	case GOACCEL_EBUILD: return "GOACCEL_EBUILD";
	case GOACCEL_EUSER: return "GOACCEL_EUSER";
	case GOACCEL_ECORRUPT: return "GOACCEL_ECORRUPT";
	case GOACCEL_ECHANGED: return "GOACCEL_ECHANGED";
	case GOACCEL_EVERSION: return "GOACCEL_EVERSION";
	case GOACCEL_EMISMATCH: return "GOACCEL_EMISMATCH";
	case GOACCEL_EUNSAFE: return "GOACCEL_EUNSAFE";
	case GOACCEL_ELIMIT: return "GOACCEL_ELIMIT";
	default: return "GOACCEL_E?";
	}
}
