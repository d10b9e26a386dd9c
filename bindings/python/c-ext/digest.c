/*
 * goaccel.Digest (an immutable SHA-256 value), goaccel.Hasher (streaming), digest_bytes() and
 * digest_file(), over goaccel/digest.h.
 */
#include "goaccel_py.h"

#include <string.h>

/* Buffers at least this large are hashed with the GIL released; below, the switch costs more. */
#define GA_PY_NOGIL_MIN 8192

/* ---- Digest ------------------------------------------------------------------------------ */

PyObject *ga_py_digest_new(ga_py_state *st, const goaccel_digest *d)
{
	ga_py_digest *self = PyObject_New(ga_py_digest, st->DigestType);
	if (self == NULL)
		return NULL;
	self->digest = *d;
	return (PyObject *)self;
}

PyObject *ga_py_digest_or_none(ga_py_state *st, const goaccel_digest *d)
{
	if (d == NULL)
		Py_RETURN_NONE;
	return ga_py_digest_new(st, d);
}

static int parse_hex(ga_py_state *st, PyObject *str, goaccel_digest *out)
{
	const char *s = PyUnicode_AsUTF8(str);
	int rc;
	if (s == NULL)
		return -1;
	if ((rc = goaccel_digest_parse(out, s)) < 0)
		return ga_py_raise_int(st, rc);
	return 0;
}

static int from_buffer(PyObject *obj, goaccel_digest *out)
{
	Py_buffer view;
	if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
		return -1;
	if (view.len != GOACCEL_DIGEST_SIZE) {
		PyErr_Format(PyExc_ValueError, "a digest is %d bytes, not %zd", GOACCEL_DIGEST_SIZE, view.len);
		PyBuffer_Release(&view);
		return -1;
	}
	memcpy(out->id, view.buf, GOACCEL_DIGEST_SIZE);
	PyBuffer_Release(&view);
	return 0;
}

int ga_py_digest_from_object(ga_py_state *st, PyObject *obj, goaccel_digest *out)
{
	if (PyObject_TypeCheck(obj, st->DigestType)) {
		*out = ((ga_py_digest *)obj)->digest;
		return 0;
	}
	if (PyUnicode_Check(obj))
		return parse_hex(st, obj, out);
	if (PyObject_CheckBuffer(obj))
		return from_buffer(obj, out);
	PyErr_Format(PyExc_TypeError, "expected a goaccel.Digest, a hex string or 32 bytes, not %.100s",
		Py_TYPE(obj)->tp_name);
	return -1;
}

static PyObject *Digest_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"value", NULL};
	ga_py_state *st = ga_py_state_of_type(type);
	ga_py_digest *self;
	PyObject *value;
	goaccel_digest d;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O:Digest", kwlist, &value))
		return NULL;
	if (ga_py_digest_from_object(st, value, &d) < 0)
		return NULL;
	if ((self = (ga_py_digest *)type->tp_alloc(type, 0)) == NULL)
		return NULL;
	self->digest = d;
	return (PyObject *)self;
}

static void Digest_dealloc(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyObject *Digest_hex(PyObject *self, PyObject *unused)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, &((ga_py_digest *)self)->digest);
	return PyUnicode_FromStringAndSize(hex, GOACCEL_DIGEST_HEXSIZE);
}

static PyObject *Digest_str(PyObject *self)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, &((ga_py_digest *)self)->digest);
	return PyUnicode_FromFormat("sha256:%s", hex);
}

static PyObject *Digest_repr(PyObject *self)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, &((ga_py_digest *)self)->digest);
	return PyUnicode_FromFormat("goaccel.Digest('sha256:%s')", hex);
}

static PyObject *Digest_bytes(PyObject *self, PyObject *unused)
{
	return PyBytes_FromStringAndSize((const char *)((ga_py_digest *)self)->digest.id, GOACCEL_DIGEST_SIZE);
}

static PyObject *Digest_reduce(PyObject *self, PyObject *unused)
{
	return Py_BuildValue("(O(y#))", (PyObject *)Py_TYPE(self),
		(const char *)((ga_py_digest *)self)->digest.id, (Py_ssize_t)GOACCEL_DIGEST_SIZE);
}

static PyObject *Digest_is_zero(PyObject *self, void *closure)
{
	return PyBool_FromLong(goaccel_digest_is_zero(&((ga_py_digest *)self)->digest));
}

