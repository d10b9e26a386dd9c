/*
 * Exceptions: goaccel.Error and one subclass per library error code, and the single mapping from
 * a failed call's return code (plus goaccel_error_last()) to an exception instance carrying the
 * library's message, code, code name and error class.
 */
#include "goaccel_py.h"

#include <stddef.h>

typedef struct {
	const char *name;       /* class name in the module */
	int code;               /* the goaccel_error_code it stands for */
	size_t offset;          /* where the class lives in ga_py_state */
	const char *doc;
} ga_py_exc_spec;

#define EXC(name, code, doc) {#name, code, offsetof(ga_py_state, name), doc}

/* Order matters only for readability; Error itself is created first, separately. */
static const ga_py_exc_spec exc_specs[] = {
	EXC(NotFound, GOACCEL_ENOTFOUND, "A path, key, mount, ref or module does not exist (GOACCEL_ENOTFOUND)."),
	EXC(Exists, GOACCEL_EEXISTS, "The object exists already (GOACCEL_EEXISTS)."),
	EXC(Locked, GOACCEL_ELOCKED, "A lock could not be taken within its timeout (GOACCEL_ELOCKED)."),
	EXC(InvalidInput, GOACCEL_EINVALID,
		"A bad argument or malformed input; the message names the path or field (GOACCEL_EINVALID).\n"
		"Also a ValueError."),
	EXC(BuildFailed, GOACCEL_EBUILD, "A child process (go, cc) failed; its output is in the message (GOACCEL_EBUILD)."),
	EXC(Cancelled, GOACCEL_EUSER, "A callback aborted the operation (GOACCEL_EUSER)."),
	EXC(Corrupt, GOACCEL_ECORRUPT, "Stored data does not match its digest or format (GOACCEL_ECORRUPT)."),
	EXC(Changed, GOACCEL_ECHANGED, "A file changed while it was being read (GOACCEL_ECHANGED)."),
	EXC(UnsupportedVersion, GOACCEL_EVERSION, "A file, archive or options struct has a version this build does not read (GOACCEL_EVERSION)."),
	EXC(Mismatch, GOACCEL_EMISMATCH, "A verification found differences (GOACCEL_EMISMATCH)."),
	EXC(Unsafe, GOACCEL_EUNSAFE, "A path or archive entry would escape its root or is forbidden (GOACCEL_EUNSAFE)."),
	EXC(LimitExceeded, GOACCEL_ELIMIT, "A configured size or count limit was exceeded (GOACCEL_ELIMIT)."),
};

#define N_EXC (sizeof(exc_specs) / sizeof(exc_specs[0]))

static PyObject **exc_slot(ga_py_state *st, size_t offset)
{
	return (PyObject **)((char *)st + offset);
}

/* A class dict with the defaults that a user-raised instance (no library call) reports. */
static PyObject *class_dict(int code)
{
	PyObject *dict = PyDict_New(), *v;
	if (dict == NULL)
		return NULL;
	if ((v = PyLong_FromLong(code)) == NULL || PyDict_SetItemString(dict, "code", v) < 0)
		goto fail;
	Py_DECREF(v);
	if ((v = PyUnicode_FromString(goaccel_error_code_name(code))) == NULL ||
	    PyDict_SetItemString(dict, "code_name", v) < 0)
		goto fail;
	Py_DECREF(v);
	if ((v = PyLong_FromLong(GOACCEL_ERROR_NONE)) == NULL || PyDict_SetItemString(dict, "klass", v) < 0)
		goto fail;
	Py_DECREF(v);
	if ((v = PyUnicode_FromString("")) == NULL || PyDict_SetItemString(dict, "message", v) < 0)
		goto fail;
	Py_DECREF(v);
	return dict;
fail:
	Py_XDECREF(v);
	Py_DECREF(dict);
	return NULL;
}

static PyObject *new_exception(PyObject *module, const char *name, const char *doc, PyObject *bases, int code)
{
	char qualified[64];
	PyObject *dict = class_dict(code), *exc;
	if (dict == NULL)
		return NULL;
	PyOS_snprintf(qualified, sizeof(qualified), "goaccel.%s", name);
	exc = PyErr_NewExceptionWithDoc(qualified, doc, bases, dict);
	Py_DECREF(dict);
	if (exc && PyModule_AddObjectRef(module, name, exc) < 0)
		Py_CLEAR(exc);
	return exc;
}

