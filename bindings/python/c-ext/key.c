/*
 * goaccel.Key — the step-key builder (goaccel/key.h): named string/bytes and digest fields, a
 * parent, the canonical encoding, JSON, and the field-by-field diff that explains a miss.
 * Keys are pure computations (no I/O): the GIL stays held.
 */
#include "goaccel_py.h"

typedef struct {
	PyObject_HEAD
	goaccel_key *key;
} ga_py_key;

static ga_py_state *key_state(PyObject *self)
{
	return ga_py_state_of_type(Py_TYPE(self));
}

static PyObject *Key_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"kind", NULL};
	ga_py_state *st = ga_py_state_of_type(type);
	ga_py_key *self;
	const char *kind;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:Key", kwlist, &kind))
		return NULL;
	if ((self = (ga_py_key *)type->tp_alloc(type, 0)) == NULL)
		return NULL;
	if ((rc = goaccel_key_new(&self->key, kind)) < 0) {
		Py_DECREF(self);
		return ga_py_raise(st, rc);
	}
	return (PyObject *)self;
}

static void Key_dealloc(PyObject *obj)
{
	ga_py_key *self = (ga_py_key *)obj;
	PyTypeObject *tp = Py_TYPE(obj);
	goaccel_key_free(self->key);
	tp->tp_free(obj);
	Py_DECREF(tp);
}

/* Returns self (new reference) so that calls chain: Key("k").add("a", "b").add(...). */
static PyObject *Key_add(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"name", "value", NULL};
	ga_py_key *self = (ga_py_key *)obj;
	ga_py_state *st = key_state(obj);
	const char *name;
	PyObject *value;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "sO:add", kwlist, &name, &value))
		return NULL;
	if (PyObject_TypeCheck(value, st->DigestType)) {
		rc = goaccel_key_add_digest(self->key, name, &((ga_py_digest *)value)->digest);
	} else if (PyUnicode_Check(value)) {
		Py_ssize_t len;
		const char *s = PyUnicode_AsUTF8AndSize(value, &len);
		if (s == NULL)
			return NULL;
		rc = goaccel_key_add_bytes(self->key, name, s, (size_t)len);
	} else if (PyBytes_Check(value)) {
		rc = goaccel_key_add_bytes(self->key, name, PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
	} else {
		PyErr_Format(PyExc_TypeError, "a key field is a str, bytes or goaccel.Digest, not %.100s",
			Py_TYPE(value)->tp_name);
		return NULL;
	}
	if (rc < 0)
		return ga_py_raise(st, rc);
	return Py_NewRef(obj);
}

static PyObject *Key_set_parent(PyObject *obj, PyObject *arg)
{
	ga_py_key *self = (ga_py_key *)obj;
	ga_py_state *st = key_state(obj);
	goaccel_digest d;
	int rc;
	if (st == NULL)
		return NULL;
	if (arg == Py_None) {
		rc = goaccel_key_set_parent(self->key, NULL);
	} else {
		if (ga_py_digest_from_object(st, arg, &d) < 0)
			return NULL;
		rc = goaccel_key_set_parent(self->key, &d);
	}
	if (rc < 0)
		return ga_py_raise(st, rc);
	return Py_NewRef(obj);
}

static PyObject *Key_finish(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = key_state(obj);
	goaccel_digest d;
	int rc;
	if (st == NULL)
		return NULL;
	if ((rc = goaccel_key_finish(&d, ((ga_py_key *)obj)->key)) < 0)
		return ga_py_raise(st, rc);
	return ga_py_digest_new(st, &d);
}

static PyObject *Key_encode(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = key_state(obj);
	unsigned char *buf = NULL;
	size_t len = 0;
	PyObject *result;
	int rc;
	if (st == NULL)
		return NULL;
	if ((rc = goaccel_key_encode(&buf, &len, ((ga_py_key *)obj)->key)) < 0)
		return ga_py_raise(st, rc);
	result = PyBytes_FromStringAndSize((const char *)buf, (Py_ssize_t)len);
	goaccel_free(buf);
	return result;
}

