/*
 * goaccel.Store — an open cache store (goaccel/store.h + the store side of goaccel/mount.h):
 * blobs, action records, refs, statistics, prune, verify, export/import, and mount().
 * Every call that touches the store's files or its statistics database runs without the GIL.
 */
#include "goaccel_py.h"

#include <math.h>

/* ---- lifetime ---------------------------------------------------------------------------- */

int ga_py_store_enter(ga_py_store *self)
{
	if (self->closed || self->store == NULL) {
		PyErr_SetString(PyExc_ValueError, "I/O operation on a closed goaccel.Store");
		return -1;
	}
	self->users++;
	return 0;
}

void ga_py_store_leave(ga_py_store *self)
{
	if (--self->users == 0 && self->closed && self->store) {
		goaccel_store *store = self->store;
		self->store = NULL;
		GA_PY_NOGIL(goaccel_store_free(store));
	}
}

static ga_py_state *store_state(PyObject *self)
{
	return ga_py_state_of_type(Py_TYPE(self));
}

#define S(self) (((ga_py_store *)(self))->store)

static PyObject *Store_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", "create", "fsync", NULL};
	ga_py_state *st = ga_py_state_of_type(type);
	goaccel_store_options opts = GOACCEL_STORE_OPTIONS_INIT;
	PyObject *path = NULL;
	ga_py_store *self = NULL;
	goaccel_store *store = NULL;
	int create = 1, rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|O&$pp:Store", kwlist,
		    ga_py_optional_path_converter, &path, &create, &opts.fsync))
		return NULL;
	opts.no_create = !create;
	GA_PY_NOGIL(rc = goaccel_store_open(&store, ga_py_path_str(path), &opts));
	Py_XDECREF(path);
	if (rc < 0)
		return ga_py_raise(st, rc);
	if ((self = (ga_py_store *)type->tp_alloc(type, 0)) == NULL) {
		goaccel_store_free(store);
		return NULL;
	}
	self->store = store;
	return (PyObject *)self;
}

static void Store_dealloc(PyObject *obj)
{
	ga_py_store *self = (ga_py_store *)obj;
	PyTypeObject *tp = Py_TYPE(obj);
	/* Children hold a strong reference, and calls hold the object: no user is left here. */
	if (self->store) {
		goaccel_store *store = self->store;
		self->store = NULL;
		GA_PY_NOGIL(goaccel_store_free(store));
	}
	tp->tp_free(obj);
	Py_DECREF(tp);
}

static PyObject *Store_close(PyObject *obj, PyObject *unused)
{
	ga_py_store *self = (ga_py_store *)obj;
	if (!self->closed) {
		self->closed = 1;
		self->users++;
		ga_py_store_leave(self); /* frees now unless something still uses it */
	}
	Py_RETURN_NONE;
}

static PyObject *Store_enter(PyObject *obj, PyObject *unused)
{
	ga_py_store *self = (ga_py_store *)obj;
	if (self->closed) {
		PyErr_SetString(PyExc_ValueError, "I/O operation on a closed goaccel.Store");
		return NULL;
	}
	return Py_NewRef(obj);
}

static PyObject *Store_exit(PyObject *obj, PyObject *args)
{
	PyObject *r = Store_close(obj, NULL);
	Py_XDECREF(r);
	if (r == NULL)
		return NULL;
	Py_RETURN_FALSE;
}

static PyObject *Store_get_path(PyObject *obj, void *closure)
{
	ga_py_state *st = store_state(obj);
	PyObject *result;
	if (st == NULL || ga_py_store_enter((ga_py_store *)obj) < 0)
		return NULL;
	result = ga_py_pathlib_path(st, goaccel_store_path(S(obj)));
	ga_py_store_leave((ga_py_store *)obj);
	return result;
}

static PyObject *Store_get_closed(PyObject *obj, void *closure)
{
	return PyBool_FromLong(((ga_py_store *)obj)->closed);
}

/* Parses a digest argument; -1 with an exception. */
static int digest_arg(ga_py_state *st, PyObject *obj, goaccel_digest *out)
{
	return ga_py_digest_from_object(st, obj, out);
}

/* Seconds (float, None = forever) → milliseconds for the library (-1 = forever). */
static int timeout_ms(PyObject *obj, int64_t *out)
{
	double secs;
	if (obj == NULL)
		return 0; /* keep the default */
	if (obj == Py_None) {
		*out = -1;
		return 0;
	}
	secs = PyFloat_AsDouble(obj);
	if (secs == -1.0 && PyErr_Occurred())
		return -1;
	if (!(secs >= 0) || secs > 1e12) {
		PyErr_SetString(PyExc_ValueError, "timeout must be None or a number of seconds >= 0");
		return -1;
	}
	*out = (int64_t)ceil(secs * 1000.0);
	return 0;
}

/* ---- blobs ------------------------------------------------------------------------------- */

