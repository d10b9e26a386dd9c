/*
 * goaccel.Mount — a held cache mount (goaccel/mount.h). Made by Store.mount(); a context manager
 * whose with block yields the mount's directory as a pathlib.Path and releases it at the end.
 * It keeps its Store alive (and open) until released.
 */
#include "goaccel_py.h"

typedef struct {
	PyObject_HEAD
	ga_py_store *store; /* strong reference + one use, while mount is held */
	goaccel_mount *mount;
} ga_py_mount;

PyObject *ga_py_mount_wrap(ga_py_state *st, ga_py_store *store, goaccel_mount *m)
{
	ga_py_mount *self = PyObject_New(ga_py_mount, st->MountType);
	if (self == NULL) {
		GA_PY_NOGIL(goaccel_mount_release(m));
		return NULL;
	}
	self->mount = m;
	self->store = (ga_py_store *)Py_NewRef((PyObject *)store);
	store->users++;
	return (PyObject *)self;
}

/* Releases the mount (recording its last use: I/O, so without the GIL). 0 or the error code. */
static int mount_release(ga_py_mount *self)
{
	goaccel_mount *m = self->mount;
	int rc = 0;
	if (m == NULL)
		return 0;
	self->mount = NULL;
	GA_PY_NOGIL(rc = goaccel_mount_release(m));
	ga_py_store_leave(self->store);
	return rc;
}

static void Mount_dealloc(PyObject *obj)
{
	ga_py_mount *self = (ga_py_mount *)obj;
	PyTypeObject *tp = Py_TYPE(obj);
	mount_release(self); /* an unreleased mount is released when it is collected */
	Py_XDECREF(self->store);
	tp->tp_free(obj);
	Py_DECREF(tp);
}

static int check_held(ga_py_mount *self)
{
	if (self->mount == NULL) {
		PyErr_SetString(PyExc_ValueError, "the goaccel.Mount has been released");
		return -1;
	}
	return 0;
}

static PyObject *Mount_release(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	int rc;
	if (st == NULL)
		return NULL;
	if ((rc = mount_release((ga_py_mount *)obj)) < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

static PyObject *Mount_get_path(PyObject *obj, void *closure)
{
	ga_py_mount *self = (ga_py_mount *)obj;
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	if (st == NULL || check_held(self) < 0)
		return NULL;
	return ga_py_pathlib_path(st, goaccel_mount_path(self->mount));
}

static PyObject *Mount_enter(PyObject *obj, PyObject *unused)
{
	return Mount_get_path(obj, NULL);
}

static PyObject *Mount_exit(PyObject *obj, PyObject *args)
{
	PyObject *r = Mount_release(obj, NULL);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyObject *Mount_get_id(PyObject *obj, void *closure)
{
	ga_py_mount *self = (ga_py_mount *)obj;
	if (check_held(self) < 0)
		return NULL;
	return PyUnicode_FromString(goaccel_mount_id(self->mount));
}

static PyObject *Mount_get_instance(PyObject *obj, void *closure)
{
	ga_py_mount *self = (ga_py_mount *)obj;
	if (check_held(self) < 0)
		return NULL;
	return PyLong_FromUnsignedLong(goaccel_mount_instance(self->mount));
}

static PyObject *Mount_get_sharing(PyObject *obj, void *closure)
{
	static const char *names[] = {"shared", "private", "locked"};
	ga_py_mount *self = (ga_py_mount *)obj;
	unsigned s;
	if (check_held(self) < 0)
		return NULL;
	s = (unsigned)goaccel_mount_sharing_of(self->mount);
	return PyUnicode_FromString(s < 3 ? names[s] : "?");
}

static PyObject *Mount_get_released(PyObject *obj, void *closure)
{
	return PyBool_FromLong(((ga_py_mount *)obj)->mount == NULL);
}

static PyObject *Mount_get_store(PyObject *obj, void *closure)
{
	return Py_NewRef((PyObject *)((ga_py_mount *)obj)->store);
}

static PyObject *Mount_repr(PyObject *obj)
{
	ga_py_mount *self = (ga_py_mount *)obj;
	if (self->mount == NULL)
		return PyUnicode_FromString("<goaccel.Mount (released)>");
	return PyUnicode_FromFormat("<goaccel.Mount id='%s' instance=%u path='%s'>", goaccel_mount_id(self->mount),
		goaccel_mount_instance(self->mount), goaccel_mount_path(self->mount));
}

static PyMethodDef Mount_methods[] = {
	{"release", Mount_release, METH_NOARGS, "release() -> None\n\nRecords the last use and releases the mount."},
	{"__enter__", Mount_enter, METH_NOARGS, "Returns the mount's directory (pathlib.Path)."},
	{"__exit__", Mount_exit, METH_VARARGS, "Releases the mount."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Mount_getset[] = {
	{"path", Mount_get_path, NULL, "The directory to use (pathlib.Path).", NULL},
	{"id", Mount_get_id, NULL, "The mount id.", NULL},
	{"instance", Mount_get_instance, NULL, "0 for the main instance, n > 0 for an extra private one.", NULL},
	{"sharing", Mount_get_sharing, NULL, "'shared', 'private' or 'locked'.", NULL},
	{"released", Mount_get_released, NULL, "True once released.", NULL},
	{"store", Mount_get_store, NULL, "The Store the mount belongs to.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Mount_slots[] = {
	{Py_tp_doc, (void *)"A held cache mount: use it as a context manager (yields its pathlib.Path)."},
	{Py_tp_dealloc, Mount_dealloc},
	{Py_tp_repr, Mount_repr},
	{Py_tp_methods, Mount_methods},
	{Py_tp_getset, Mount_getset},
	{0, NULL},
};

static PyType_Spec Mount_spec = {
	.name = "goaccel.Mount",
	.basicsize = sizeof(ga_py_mount),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Mount_slots,
};

int ga_py_mount_init(PyObject *module, ga_py_state *st)
{
	return ga_py_add_type(module, &Mount_spec, NULL, &st->MountType);
}