static PyObject *Key_to_json(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = key_state(obj);
	char *json = NULL;
	int rc;
	if (st == NULL)
		return NULL;
	if ((rc = goaccel_key_to_json(&json, ((ga_py_key *)obj)->key)) < 0)
		return ga_py_raise(st, rc);
	return ga_py_take_string(json);
}

static PyObject *Key_from_json(PyObject *cls, PyObject *arg)
{
	PyTypeObject *type = (PyTypeObject *)cls;
	ga_py_state *st = ga_py_state_of_type(type);
	ga_py_key *self;
	goaccel_key *k = NULL;
	const char *json;
	int rc;
	if (st == NULL || (json = PyUnicode_AsUTF8(arg)) == NULL)
		return NULL;
	if ((rc = goaccel_key_from_json(&k, json)) < 0)
		return ga_py_raise(st, rc);
	if ((self = (ga_py_key *)type->tp_alloc(type, 0)) == NULL) {
		goaccel_key_free(k);
		return NULL;
	}
	self->key = k;
	return (PyObject *)self;
}

static PyObject *Key_get_kind(PyObject *obj, void *closure)
{
	return PyUnicode_FromString(goaccel_key_kind(((ga_py_key *)obj)->key));
}

static PyObject *Key_get_parent(PyObject *obj, void *closure)
{
	ga_py_state *st = key_state(obj);
	if (st == NULL)
		return NULL;
	return ga_py_digest_or_none(st, goaccel_key_parent(((ga_py_key *)obj)->key));
}

/* (name, value) with value a str (valid UTF-8 text), bytes (anything else) or a Digest. */
static PyObject *field_tuple(ga_py_state *st, const goaccel_key_field *f)
{
	PyObject *value;
	if (f->type == GOACCEL_KEY_FIELD_DIGEST) {
		value = ga_py_digest_new(st, &f->digest);
	} else {
		value = PyUnicode_DecodeUTF8(f->value, (Py_ssize_t)f->value_len, "strict");
		if (value == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
			PyErr_Clear();
			value = PyBytes_FromStringAndSize(f->value, (Py_ssize_t)f->value_len);
		}
	}
	if (value == NULL)
		return NULL;
	return Py_BuildValue("(sN)", f->name, value);
}