static Py_hash_t Digest_hash(PyObject *self)
{
	Py_hash_t h;
	memcpy(&h, ((ga_py_digest *)self)->digest.id, sizeof(h));
	return h == -1 ? -2 : h;
}

static PyObject *Digest_richcompare(PyObject *a, PyObject *b, int op)
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(a));
	int c;
	if (st == NULL)
		return NULL;
	if (!PyObject_TypeCheck(b, st->DigestType))
		Py_RETURN_NOTIMPLEMENTED;
	c = goaccel_digest_cmp(&((ga_py_digest *)a)->digest, &((ga_py_digest *)b)->digest);
	Py_RETURN_RICHCOMPARE(c, 0, op);
}

static PyMethodDef Digest_methods[] = {
	{"hex", Digest_hex, METH_NOARGS, "hex() -> str\n\nThe 64 lowercase hex digits."},
	{"__bytes__", Digest_bytes, METH_NOARGS, "The 32 raw bytes."},
	{"__reduce__", Digest_reduce, METH_NOARGS, NULL},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Digest_getset[] = {
	{"is_zero", Digest_is_zero, NULL, "True for the all-zero digest, which means \"unset\".", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Digest_doc,
	"Digest(value)\n--\n\n"
	"A SHA-256 digest: an immutable, hashable, ordered value. value is another Digest, a hex\n"
	"string of 64 digits (optionally \"sha256:\"-prefixed) or 32 bytes. str() gives\n"
	"\"sha256:<hex>\", .hex() the bare digits, bytes() the raw bytes.");

static PyType_Slot Digest_slots[] = {
	{Py_tp_doc, (void *)Digest_doc},
	{Py_tp_new, Digest_new},
	{Py_tp_dealloc, Digest_dealloc},
	{Py_tp_repr, Digest_repr},
	{Py_tp_str, Digest_str},
	{Py_tp_hash, Digest_hash},
	{Py_tp_richcompare, Digest_richcompare},
	{Py_tp_methods, Digest_methods},
	{Py_tp_getset, Digest_getset},
	{0, NULL},
};

static PyType_Spec Digest_spec = {
	.name = "goaccel.Digest",
	.basicsize = sizeof(ga_py_digest),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = Digest_slots,
};

/* ---- Hasher ------------------------------------------------------------------------------ */

typedef struct {
	PyObject_HEAD
	goaccel_digest_ctx *ctx;
	PyThread_type_lock lock; /* held while the GIL is released around an update */
} ga_py_hasher;

static int hasher_update(ga_py_state *st, ga_py_hasher *self, PyObject *data)
{
	Py_buffer view;
	int rc;
	if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
		return -1;
	if (view.len >= GA_PY_NOGIL_MIN) {
		Py_BEGIN_ALLOW_THREADS
		PyThread_acquire_lock(self->lock, WAIT_LOCK);
		rc = goaccel_digest_ctx_update(self->ctx, view.buf, (size_t)view.len);
		PyThread_release_lock(self->lock);
		Py_END_ALLOW_THREADS
	} else {
		/* Another thread may be inside a GIL-free update: wait for it (rarely contended). */
		if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
			Py_BEGIN_ALLOW_THREADS
			PyThread_acquire_lock(self->lock, WAIT_LOCK);
			Py_END_ALLOW_THREADS
		}
		rc = goaccel_digest_ctx_update(self->ctx, view.buf, (size_t)view.len);
		PyThread_release_lock(self->lock);
	}
	PyBuffer_Release(&view);
	return rc < 0 ? ga_py_raise_int(st, rc) : 0;
}

static PyObject *Hasher_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"data", NULL};
	ga_py_state *st = ga_py_state_of_type(type);
	ga_py_hasher *self = NULL;
	PyObject *data = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|O:Hasher", kwlist, &data))
		return NULL;
	if ((self = (ga_py_hasher *)type->tp_alloc(type, 0)) == NULL)
		return NULL;
	if ((self->lock = PyThread_allocate_lock()) == NULL) {
		PyErr_NoMemory();
		goto fail;
	}
	if ((rc = goaccel_digest_ctx_new(&self->ctx)) < 0) {
		ga_py_raise(st, rc);
		goto fail;
	}
	if (data && hasher_update(st, self, data) < 0)
		goto fail;
	return (PyObject *)self;