static PyObject *Store_blob_put_file(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	PyObject *path = NULL, *result = NULL;
	goaccel_digest d;
	int rc;
	if (st == NULL || !PyUnicode_FSConverter(arg, &path))
		return NULL;
	if (ga_py_store_enter(self) == 0) {
		GA_PY_NOGIL(rc = goaccel_store_blob_put_file(&d, self->store, PyBytes_AS_STRING(path)));
		result = rc < 0 ? ga_py_raise(st, rc) : ga_py_digest_new(st, &d);
		ga_py_store_leave(self);
	}
	Py_DECREF(path);
	return result;
}

static PyObject *Store_blob_put(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	PyObject *result = NULL;
	goaccel_digest d;
	Py_buffer view;
	int rc;
	if (st == NULL || PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
		return NULL;
	if (ga_py_store_enter(self) == 0) {
		GA_PY_NOGIL(rc = goaccel_store_blob_put_buffer(&d, self->store, view.buf, (size_t)view.len));
		result = rc < 0 ? ga_py_raise(st, rc) : ga_py_digest_new(st, &d);
		ga_py_store_leave(self);
	}
	PyBuffer_Release(&view);
	return result;
}

static PyObject *Store_blob_get(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"digest", "max_size", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	PyObject *dobj, *result = NULL;
	Py_ssize_t max_size = 0;
	goaccel_digest d;
	void *data = NULL;
	size_t len = 0;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O|$n:blob_get", kwlist, &dobj, &max_size) ||
	    digest_arg(st, dobj, &d) < 0 || ga_py_store_enter(self) < 0)
		return NULL;
	if (max_size < 0)
		max_size = 0;
	GA_PY_NOGIL(rc = goaccel_store_blob_get(&data, &len, self->store, &d, (size_t)max_size));
	if (rc < 0)
		ga_py_raise(st, rc);
	else
		result = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
	goaccel_free(data);
	ga_py_store_leave(self);
	return result;
}

static PyObject *Store_blob_copy(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"digest", "dest", "mode", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	PyObject *dobj, *dest = NULL, *result = NULL;
	unsigned int mode = 0644;
	goaccel_digest d;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "OO&|I:blob_copy", kwlist, &dobj,
		    ga_py_path_converter, &dest, &mode))
		return NULL;
	if (digest_arg(st, dobj, &d) == 0 && ga_py_store_enter(self) == 0) {
		GA_PY_NOGIL(rc = goaccel_store_blob_copy(self->store, &d, PyBytes_AS_STRING(dest), mode));
		result = rc < 0 ? ga_py_raise(st, rc) : Py_NewRef(Py_None);
		ga_py_store_leave(self);
	}
	Py_DECREF(dest);
	return result;
}

static PyObject *Store_blob_path(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	PyObject *result = NULL;
	goaccel_digest d;
	char *path = NULL;
	int rc;
	if (st == NULL || digest_arg(st, arg, &d) < 0 || ga_py_store_enter(self) < 0)
		return NULL;
	rc = goaccel_store_blob_path(&path, self->store, &d);
	if (rc < 0)
		ga_py_raise(st, rc);
	else
		result = ga_py_pathlib_path(st, path);
	goaccel_free(path);
	ga_py_store_leave(self);
	return result;
}

static PyObject *Store_blob_exists(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_digest d;
	int rc;
	if (st == NULL || digest_arg(st, arg, &d) < 0 || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_blob_exists(self->store, &d));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return PyBool_FromLong(rc);
}

/* ---- actions ----------------------------------------------------------------------------- */

/* outputs: iterable of (name, path | None, mode, data | None). */
typedef struct {
	goaccel_action_output *outputs;
	Py_buffer *views;
	PyObject **owned; /* names/paths as bytes */
	size_t n, nviews, nowned;
} action_outputs;

static void outputs_dispose(action_outputs *o)
{
	size_t i;
	for (i = 0; i < o->nviews; i++)
		PyBuffer_Release(&o->views[i]);
	for (i = 0; i < o->nowned; i++)
		Py_DECREF(o->owned[i]);
	PyMem_Free(o->outputs);
	PyMem_Free(o->views);
	PyMem_Free(o->owned);
	memset(o, 0, sizeof(*o));
}

