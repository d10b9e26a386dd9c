/*
 * goaccel.Action — an action record found by Store.lookup() (goaccel_action): its outputs and
 * metadata, and restore() into a directory. It keeps its Store alive and holds the output blobs
 * open until closed (a concurrent prune cannot take them away before the restore).
 */
#include "goaccel_py.h"

typedef struct {
	PyObject_HEAD
	ga_py_store *store;
	goaccel_action *action;
	int busy; /* a restore() is running without the GIL: close() must wait for it */
} ga_py_action;

PyObject *ga_py_action_wrap(ga_py_state *st, ga_py_store *store, goaccel_action *a)
{
	ga_py_action *self = PyObject_New(ga_py_action, st->ActionType);
	if (self == NULL) {
		goaccel_action_free(a);
		return NULL;
	}
	self->action = a;
	self->busy = 0; /* PyObject_New does not zero the object */
	self->store = (ga_py_store *)Py_NewRef((PyObject *)store);
	store->users++;
	return (PyObject *)self;
}

static void action_close(ga_py_action *self)
{
	if (self->action) {
		goaccel_action_free(self->action);
		self->action = NULL;
		ga_py_store_leave(self->store);
	}
}

static void Action_dealloc(PyObject *obj)
{
	ga_py_action *self = (ga_py_action *)obj;
	PyTypeObject *tp = Py_TYPE(obj);
	action_close(self);
	Py_XDECREF(self->store);
	tp->tp_free(obj);
	Py_DECREF(tp);
}

static goaccel_action *A(PyObject *obj)
{
	ga_py_action *self = (ga_py_action *)obj;
	if (self->action == NULL)
		PyErr_SetString(PyExc_ValueError, "the goaccel.Action has been closed");
	return self->action;
}

static PyObject *Action_close(PyObject *obj, PyObject *unused)
{
	if (((ga_py_action *)obj)->busy) {
		PyErr_SetString(PyExc_RuntimeError, "goaccel.Action.close() while another thread restores it");
		return NULL;
	}
	action_close((ga_py_action *)obj);
	Py_RETURN_NONE;
}

static PyObject *Action_enter(PyObject *obj, PyObject *unused)
{
	return A(obj) ? Py_NewRef(obj) : NULL;
}

static PyObject *Action_exit(PyObject *obj, PyObject *args)
{
	PyObject *r = Action_close(obj, NULL);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyObject *Action_restore(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"dest", "no_overwrite", "no_reflink", NULL};
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	goaccel_restore_options opts = GOACCEL_RESTORE_OPTIONS_INIT;
	goaccel_action *a;
	PyObject *dest = NULL;
	int rc;
	if (st == NULL || (a = A(obj)) == NULL ||
	    !PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$pp:restore", kwlist, ga_py_path_converter, &dest,
		    &opts.no_overwrite, &opts.no_reflink))
		return NULL;
	/* The object stays alive during the call (the bound method holds it); busy keeps close() and
	 * a second restore (the action is one-thread-at-a-time) away. */
	if (((ga_py_action *)obj)->busy) {
		Py_DECREF(dest);
		PyErr_SetString(PyExc_RuntimeError, "goaccel.Action.restore() is already running in another thread");
		return NULL;
	}
	((ga_py_action *)obj)->busy = 1;
	GA_PY_NOGIL(rc = goaccel_action_restore(a, PyBytes_AS_STRING(dest), &opts));
	((ga_py_action *)obj)->busy = 0;
	Py_DECREF(dest);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

static PyObject *Action_get_key(PyObject *obj, void *closure)
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	goaccel_action *a = A(obj);
	if (st == NULL || a == NULL)
		return NULL;
	return ga_py_digest_or_none(st, goaccel_action_key(a));
}

static PyObject *Action_get_kind(PyObject *obj, void *closure)
{
	goaccel_action *a = A(obj);
	return a ? PyUnicode_FromString(goaccel_action_kind(a)) : NULL;
}

PyObject *ga_py_output_info_tuple(ga_py_state *st, const goaccel_action_output_info *o)
{
	return Py_BuildValue("(NIKN)", ga_py_fsdecode(o->name), o->mode, (unsigned long long)o->size,
		ga_py_digest_new(st, &o->digest));
}

static PyObject *Action_get_outputs(PyObject *obj, void *closure)
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	goaccel_action *a = A(obj);
	PyObject *list;
	size_t i, n;
	if (st == NULL || a == NULL)
		return NULL;
	n = goaccel_action_output_count(a);
	if ((list = PyList_New((Py_ssize_t)n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const goaccel_action_output_info *o = goaccel_action_output_byindex(a, i);
		PyObject *t = ga_py_output_info_tuple(st, o);
		if (t == NULL) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
	return list;
}

/* The int64 accessors behind created_ns, last_used_ns and duration_ns (closure: the index). */
static int64_t (*const action_ns[])(const goaccel_action *) = {
	goaccel_action_created, goaccel_action_last_used, goaccel_action_duration};

static PyObject *Action_get_ns(PyObject *obj, void *closure)
{
	goaccel_action *a = A(obj);
	return a ? PyLong_FromLongLong(action_ns[(intptr_t)closure](a)) : NULL;
}

static PyObject *Action_get_info(PyObject *obj, void *closure)
{
	goaccel_action *a = A(obj);
	return a ? ga_py_str_or_none(goaccel_action_info(a)) : NULL;
}

static PyMethodDef Action_methods[] = {
	{"restore", (PyCFunction)(void (*)(void))Action_restore, METH_VARARGS | METH_KEYWORDS,
		"restore($self, /, dest, *, no_overwrite=False, no_reflink=False)\n--\n\n"
		"Writes the outputs under dest with their recorded modes."},
	{"close", Action_close, METH_NOARGS, "close() -> None\n\nFrees the record (closing its blobs)."},
	{"__enter__", Action_enter, METH_NOARGS, NULL},
	{"__exit__", Action_exit, METH_VARARGS, NULL},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Action_getset[] = {
	{"key", Action_get_key, NULL, "The step key (Digest).", NULL},
	{"kind", Action_get_kind, NULL, "The step kind.", NULL},
	{"outputs", Action_get_outputs, NULL, "[(name, mode, size, digest)] in name order.", NULL},
	{"created_ns", Action_get_ns, NULL, "Creation time, ns since the epoch.", (void *)0},
	{"last_used_ns", Action_get_ns, NULL, "Previous use, ns since the epoch.", (void *)1},
	{"duration_ns", Action_get_ns, NULL, "How long the step took when it ran (ns).", (void *)2},
	{"info", Action_get_info, NULL, "The free-form text stored with the record, or None.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Action_slots[] = {
	{Py_tp_doc, (void *)"An action record found by Store.lookup(). A context manager that closes it."},
	{Py_tp_dealloc, Action_dealloc},
	{Py_tp_methods, Action_methods},
	{Py_tp_getset, Action_getset},
	{0, NULL},
};

static PyType_Spec Action_spec = {
	.name = "goaccel.Action",
	.basicsize = sizeof(ga_py_action),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Action_slots,
};

int ga_py_action_init(PyObject *module, ga_py_state *st)
{
	return ga_py_add_type(module, &Action_spec, NULL, &st->ActionType);
}
