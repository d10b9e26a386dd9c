/*
 * goaccel._goaccel — shared declarations of the CPython extension.
 *
 * One C file per wrapped concept (digest.c, hash.c, store.c, ...). Each file defines its heap
 * types from PyType_Spec and an init function that module.c calls from the module's exec slot.
 * All per-interpreter state (exception classes, type objects) lives in the module state; objects
 * find it through their type with ga_py_state_of_type().
 *
 * Conventions:
 *  - Every library call that can do I/O or wait on a lock runs between Py_BEGIN_ALLOW_THREADS and
 *    Py_END_ALLOW_THREADS; the thread-local goaccel_error_last() is read right after, in the same
 *    OS thread, before any Python code can run.
 *  - Failures are turned into exceptions by ga_py_raise() only (one mapping from code to class).
 *  - Paths are accepted as str, bytes or os.PathLike through ga_py_path_converter().
 *  - Child objects hold a strong reference to their parent (a Mount keeps its Store alive).
 */
#ifndef GOACCEL_PY_H
#define GOACCEL_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <goaccel/goaccel.h>

/* Per-interpreter module state. */
typedef struct {
	/* Exceptions: Error and one subclass per goaccel_error_code. */
	PyObject *Error;
	PyObject *NotFound;
	PyObject *Exists;
	PyObject *Locked;
	PyObject *InvalidInput;
	PyObject *BuildFailed;
	PyObject *Cancelled;
	PyObject *Corrupt;
	PyObject *Changed;
	PyObject *UnsupportedVersion;
	PyObject *Mismatch;
	PyObject *Unsafe;
	PyObject *LimitExceeded;
	int initialised;     /* goaccel_init() succeeded; module_free() calls goaccel_shutdown() */
	PyObject *PathClass; /* pathlib.Path */
	/* Types. */
	PyTypeObject *DigestType;
	PyTypeObject *HasherType;
	PyTypeObject *ManifestType;
	PyTypeObject *KeyType;
	PyTypeObject *GoModType;
	PyTypeObject *StoreType;
	PyTypeObject *MountType;
	PyTypeObject *ActionType;
	PyTypeObject *ImageType;
	PyTypeObject *BuildResultType;
} ga_py_state;

extern PyModuleDef ga_py_module_def;

/* The module state reached from a type defined by this module (or a subclass of one). */
ga_py_state *ga_py_state_of_type(PyTypeObject *type);
/* The module state of the module object passed to module-level functions. */
static inline ga_py_state *ga_py_state_of_module(PyObject *module)
{
	return (ga_py_state *)PyModule_GetState(module);
}

/* Adds a heap type made from spec to the module and stores it in *slot. 0 or -1. */
int ga_py_add_type(PyObject *module, PyType_Spec *spec, PyObject *base, PyTypeObject **slot);

/* ---- errors.c ---------------------------------------------------------------------------- */
int ga_py_errors_init(PyObject *module, ga_py_state *st);
int ga_py_errors_traverse(ga_py_state *st, visitproc visit, void *arg);
void ga_py_errors_clear(ga_py_state *st);
/*
 * Raises the exception for a failed library call that returned rc (a negative GOACCEL_E* code),
 * with goaccel_error_last()'s message. Must be called in the thread that made the call, before
 * any other libgoaccel call. Always returns NULL, for `return ga_py_raise(st, rc);`.
 */
PyObject *ga_py_raise(ga_py_state *st, int rc);
/* Same, returning -1 (for init functions and setters). */
int ga_py_raise_int(ga_py_state *st, int rc);

/* ---- compatibility ---------------------------------------------------------------------- */
/* PyErr_GetRaisedException/SetRaisedException are 3.12+; before, a normalized (type, value, tb)
 * triple with the traceback attached to the value is equivalent. */
static inline PyObject *PyErr_GetRaisedException_compat(void)
{
#if PY_VERSION_HEX >= 0x030C0000
	return PyErr_GetRaisedException();
#else
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	if (type == NULL)
		return NULL;
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb && value)
		PyException_SetTraceback(value, tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	return value;
#endif
}

static inline void PyErr_SetRaisedException_compat(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(exc);
#else
	PyObject *type = (PyObject *)Py_TYPE(exc);
	PyObject *tb = PyException_GetTraceback(exc);
	Py_INCREF(type);
	PyErr_Restore(type, exc, tb);
#endif
}

/* ---- callback.c -------------------------------------------------------------------------- */
/*
 * A Python callable invoked from a library callback while the GIL is released. The trampoline
 * takes the GIL, calls the callable, and on an exception stores it here and returns non-zero so
 * the library aborts (GOACCEL_EUSER); ga_py_callback_finish() then re-raises that very exception.
 */
typedef struct {
	PyObject *callable; /* borrowed; NULL when the caller passed None */
	PyObject *exc;      /* owned: the exception the callable raised (normalized) */
} ga_py_callback;

/* Calls cb->callable(arg) with the GIL held by the caller; steals arg. 0, or non-zero to abort. */
int ga_py_callback_call_locked(ga_py_callback *cb, PyObject *arg);
/*
 * After the library call returned rc: re-raises the stored exception (returning NULL), raises
 * the error for a negative rc, or returns Py_None borrowed-as-new (a marker for success).
 * Use: `if (ga_py_callback_finish(st, &cb, rc) == NULL) goto done;`
 */