static int outputs_parse(PyObject *iterable, action_outputs *o)
{
	PyObject *seq = PySequence_Fast(iterable, "outputs must be an iterable of tuples");
	Py_ssize_t n, i;
	memset(o, 0, sizeof(*o));
	if (seq == NULL)
		return -1;
	n = PySequence_Fast_GET_SIZE(seq);
	o->outputs = PyMem_Calloc((size_t)n + 1, sizeof(*o->outputs));
	o->views = PyMem_Calloc((size_t)n + 1, sizeof(*o->views));
	o->owned = PyMem_Calloc(2 * (size_t)n + 1, sizeof(*o->owned));
	if (!o->outputs || !o->views || !o->owned) {
		PyErr_NoMemory();
		goto fail;
	}
	for (i = 0; i < n; i++) {
		PyObject *item = PySequence_Fast_GET_ITEM(seq, i), *name = NULL, *path, *data, *pathb = NULL;
		int mode;
		if (!PyArg_ParseTuple(item, "O&OiO:outputs", PyUnicode_FSConverter, &name, &path, &mode, &data))
			goto fail;
		o->owned[o->nowned++] = name;
		o->outputs[i].name = PyBytes_AS_STRING(name);
		o->outputs[i].mode = mode;
		if (path != Py_None) {
			if (!PyUnicode_FSConverter(path, &pathb))
				goto fail;
			o->owned[o->nowned++] = pathb;
			o->outputs[i].path = PyBytes_AS_STRING(pathb);
		} else {
			if (PyObject_GetBuffer(data, &o->views[o->nviews], PyBUF_SIMPLE) < 0)
				goto fail;
			o->outputs[i].data = o->views[o->nviews].buf;
			o->outputs[i].size = (size_t)o->views[o->nviews].len;
			o->nviews++;
		}
		o->n++;
	}
	Py_DECREF(seq);
	return 0;
fail:
	Py_DECREF(seq);
	outputs_dispose(o);
	return -1;
}

static PyObject *Store_action_put(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"key", "kind", "outputs", "duration_ns", "info", "created_ns", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	PyObject *kobj, *outs, *result = NULL;
	action_outputs o;
	long long duration = 0, created = 0;
	const char *kind, *info = NULL;
	goaccel_digest key;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "OsO|$LzL:_action_put", kwlist, &kobj, &kind,
		    &outs, &duration, &info, &created) ||
	    digest_arg(st, kobj, &key) < 0 || outputs_parse(outs, &o) < 0)
		return NULL;
	meta.duration_ns = duration;
	meta.info = info;
	meta.created_ns = created;
	if (ga_py_store_enter(self) == 0) {
		GA_PY_NOGIL(rc = goaccel_store_action_put(self->store, &key, kind, o.outputs, o.n, &meta));
		result = rc < 0 ? ga_py_raise(st, rc) : Py_NewRef(Py_None);
		ga_py_store_leave(self);
	}
	outputs_dispose(&o);
	return result;
}

/* A lookup's answer: the Action on a hit, None on a miss (an answer, not an error). */
static PyObject *action_or_none(ga_py_state *st, ga_py_store *self, int rc, goaccel_action *action)
{
	if (rc == GOACCEL_ENOTFOUND)
		return Py_NewRef(Py_None);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_action_wrap(st, self, action);
}

static PyObject *Store_lookup(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"key", "kind", "peek", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_lookup_options opts = GOACCEL_LOOKUP_OPTIONS_INIT;
	goaccel_action *action = NULL;
	const char *kind = NULL;
	PyObject *kobj, *result;
	goaccel_digest key;
	int peek = 0, rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O|z$p:lookup", kwlist, &kobj, &kind, &peek) ||
	    digest_arg(st, kobj, &key) < 0 || ga_py_store_enter(self) < 0)
		return NULL;
	opts.flags = peek ? GOACCEL_LOOKUP_PEEK : 0;
	GA_PY_NOGIL(rc = goaccel_store_action_lookup_ext(&action, self->store, kind, &key, &opts));
	result = action_or_none(st, self, rc, action);
	ga_py_store_leave(self);
	return result;
}

static PyObject *Store_fetch(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"key", "dest", "kind", "no_overwrite", "no_reflink", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_restore_options opts = GOACCEL_RESTORE_OPTIONS_INIT;
	goaccel_action *action = NULL;
	const char *kind = NULL;
	PyObject *kobj, *dest = NULL, *result = NULL;
	goaccel_digest key;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "OO&|z$pp:fetch", kwlist, &kobj,
		    ga_py_path_converter, &dest, &kind, &opts.no_overwrite, &opts.no_reflink))
		return NULL;
	if (digest_arg(st, kobj, &key) == 0 && ga_py_store_enter(self) == 0) {
		GA_PY_NOGIL(rc = goaccel_store_action_fetch(&action, self->store, kind, &key, PyBytes_AS_STRING(dest), &opts));
		result = action_or_none(st, self, rc, action);
		ga_py_store_leave(self);
	}
	Py_DECREF(dest);
	return result;
}