fail:
	Py_DECREF(self);
	return NULL;
}

static void Hasher_dealloc(PyObject *obj)
{
	ga_py_hasher *self = (ga_py_hasher *)obj;
	PyTypeObject *tp = Py_TYPE(obj);
	goaccel_digest_ctx_free(self->ctx);
	if (self->lock)
		PyThread_free_lock(self->lock);
	tp->tp_free(obj);
	Py_DECREF(tp);
}

static PyObject *Hasher_update(PyObject *obj, PyObject *data)
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	if (st == NULL || hasher_update(st, (ga_py_hasher *)obj, data) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *Hasher_finish(PyObject *obj, PyObject *unused)
{
	ga_py_hasher *self = (ga_py_hasher *)obj;
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	goaccel_digest d;
	int rc;
	if (st == NULL)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	PyThread_acquire_lock(self->lock, WAIT_LOCK);
	rc = goaccel_digest_ctx_finish(&d, self->ctx);
	PyThread_release_lock(self->lock);
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_digest_new(st, &d);
}

static PyMethodDef Hasher_methods[] = {
	{"update", Hasher_update, METH_O,
		"update($self, data, /)\n--\n\nAdds bytes (any buffer). Large buffers are hashed without the GIL."},
	{"finish", Hasher_finish, METH_NOARGS,
		"finish($self, /)\n--\n\nThe digest of everything added so far; the hasher starts over afterwards."},
	{NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Hasher_doc,
	"Hasher(data=None)\n--\n\n"
	"A streaming SHA-256 computation (goaccel_digest_ctx). Thread-safe.");

static PyType_Slot Hasher_slots[] = {
	{Py_tp_doc, (void *)Hasher_doc},
	{Py_tp_new, Hasher_new},
	{Py_tp_dealloc, Hasher_dealloc},
	{Py_tp_methods, Hasher_methods},
	{0, NULL},
};

static PyType_Spec Hasher_spec = {
	.name = "goaccel.Hasher",
	.basicsize = sizeof(ga_py_hasher),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = Hasher_slots,
};

/* ---- functions --------------------------------------------------------------------------- */

PyDoc_STRVAR(digest_bytes_doc,
	"digest_bytes($module, data, /)\n--\n\nThe SHA-256 digest of a buffer.");

static PyObject *digest_bytes(PyObject *module, PyObject *data)
{
	ga_py_state *st = ga_py_state_of_module(module);
	goaccel_digest d;
	Py_buffer view;
	int rc;
	if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
		return NULL;
	if (view.len >= GA_PY_NOGIL_MIN) {
		Py_BEGIN_ALLOW_THREADS
		rc = goaccel_digest_buffer(&d, view.buf, (size_t)view.len);
		Py_END_ALLOW_THREADS
	} else {
		rc = goaccel_digest_buffer(&d, view.buf, (size_t)view.len);
	}
	PyBuffer_Release(&view);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_digest_new(st, &d);
}

PyDoc_STRVAR(digest_file_doc,
	"digest_file($module, /, path)\n--\n\n"
	"The SHA-256 digest of a file's content, read in chunks.\n"
	"Raises NotFound if it does not exist, InvalidInput if it is not a regular file.");

static PyObject *digest_file(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	PyObject *path = NULL, *result = NULL;
	goaccel_digest d;
	int rc;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&:digest_file", kwlist, ga_py_path_converter, &path))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = goaccel_digest_file(&d, PyBytes_AS_STRING(path));
	Py_END_ALLOW_THREADS
	if (rc < 0)
		ga_py_raise(st, rc);
	else
		result = ga_py_digest_new(st, &d);
	Py_DECREF(path);
	return result;
}

static PyMethodDef digest_functions[] = {
	{"digest_bytes", digest_bytes, METH_O, digest_bytes_doc},
	{"digest_file", (PyCFunction)(void (*)(void))digest_file, METH_VARARGS | METH_KEYWORDS, digest_file_doc},
	{NULL, NULL, 0, NULL},
};

int ga_py_digest_init(PyObject *module, ga_py_state *st)
{
	if (ga_py_add_type(module, &Digest_spec, NULL, &st->DigestType) < 0 ||
	    ga_py_add_type(module, &Hasher_spec, NULL, &st->HasherType) < 0)
		return -1;
	return PyModule_AddFunctions(module, digest_functions);
}