int ga_py_errors_init(PyObject *module, ga_py_state *st)
{
	size_t i;
	st->Error = new_exception(module, "Error",
		"The base of every libgoaccel failure.\n\n"
		"Attributes: message (the library's text, naming the path or field), code (the negative\n"
		"GOACCEL_E* value), code_name (\"GOACCEL_ENOTFOUND\"...), klass (the goaccel_error_class:\n"
		"which subsystem failed).",
		PyExc_Exception, GOACCEL_ERROR);
	if (st->Error == NULL)
		return -1;
	for (i = 0; i < N_EXC; i++) {
		PyObject *bases, *exc;
		if (exc_specs[i].code == GOACCEL_EINVALID)
			bases = PyTuple_Pack(2, st->Error, PyExc_ValueError);
		else
			bases = PyTuple_Pack(1, st->Error);
		if (bases == NULL)
			return -1;
		exc = new_exception(module, exc_specs[i].name, exc_specs[i].doc, bases, exc_specs[i].code);
		Py_DECREF(bases);
		if (exc == NULL)
			return -1;
		*exc_slot(st, exc_specs[i].offset) = exc;
	}
	return 0;
}

int ga_py_errors_traverse(ga_py_state *st, visitproc visit, void *arg)
{
	size_t i;
	Py_VISIT(st->Error);
	for (i = 0; i < N_EXC; i++)
		Py_VISIT(*exc_slot(st, exc_specs[i].offset));
	return 0;
}

void ga_py_errors_clear(ga_py_state *st)
{
	size_t i;
	Py_CLEAR(st->Error);
	for (i = 0; i < N_EXC; i++)
		Py_CLEAR(*exc_slot(st, exc_specs[i].offset));
}

static PyObject *class_for_code(ga_py_state *st, int code)
{
	size_t i;
	for (i = 0; i < N_EXC; i++)
		if (exc_specs[i].code == code)
			return *exc_slot(st, exc_specs[i].offset);
	return st->Error;
}

static int set_attr_long(PyObject *obj, const char *name, long value)
{
	PyObject *v = PyLong_FromLong(value);
	int rc;
	if (v == NULL)
		return -1;
	rc = PyObject_SetAttrString(obj, name, v);
	Py_DECREF(v);
	return rc;
}

static int set_attr_str(PyObject *obj, const char *name, PyObject *v)
{
	return v ? PyObject_SetAttrString(obj, name, v) : -1;
}

PyObject *ga_py_raise(ga_py_state *st, int rc)
{
	const goaccel_error *err = goaccel_error_last();
	/* The return value decides the class; the last error normally carries the same code, but a
	 * function that returned without setting one would leave a stale message: say so. */
	int code = rc < 0 ? rc : GOACCEL_ERROR;
	int klass = err->code == code ? err->klass : GOACCEL_ERROR_NONE;
	PyObject *cls = class_for_code(st, code), *message = NULL, *exc = NULL, *name = NULL;

	if (err->code == code)
		message = PyUnicode_DecodeUTF8(err->message, (Py_ssize_t)strlen(err->message), "backslashreplace");
	else
		message = PyUnicode_FromFormat("libgoaccel returned %s without an error message",
			goaccel_error_code_name(code));
	if (message == NULL)
		goto done;
	if ((exc = PyObject_CallOneArg(cls, message)) == NULL)
		goto done;
	name = PyUnicode_FromString(goaccel_error_code_name(code));
	if (set_attr_str(exc, "message", message) < 0 || set_attr_long(exc, "code", code) < 0 ||
	    set_attr_str(exc, "code_name", name) < 0 || set_attr_long(exc, "klass", klass) < 0)
		goto done;
	PyErr_SetObject(cls, exc);
done:
	Py_XDECREF(name);
	Py_XDECREF(exc);
	Py_XDECREF(message);
	return NULL;
}

int ga_py_raise_int(ga_py_state *st, int rc)
{
	ga_py_raise(st, rc);
	return -1;
}