static PyObject *Store_action_remove(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_digest key;
	int rc;
	if (st == NULL || digest_arg(st, arg, &key) < 0 || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_action_remove(self->store, &key));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

/* (key, kind, created_ns, last_used_ns, duration_ns, info | None, [outputs], total_size, record_bytes) */
static PyObject *action_entry_tuple(ga_py_state *st, const goaccel_action_entry *e)
{
	PyObject *outputs = PyList_New((Py_ssize_t)e->output_count);
	size_t i;
	if (outputs == NULL)
		return NULL;
	for (i = 0; i < e->output_count; i++) {
		PyObject *t = ga_py_output_info_tuple(st, &e->outputs[i]);
		if (t == NULL) {
			Py_DECREF(outputs);
			return NULL;
		}
		PyList_SET_ITEM(outputs, (Py_ssize_t)i, t);
	}
	return Py_BuildValue("(NsLLLNNKK)", ga_py_digest_new(st, &e->key), e->kind, (long long)e->created_ns,
		(long long)e->last_used_ns, (long long)e->duration_ns, ga_py_str_or_none(e->info), outputs,
		(unsigned long long)e->total_size, (unsigned long long)e->record_bytes);
}

static PyObject *Store_actions(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"kind", "glob", "by_last_used", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_action_list_options opts = GOACCEL_ACTION_LIST_OPTIONS_INIT;
	goaccel_action_list *list = NULL;
	PyObject *entries = NULL, *result = NULL;
	int by_last_used = 0, rc;
	size_t i, n;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|z$zp:_actions", kwlist, &opts.kind, &opts.glob,
		    &by_last_used) || ga_py_store_enter(self) < 0)
		return NULL;
	opts.sort = by_last_used ? GOACCEL_ACTION_SORT_LAST_USED : GOACCEL_ACTION_SORT_KEY;
	GA_PY_NOGIL(rc = goaccel_store_action_list_get(&list, self->store, &opts));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	n = goaccel_action_list_count(list);
	if ((entries = PyList_New((Py_ssize_t)n)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		PyObject *t = action_entry_tuple(st, goaccel_action_list_byindex(list, i));
		if (t == NULL)
			goto done;
		PyList_SET_ITEM(entries, (Py_ssize_t)i, t);
	}
	result = Py_BuildValue("(On)", entries, (Py_ssize_t)goaccel_action_list_skipped(list));
done:
	Py_XDECREF(entries);
	goaccel_action_list_free(list);
	return result;
}

/* ---- refs -------------------------------------------------------------------------------- */

static PyObject *Store_ref_set(PyObject *obj, PyObject *args)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	const char *name;
	PyObject *dobj;
	goaccel_digest d;
	int rc;
	if (st == NULL || !PyArg_ParseTuple(args, "sO:ref_set", &name, &dobj) || digest_arg(st, dobj, &d) < 0 ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_ref_set(self->store, name, &d));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

static PyObject *Store_ref_get(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	const char *name;
	goaccel_digest d;
	int rc;
	if (st == NULL || (name = PyUnicode_AsUTF8(arg)) == NULL || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_ref_get(&d, self->store, name));
	ga_py_store_leave(self);
	if (rc == GOACCEL_ENOTFOUND)
		Py_RETURN_NONE;
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_digest_new(st, &d);
}

static PyObject *Store_ref_remove(PyObject *obj, PyObject *arg)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	const char *name;
	int rc;
	if (st == NULL || (name = PyUnicode_AsUTF8(arg)) == NULL || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_ref_remove(self->store, name));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

/* Refs collected by goaccel_store_ref_foreach() while the GIL is released. */
typedef struct {
	goaccel_ref_entry *items; /* names are PyMem_RawMalloc'ed copies */
	size_t count, cap;
} ref_list;

static int collect_ref(const goaccel_ref_entry *ref, void *payload)
{
	ref_list *l = payload;
	size_t len = strlen(ref->name) + 1;
	char *name;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		goaccel_ref_entry *items = PyMem_RawRealloc(l->items, cap * sizeof(*items));
		if (items == NULL)
			return -1;
		l->items = items;
		l->cap = cap;
	}
	if ((name = PyMem_RawMalloc(len)) == NULL)
		return -1;
	memcpy(name, ref->name, len);
	l->items[l->count] = *ref;
	l->items[l->count++].name = name;
	return 0;
}

static PyObject *Store_refs(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	ref_list l = {0};
	PyObject *result = NULL;
	size_t i;
	int rc;
	if (st == NULL || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_ref_foreach(self->store, collect_ref, &l));
	ga_py_store_leave(self);
	if (rc == GOACCEL_EUSER) /* only collect_ref stops it: out of memory */
		PyErr_NoMemory();
	else if (rc < 0)
		ga_py_raise(st, rc);
	else if ((result = PyList_New((Py_ssize_t)l.count)) != NULL) {
		for (i = 0; i < l.count; i++) {
			PyObject *t = Py_BuildValue("(sNL)", l.items[i].name, ga_py_digest_new(st, &l.items[i].blob),
				(long long)l.items[i].last_used_ns);
			if (t == NULL) {
				Py_CLEAR(result);
				break;
			}
			PyList_SET_ITEM(result, (Py_ssize_t)i, t);
		}
	}
	for (i = 0; i < l.count; i++)
		PyMem_RawFree((void *)l.items[i].name);
	PyMem_RawFree(l.items);
	return result;
}

/* ---- statistics -------------------------------------------------------------------------- */