PyObject *ga_py_callback_finish(ga_py_state *st, ga_py_callback *cb, int rc);
void ga_py_callback_dispose(ga_py_callback *cb);

/* ---- paths and conversions (module.c) ---------------------------------------------------- */
/* PyArg "O&" converter: str/bytes/os.PathLike → bytes (filesystem encoding). Cleans up on NULL. */
int ga_py_path_converter(PyObject *obj, void *result);
/* Same, but None is accepted and gives NULL. */
int ga_py_optional_path_converter(PyObject *obj, void *result);
/* The C string inside a bytes object from the converters above (NULL for NULL). */
static inline const char *ga_py_path_str(PyObject *bytes)
{
	return bytes ? PyBytes_AS_STRING(bytes) : NULL;
}
/* A filesystem path from C as a pathlib.Path. */
PyObject *ga_py_pathlib_path(ga_py_state *st, const char *path);
/* A str decoded from a library string with the filesystem encoding (surrogateescape). */
PyObject *ga_py_fsdecode(const char *s);

/*
 * A list of C strings built from a Python iterable of str/bytes/PathLike (each converted with
 * os.fsencode). The array is NULL-terminated; dispose with ga_py_strlist_dispose().
 */
typedef struct {
	PyObject *owner;      /* a list holding the bytes objects that own the strings */
	const char **strings; /* PyMem_Malloc'd, count + 1 entries, NULL-terminated */
	size_t count;
} ga_py_strlist;
/* PyArg "O&" converter into a ga_py_strlist (None gives an empty list). */
int ga_py_strlist_converter(PyObject *obj, void *result);
void ga_py_strlist_dispose(ga_py_strlist *list);

/* ---- small helpers (module.c) ----------------------------------------------------------- */
/* Runs stmt with the GIL released. */
#define GA_PY_NOGIL(stmt)               \
	do {                            \
		Py_BEGIN_ALLOW_THREADS  \
		stmt;                   \
		Py_END_ALLOW_THREADS    \
	} while (0)

/* A str from a borrowed library string, or None for NULL. */
PyObject *ga_py_str_or_none(const char *s);
/* A str from a library-allocated string, which is freed with goaccel_free() either way. */
PyObject *ga_py_take_string(char *s);
/* Builds a dict from alternating (const char *name, uint64_t value) pairs ending with NULL. */
PyObject *ga_py_u64_dict(const char *name, ...);
/* A list of str from a goaccel_strarray (which the caller still disposes). */
PyObject *ga_py_strarray_to_list(const goaccel_strarray *array);

/* ---- digest.c ---------------------------------------------------------------------------- */
typedef struct {
	PyObject_HEAD
	goaccel_digest digest;
} ga_py_digest;

int ga_py_digest_init(PyObject *module, ga_py_state *st);
/* A new goaccel.Digest holding *d. */
PyObject *ga_py_digest_new(ga_py_state *st, const goaccel_digest *d);
/* A Digest, a 32-byte bytes-like object, or a hex string ("sha256:" optional) → *out. 0 or -1. */
int ga_py_digest_from_object(ga_py_state *st, PyObject *obj, goaccel_digest *out);

/* The digest as a Digest object, or None for NULL. */
PyObject *ga_py_digest_or_none(ga_py_state *st, const goaccel_digest *d);

/* ---- store.c ----------------------------------------------------------------------------- */
/*
 * A Store is closed explicitly (close(), the end of a with block) but the C handle is freed only
 * when nothing uses it any more: calls running without the GIL and live children (mounts,
 * actions) each hold a "user" count, so close() from one thread can never free the handle under
 * another thread's feet.
 */
typedef struct {
	PyObject_HEAD
	goaccel_store *store;
	int closed;        /* close() was called: new uses are refused */
	Py_ssize_t users;  /* in-flight calls + live children */
} ga_py_store;

/* Marks one use of an open store; raises ValueError if closed. 0 or -1. Needs the GIL. */
int ga_py_store_enter(ga_py_store *self);
/* Ends a use; frees the handle if the store was closed and this was the last user. GIL held. */
void ga_py_store_leave(ga_py_store *self);

/* ---- layer wrappers, each present only when its header has landed ------------------------- */
int ga_py_hash_init(PyObject *module, ga_py_state *st);
int ga_py_key_init(PyObject *module, ga_py_state *st);
int ga_py_gomod_init(PyObject *module, ga_py_state *st);
int ga_py_store_init(PyObject *module, ga_py_state *st);
int ga_py_mount_init(PyObject *module, ga_py_state *st);
int ga_py_action_init(PyObject *module, ga_py_state *st);
/* A new Mount / Action object owning m / a and holding a use of store. Frees them on failure. */
PyObject *ga_py_mount_wrap(ga_py_state *st, ga_py_store *store, goaccel_mount *m);
PyObject *ga_py_action_wrap(ga_py_state *st, ga_py_store *store, goaccel_action *a);
/* An action output as (name, mode, size, digest). */
PyObject *ga_py_output_info_tuple(ga_py_state *st, const goaccel_action_output_info *o);
int ga_py_extract_init(PyObject *module, ga_py_state *st);
int ga_py_image_init(PyObject *module, ga_py_state *st);
int ga_py_build_init(PyObject *module, ga_py_state *st);

#endif