static PyObject *Key_fields(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = key_state(obj);
	const goaccel_key *k = ((ga_py_key *)obj)->key;
	size_t i, n = goaccel_key_field_count(k);
	PyObject *list;
	if (st == NULL || (list = PyList_New((Py_ssize_t)n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		PyObject *t = field_tuple(st, goaccel_key_field_byindex(k, i));
		if (t == NULL) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
	return list;
}

static PyObject *Key_get(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = key_state(obj);
	const goaccel_key_field *f;
	const char *name;
	PyObject *t, *value;
	if (st == NULL || (name = PyUnicode_AsUTF8(arg)) == NULL)
		return NULL;
	if ((f = goaccel_key_field_byname(((ga_py_key *)obj)->key, name)) == NULL)
		Py_RETURN_NONE;
	if ((t = field_tuple(st, f)) == NULL)
		return NULL;
	value = Py_NewRef(PyTuple_GET_ITEM(t, 1));
	Py_DECREF(t);
	return value;
}

static Py_ssize_t Key_len(PyObject *obj)
{
	return (Py_ssize_t)goaccel_key_field_count(((ga_py_key *)obj)->key);
}

/* [(name, change, old, new)] with change 1 added, 2 removed, 3 changed. */
static PyObject *Key_diff(PyObject *obj, PyObject *other)
{
	ga_py_state *st = key_state(obj);
	goaccel_key_diff *diff = NULL;
	PyObject *list = NULL;
	size_t i, n;
	int rc;
	if (st == NULL)
		return NULL;
	if (!PyObject_TypeCheck(other, st->KeyType)) {
		PyErr_Format(PyExc_TypeError, "diff() needs a goaccel.Key, not %.100s", Py_TYPE(other)->tp_name);
		return NULL;
	}
	/* self is the new key: old.diff(new) reads naturally as "what changed since old". */
	if ((rc = goaccel_key_diff_new(&diff, ((ga_py_key *)obj)->key, ((ga_py_key *)other)->key)) < 0)
		return ga_py_raise(st, rc);
	n = goaccel_key_diff_entrycount(diff);
	if ((list = PyList_New((Py_ssize_t)n)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		const goaccel_key_diff_entry *e = goaccel_key_diff_entry_byindex(diff, i);
		PyObject *t = Py_BuildValue("(siNN)", e->name, (int)e->change,
			ga_py_str_or_none(e->old_value), ga_py_str_or_none(e->new_value));
		if (t == NULL) {
			Py_CLEAR(list);
			goto done;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
done:
	goaccel_key_diff_free(diff);
	return list;
}

static PyObject *Key_repr(PyObject *obj)
{
	const goaccel_key *k = ((ga_py_key *)obj)->key;
	return PyUnicode_FromFormat("<%s kind='%s' fields=%zu>", Py_TYPE(obj)->tp_name,
		goaccel_key_kind(k), goaccel_key_field_count(k));
}

static PyMethodDef Key_methods[] = {
	{"add", (PyCFunction)(void (*)(void))Key_add, METH_VARARGS | METH_KEYWORDS,
		"add($self, /, name, value)\n--\n\nAdds a field: value is a str, bytes or Digest. Returns the key.\n"
		"Raises Exists for a name already present, InvalidInput for a bad name."},
	{"set_parent", Key_set_parent, METH_O,
		"set_parent(digest | None) -> Key\n\nSets (or clears) the parent key. Returns the key."},
	{"finish", Key_finish, METH_NOARGS, "finish() -> Digest\n\nThe key: SHA-256 of encode()."},
	{"encode", Key_encode, METH_NOARGS, "encode() -> bytes\n\nThe canonical encoding (docs/keys.md)."},
	{"to_json", Key_to_json, METH_NOARGS, "to_json() -> str\n\nThe JSON form (docs/keys.md)."},
	{"from_json", Key_from_json, METH_O | METH_CLASS,
		"from_json(json: str) -> Key\n\nRebuilds a key from to_json()'s output."},
	{"fields", Key_fields, METH_NOARGS,
		"fields() -> list[tuple[str, str | bytes | Digest]]\n\nThe fields in canonical (name) order."},
	{"get", Key_get, METH_O, "get(name) -> str | bytes | Digest | None\n\nThe value of one field."},
	{"_diff", Key_diff, METH_O,
		"_diff(new) -> list[tuple[str, int, str | None, str | None]]\n\n"
		"Fields that differ from self (old) to new: (name, 1 added/2 removed/3 changed, old, new)."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Key_getset[] = {
	{"kind", Key_get_kind, NULL, "The step kind.", NULL},
	{"parent", Key_get_parent, NULL, "The parent key, or None.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Key_doc,
	"Key(kind)\n--\n\n"
	"A step key under construction: named fields (str, bytes or Digest), an optional parent.\n"
	"The order of add() calls never matters. finish() gives the digest.");

static PyType_Slot Key_slots[] = {
	{Py_tp_doc, (void *)Key_doc},
	{Py_tp_new, Key_new},
	{Py_tp_dealloc, Key_dealloc},
	{Py_tp_repr, Key_repr},
	{Py_tp_methods, Key_methods},
	{Py_tp_getset, Key_getset},
	{Py_sq_length, Key_len},
	{0, NULL},
};

static PyType_Spec Key_spec = {
	.name = "goaccel.Key",
	.basicsize = sizeof(ga_py_key),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = Key_slots,
};

int ga_py_key_init(PyObject *module, ga_py_state *st)
{
	return ga_py_add_type(module, &Key_spec, NULL, &st->KeyType);
}