static PyObject *counters_dict(const goaccel_store_counters *c)
{
	return ga_py_u64_dict("hits", c->hits, "misses", c->misses, "corrupt", c->corrupt,
		"bytes_restored", c->bytes_restored, "time_saved_ns", c->time_saved_ns, "puts", c->puts,
		"bytes_put", c->bytes_put, (const char *)NULL);
}

static PyObject *Store_stats(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"kind", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_store_counters c = {0};
	const char *kind = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|z:_stats", kwlist, &kind) ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_stats(&c, self->store, kind));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return counters_dict(&c);
}

static PyObject *Store_stats_json(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"with_usage", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	int with_usage = 0, rc;
	char *json = NULL;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|p:stats_json", kwlist, &with_usage) ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_stats_json(&json, self->store, with_usage));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_take_string(json);
}

static PyObject *Store_stats_reset(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	int rc;
	if (st == NULL || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_stats_reset(self->store));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

static PyObject *Store_stats_add(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"kind", "hits", "misses", "corrupt", "bytes_restored", "time_saved_ns", "puts",
		"bytes_put", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_store_counters c = {0};
	unsigned long long v[7] = {0};
	const char *kind;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|$KKKKKKK:stats_add", kwlist, &kind, &v[0],
		    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	c.hits = v[0], c.misses = v[1], c.corrupt = v[2], c.bytes_restored = v[3];
	c.time_saved_ns = v[4], c.puts = v[5], c.bytes_put = v[6];
	GA_PY_NOGIL(rc = goaccel_store_stats_add(self->store, kind, &c));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

static PyObject *Store_usage(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_store_usage u = {0};
	int rc;
	if (st == NULL || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_store_usage_get(&u, self->store));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_u64_dict("blobs", u.blobs, "blob_bytes", u.blob_bytes, "actions", u.actions,
		"action_bytes", u.action_bytes, "refs", u.refs, "mounts", u.mounts, "mount_bytes", u.mount_bytes,
		"total_bytes", u.total_bytes, (const char *)NULL);
}

/* ---- prune and verify (with callbacks) --------------------------------------------------- */

static int prune_trampoline(const goaccel_prune_event *e, void *payload)
{
	ga_py_callback *cb = payload;
	PyGILState_STATE g = PyGILState_Ensure();
	int rc = ga_py_callback_call_locked(cb, Py_BuildValue("(iNKLN)", (int)e->kind, ga_py_str_or_none(e->id),
		(unsigned long long)e->bytes, (long long)e->last_used_ns, ga_py_str_or_none(e->reason)));
	PyGILState_Release(g);
	return rc;
}

static PyObject *Store_prune(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"max_bytes", "keep_duration_ns", "kinds", "id_glob", "dry_run", "blob_grace_ns",
		"callback", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_prune_options opts = GOACCEL_PRUNE_OPTIONS_INIT;
	goaccel_prune_result r = {0};
	ga_py_callback cb = {0};
	unsigned long long max_bytes = 0;
	long long keep = 0, grace = opts.blob_grace_ns;
	PyObject *callback = Py_None, *result = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|$KLIzpLO:_prune", kwlist, &max_bytes, &keep,
		    &opts.kinds, &opts.id_glob, &opts.dry_run, &grace, &callback) ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	opts.max_bytes = max_bytes;
	opts.keep_duration_ns = keep;
	opts.blob_grace_ns = grace;
	if (callback != Py_None) {
		cb.callable = callback;
		opts.callback = prune_trampoline;
		opts.payload = &cb;
	}
	GA_PY_NOGIL(rc = goaccel_store_prune(&r, self->store, &opts));
	ga_py_store_leave(self);
	if (ga_py_callback_finish(st, &cb, rc) != NULL)
		result = ga_py_u64_dict("blobs", r.blobs, "actions", r.actions, "mounts", r.mounts, "refs", r.refs,
			"bytes_freed", r.bytes_freed, "bytes_before", r.bytes_before, "bytes_after", r.bytes_after,
			"mounts_in_use", r.mounts_in_use, (const char *)NULL);
	ga_py_callback_dispose(&cb);
	return result;
}

static int verify_trampoline(const goaccel_verify_event *e, void *payload)
{
	ga_py_callback *cb = payload;
	PyGILState_STATE g = PyGILState_Ensure();
	int rc = ga_py_callback_call_locked(cb, Py_BuildValue("(iNNN)", (int)e->problem, ga_py_str_or_none(e->path),
		ga_py_str_or_none(e->detail), PyBool_FromLong(e->repaired)));
	PyGILState_Release(g);
	return rc;
}

static PyObject *Store_verify(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"repair", "callback", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_verify_options opts = GOACCEL_VERIFY_OPTIONS_INIT;
	goaccel_verify_result r = {0};
	ga_py_callback cb = {0};
	PyObject *callback = Py_None, *result = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|$pO:_verify", kwlist, &opts.repair, &callback) ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	if (callback != Py_None) {
		cb.callable = callback;
		opts.callback = verify_trampoline;
		opts.payload = &cb;
	}
	GA_PY_NOGIL(rc = goaccel_store_verify(&r, self->store, &opts));
	ga_py_store_leave(self);
	/* Problems that remain are the answer (result["problems"] > result["repaired"]), not an error. */
	if (ga_py_callback_finish(st, &cb, rc == GOACCEL_EMISMATCH ? 0 : rc) != NULL)
		result = ga_py_u64_dict("blobs", r.blobs, "actions", r.actions, "refs", r.refs,
			"corrupt_blobs", r.corrupt_blobs, "bad_records", r.bad_records,
			"dangling_records", r.dangling_records, "dangling_refs", r.dangling_refs,
			"temp_files", r.temp_files, "stray", r.stray, "problems", r.problems, "repaired", r.repaired,
			(const char *)NULL);
	ga_py_callback_dispose(&cb);
	return result;
}

