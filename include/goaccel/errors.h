/*
 * libgoaccel — the error model.
 *
 * Functions return an int: 0 on success, a negative goaccel_error_code on failure. Expected
 * failures have their own code (GOACCEL_ENOTFOUND, GOACCEL_ELOCKED, ...); anything else is
 * GOACCEL_ERROR (-1). After a failure, goaccel_error_last() tells what failed and on which path or
 * field, in the calling thread. Messages from errno, libgit2, OpenSSL and libarchive are kept.
 */
#ifndef INCLUDE_goaccel_errors_h__
#define INCLUDE_goaccel_errors_h__

#include "common.h"

GOACCEL_BEGIN_DECL

/** Return codes. New codes are only ever appended. */
typedef enum {
	GOACCEL_OK = 0,          /**< success */
	GOACCEL_ERROR = -1,      /**< a failure with no more specific code (I/O, memory, ...) */
	GOACCEL_ENOTFOUND = -3,  /**< a path, key, mount, ref or module does not exist */
	GOACCEL_EEXISTS = -4,    /**< the object exists already */
	GOACCEL_ELOCKED = -5,    /**< a lock could not be taken within its timeout */
	GOACCEL_EINVALID = -6,   /**< bad argument or malformed input (a path or field is named) */
	GOACCEL_EBUILD = -7,     /**< a child process (go, cc) failed; its output is in the message */
	GOACCEL_EUSER = -8,      /**< a callback returned non-zero: the operation was cancelled */
	GOACCEL_ECORRUPT = -9,   /**< stored data does not match its digest or format */
	GOACCEL_ECHANGED = -10,  /**< a file changed while it was being read */
	GOACCEL_EVERSION = -11,  /**< a file or archive has a format version this build does not read */
	GOACCEL_EMISMATCH = -12, /**< a verification found differences (go.sum, store verify) */
	GOACCEL_EUNSAFE = -13,   /**< an archive entry or path would escape its root or is forbidden */
	GOACCEL_ELIMIT = -14,    /**< a configured size or count limit was exceeded */
} goaccel_error_code;

/** Which part of the system an error came from. */
typedef enum {
	GOACCEL_ERROR_NONE = 0,
	GOACCEL_ERROR_NOMEMORY,
	GOACCEL_ERROR_OS,       /**< a system call; the message carries strerror() */
	GOACCEL_ERROR_INVALID,  /**< a bad argument */
	GOACCEL_ERROR_SSL,      /**< OpenSSL */
	GOACCEL_ERROR_GIT,      /**< libgit2 */
	GOACCEL_ERROR_ARCHIVE,  /**< libarchive */
	GOACCEL_ERROR_JSON,     /**< jansson */
	GOACCEL_ERROR_DIGEST,
	GOACCEL_ERROR_HASH,
	GOACCEL_ERROR_GOMOD,
	GOACCEL_ERROR_KEY,
	GOACCEL_ERROR_STORE,
	GOACCEL_ERROR_MOUNT,
	GOACCEL_ERROR_EXTRACT,
	GOACCEL_ERROR_IMAGE,
	GOACCEL_ERROR_BUILD,
	GOACCEL_ERROR_CALLBACK,
	GOACCEL_ERROR_SQLITE,
} goaccel_error_class;

/** The last error of the calling thread. */
typedef struct {
	const char *message; /**< what failed, naming the path or field; never NULL */
	int klass;           /**< a goaccel_error_class */
	int code;            /**< the goaccel_error_code the failing function returned */
} goaccel_error;

/**
 * The last error set in the calling thread.
 *
 * Never NULL: when no error has happened, the message is "no error" and the code GOACCEL_OK.
 * The struct and its message are owned by the library and stay valid until the next libgoaccel
 * call in the same thread. Thread-safe (the state is thread-local).
 */
GOACCEL_EXTERN(const goaccel_error *) goaccel_error_last(void);

/** Clears the calling thread's last error. Thread-safe. */
GOACCEL_EXTERN(void) goaccel_error_clear(void);

/**
 * Sets the calling thread's last error, for callbacks that want to report why they aborted
 * (return GOACCEL_EUSER after calling this). A NULL message is recorded as "callback failed".
 */
GOACCEL_EXTERN(void) goaccel_error_set_str(int klass, const char *message);

/**
 * A stable name for an error code ("GOACCEL_ENOTFOUND"), for bindings and logs.
 * Unknown codes give "GOACCEL_E?"; never NULL; the string is static.
 */
GOACCEL_EXTERN(const char *) goaccel_error_code_name(int code);

GOACCEL_END_DECL

#endif