/* ---- export / import --------------------------------------------------------------------- */

static PyObject *transfer_dict(const goaccel_transfer_result *t)
{
	return ga_py_u64_dict("blobs", t->blobs, "actions", t->actions, "refs", t->refs, "mounts", t->mounts,
		"files", t->files, "bytes", t->bytes, "unchanged", t->unchanged, "skipped", t->skipped,
		(const char *)NULL);
}

static PyObject *Store_export(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", "mounts", "all_mounts", "actions", "actions_glob", "refs", "base",
		"manifest_out", "compression_level", "threads", "lock_timeout", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_export_options opts = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_transfer_result t = {0};
	PyObject *path = NULL, *base = NULL, *manifest_out = NULL, *lock_timeout = NULL, *result = NULL;
	ga_py_strlist mounts = {0};
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$O&ppzpO&O&iIO:_export", kwlist,
		    ga_py_path_converter, &path, ga_py_strlist_converter, &mounts, &opts.all_mounts, &opts.actions,
		    &opts.actions_glob, &opts.refs, ga_py_optional_path_converter, &base,
		    ga_py_optional_path_converter, &manifest_out, &opts.compression_level, &opts.threads,
		    &lock_timeout))
		return NULL;
	if (timeout_ms(lock_timeout, &opts.lock_timeout_ms) < 0)
		goto done;
	opts.mounts = mounts.strings;
	opts.mounts_count = mounts.count;
	opts.base = ga_py_path_str(base);
	opts.manifest_out = ga_py_path_str(manifest_out);
	if (ga_py_store_enter(self) < 0)
		goto done;
	GA_PY_NOGIL(rc = goaccel_store_export(&t, self->store, PyBytes_AS_STRING(path), &opts));
	ga_py_store_leave(self);
	result = rc < 0 ? ga_py_raise(st, rc) : transfer_dict(&t);
done:
	ga_py_strlist_dispose(&mounts);
	Py_XDECREF(path);
	Py_XDECREF(base);
	Py_XDECREF(manifest_out);
	return result;
}

static PyObject *Store_import(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", "max_entry_size", "max_total_size", "max_entries", "lock_timeout", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_import_options opts = GOACCEL_IMPORT_OPTIONS_INIT;
	goaccel_transfer_result t = {0};
	unsigned long long max_entry = 0, max_total = 0, max_entries = 0;
	PyObject *path = NULL, *lock_timeout = NULL, *result = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$KKKO:_import", kwlist, ga_py_path_converter,
		    &path, &max_entry, &max_total, &max_entries, &lock_timeout))
		return NULL;
	opts.max_entry_size = max_entry;
	opts.max_total_size = max_total;
	opts.max_entries = max_entries;
	if (timeout_ms(lock_timeout, &opts.lock_timeout_ms) == 0 && ga_py_store_enter(self) == 0) {
		GA_PY_NOGIL(rc = goaccel_store_import(&t, self->store, PyBytes_AS_STRING(path), &opts));
		ga_py_store_leave(self);
		result = rc < 0 ? ga_py_raise(st, rc) : transfer_dict(&t);
	}
	Py_DECREF(path);
	return result;
}

/* ---- mounts ------------------------------------------------------------------------------ */

static int parse_sharing(PyObject *obj, goaccel_mount_sharing *out)
{
	static const struct {
		const char *name;
		goaccel_mount_sharing value;
	} names[] = {{"shared", GOACCEL_MOUNT_SHARED}, {"private", GOACCEL_MOUNT_PRIVATE}, {"locked", GOACCEL_MOUNT_LOCKED}};
	size_t i;
	PyObject *value = obj;
	/* An enum member (goaccel.Sharing) carries its name in .value. */
	if (!PyUnicode_Check(obj) && !PyLong_Check(obj) && PyObject_HasAttrString(obj, "value"))
		value = PyObject_GetAttrString(obj, "value");
	else
		Py_INCREF(value);
	if (value == NULL)
		return -1;
	if (PyUnicode_Check(value)) {
		const char *s = PyUnicode_AsUTF8(value);
		for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
			if (strcasecmp(s, names[i].name) == 0) {
				*out = names[i].value;
				Py_DECREF(value);
				return 0;
			}
		}
	}
	Py_DECREF(value);
	PyErr_Format(PyExc_ValueError, "sharing must be 'shared', 'private' or 'locked', not %R", obj);
	return -1;
}

static PyObject *Store_mount(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"id", "sharing", "timeout", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_mount_options opts = GOACCEL_MOUNT_OPTIONS_INIT;
	goaccel_mount_sharing sharing = GOACCEL_MOUNT_SHARED;
	goaccel_mount *m = NULL;
	PyObject *sharing_obj = NULL, *timeout = NULL, *result;
	const char *id;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|O$O:mount", kwlist, &id, &sharing_obj, &timeout))
		return NULL;
	if ((sharing_obj && parse_sharing(sharing_obj, &sharing) < 0) || timeout_ms(timeout, &opts.timeout_ms) < 0 ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	/* Waiting for a conflicting holder: never with the GIL. */
	GA_PY_NOGIL(rc = goaccel_mount_acquire(&m, self->store, id, sharing, &opts));
	result = rc < 0 ? ga_py_raise(st, rc) : ga_py_mount_wrap(st, self, m);
	ga_py_store_leave(self);
	return result;
}

static PyObject *Store_mounts(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"with_sizes", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	goaccel_mount_list *list = NULL;
	PyObject *result = NULL;
	int with_sizes = 0, rc;
	size_t i, n;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|$p:_mounts", kwlist, &with_sizes) ||
	    ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_mount_list_get(&list, self->store, with_sizes));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	n = goaccel_mount_list_count(list);
	if ((result = PyList_New((Py_ssize_t)n)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		const goaccel_mount_info *mi = goaccel_mount_list_byindex(list, i);
		PyObject *t = Py_BuildValue("(NINKKLN)", ga_py_str_or_none(mi->id), mi->instance,
			ga_py_pathlib_path(st, mi->path), (unsigned long long)mi->bytes, (unsigned long long)mi->files,
			(long long)mi->last_used_ns, PyBool_FromLong(mi->in_use));
		if (t == NULL) {
			Py_CLEAR(result);
			goto done;
		}
		PyList_SET_ITEM(result, (Py_ssize_t)i, t);
	}
done:
	goaccel_mount_list_free(list);
	return result;
}

static PyObject *Store_mount_remove(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"id", "timeout", NULL};
	ga_py_state *st = store_state(obj);
	ga_py_store *self = (ga_py_store *)obj;
	PyObject *timeout = NULL;
	int64_t ms = 600000;
	const char *id;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|$O:mount_remove", kwlist, &id, &timeout) ||
	    timeout_ms(timeout, &ms) < 0 || ga_py_store_enter(self) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_mount_remove(self->store, id, ms));
	ga_py_store_leave(self);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

static PyObject *default_root(PyObject *module, PyObject *unused)
{
	ga_py_state *st = ga_py_state_of_module(module);
	char *root = NULL;
	PyObject *result;
	int rc = goaccel_store_default_root(&root);
	if (rc < 0)
		return ga_py_raise(st, rc);
	result = ga_py_pathlib_path(st, root);
	goaccel_free(root);
	return result;
}

#define KW (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef Store_methods[] = {
	{"close", Store_close, METH_NOARGS, "close() -> None\n\nCloses the store (once nothing uses it any more)."},
	{"__enter__", Store_enter, METH_NOARGS, NULL},
	{"__exit__", Store_exit, METH_VARARGS, NULL},
	{"blob_put_file", Store_blob_put_file, METH_O, "blob_put_file(path) -> Digest\n\nCopies a file in as a blob."},
	{"blob_put", Store_blob_put, METH_O, "blob_put(data) -> Digest\n\nStores bytes as a blob."},
	{"blob_get", FN(Store_blob_get), KW, "blob_get($self, /, digest, *, max_size=0)\n--\n\nReads a verified blob."},
	{"blob_copy", FN(Store_blob_copy), KW, "blob_copy($self, /, digest, dest, mode=420)\n--\n\nCopies a blob out."},
	{"blob_path", Store_blob_path, METH_O, "blob_path(digest) -> Path\n\nWhere a blob lives (unverified)."},
	{"blob_exists", Store_blob_exists, METH_O, "blob_exists(digest) -> bool"},
	{"_action_put", FN(Store_action_put), KW,
		"_action_put($self, /, key, kind, outputs, *, duration_ns=0, info=None, created_ns=0)\n--\n\n"
		"Records outputs [(name, path | None, mode (-1 = the file's), data | None)] under key."},
	{"lookup", FN(Store_lookup), KW,
		"lookup($self, /, key, kind=None, *, peek=False)\n--\n\n"
		"Looks a step key up: an Action on a hit, None on a miss. peek=True counts nothing,\n"
		"leaves the record's last-used time as it was and removes nothing (a damaged entry is\n"
		"only reported as a miss): for dry runs and explanations."},
	{"fetch", FN(Store_fetch), KW,
		"fetch($self, /, key, dest, kind=None, *, no_overwrite=False, no_reflink=False)\n--\n\n"
		"Looks key up and restores its outputs under dest in one pass (each blob verified while\n"
		"it is copied; nothing new is left in dest on a miss): the Action on a hit, None on a\n"
		"miss (absent, dangling or corrupt)."},
	{"_actions", FN(Store_actions), KW,
		"_actions($self, /, kind=None, *, glob=None, by_last_used=False)\n--\n\n"
		"The action records ([entry tuples], skipped), from the records alone (nothing counted)."},
	{"_refs", Store_refs, METH_NOARGS,
		"_refs($self, /)\n--\n\nEvery readable ref as (name, blob, last_used_ns), in no particular order."},
	{"action_remove", Store_action_remove, METH_O, "action_remove(key) -> None\n\nRemoves a record."},
	{"ref_set", Store_ref_set, METH_VARARGS, "ref_set(name, digest) -> None"},
	{"ref_get", Store_ref_get, METH_O, "ref_get(name) -> Digest | None"},
	{"ref_remove", Store_ref_remove, METH_O, "ref_remove(name) -> None"},
	{"_stats", FN(Store_stats), KW, "_stats($self, /, kind=None)\n--\n\n"},
	{"stats_json", FN(Store_stats_json), KW, "stats_json($self, /, with_usage=False)\n--\n\nThe statistics as JSON."},
	{"stats_reset", Store_stats_reset, METH_NOARGS, "stats_reset() -> None"},
	{"stats_add", FN(Store_stats_add), KW, "stats_add(kind, *, hits=0, misses=0, ...) -> None"},
	{"_usage", Store_usage, METH_NOARGS, "_usage() -> dict[str, int]"},
	{"_prune", FN(Store_prune), KW, "_prune($self, /, *, max_bytes=0, keep_duration_ns=0, kinds=0, id_glob=None, dry_run=False,"
		" blob_grace_ns=600000000000, callback=None)\n--\n\n"},
	{"_verify", FN(Store_verify), KW, "_verify($self, /, *, repair=False, callback=None)\n--\n\n"},
	{"_export", FN(Store_export), KW, "_export($self, /, path, *, mounts=None, all_mounts=False, actions=False, actions_glob=None,"
		" refs=False, base=None, manifest_out=None, compression_level=0, threads=0, lock_timeout=600.0)\n--\n\n"},
	{"_import", FN(Store_import), KW, "_import($self, /, path, *, max_entry_size=0, max_total_size=0, max_entries=0, lock_timeout=600.0)\n--\n\n"},
	{"mount", FN(Store_mount), KW,
		"mount($self, /, id, sharing='shared', *, timeout=600.0)\n--\n\n"
		"Acquires a cache mount; a context manager yielding its pathlib.Path. timeout in seconds\n"
		"(None = forever, 0 = do not wait); Locked when it passes."},
	{"_mounts", FN(Store_mounts), KW, "_mounts($self, /, *, with_sizes=False)\n--\n\n"},
	{"mount_remove", FN(Store_mount_remove), KW, "mount_remove($self, /, id, *, timeout=600.0)\n--\n\n"},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Store_getset[] = {
	{"path", Store_get_path, NULL, "The store's root directory (pathlib.Path).", NULL},
	{"closed", Store_get_closed, NULL, "True after close().", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Store_doc,
	"Store(path=None, *, create=True, fsync=False)\n--\n\n"
	"An open cache store. path None means $GOACCEL_CACHE, $XDG_CACHE_HOME/goaccel or\n"
	"~/.cache/goaccel. A context manager: the with block closes it. Thread-safe.");

static PyType_Slot Store_slots[] = {
	{Py_tp_doc, (void *)Store_doc},
	{Py_tp_new, Store_new},
	{Py_tp_dealloc, Store_dealloc},
	{Py_tp_methods, Store_methods},
	{Py_tp_getset, Store_getset},
	{0, NULL},
};

static PyType_Spec Store_spec = {
	.name = "goaccel._goaccel.Store",
	.basicsize = sizeof(ga_py_store),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = Store_slots,
};

static PyMethodDef store_functions[] = {
	{"store_default_root", default_root, METH_NOARGS,
		"store_default_root($module, /)\n--\n\nThe store root used when Store() gets no path."},
	{NULL, NULL, 0, NULL},
};

int ga_py_store_init(PyObject *module, ga_py_state *st)
{
	if (ga_py_add_type(module, &Store_spec, NULL, &st->StoreType) < 0)
		return -1;
	return PyModule_AddFunctions(module, store_functions);
}
