/*
 * Tree digests and manifests (goaccel/hash.h): _goaccel.hash() behind goaccel.hash_tree(),
 * hash_paths() and Manifest.of_tree(); the Manifest type (entries, JSON, save/load, diff).
 * Hashing reads files (and may use several threads): the GIL is released around it.
 */
#include "goaccel_py.h"

typedef struct {
	PyObject_HEAD
	goaccel_manifest *manifest;
} ga_py_manifest;

static PyObject *manifest_wrap(ga_py_state *st, PyTypeObject *type, goaccel_manifest *m)
{
	ga_py_manifest *self = (ga_py_manifest *)type->tp_alloc(type, 0);
	if (self == NULL) {
		goaccel_manifest_free(m);
		return NULL;
	}
	self->manifest = m;
	return (PyObject *)self;
}

/* (path, type 1 file/2 symlink, exec, size, digest, link_target | None) */
static PyObject *entry_tuple(ga_py_state *st, const goaccel_manifest_entry *e)
{
	if (e == NULL)
		Py_RETURN_NONE;
	return Py_BuildValue("(NiNKNN)", ga_py_fsdecode(e->path), (int)e->type, PyBool_FromLong(e->exec),
		(unsigned long long)e->size, ga_py_digest_new(st, &e->digest), ga_py_str_or_none(e->link_target));
}

/* ---- _goaccel.hash ----------------------------------------------------------------------- */

static PyObject *stats_dict(const goaccel_hash_stats *s)
{
	PyObject *d = ga_py_u64_dict("entries", s->entries, "dirs", s->dirs, "excluded", s->excluded,
		"files_hashed", s->files_hashed, "bytes_hashed", s->bytes_hashed, "cache_hits", s->cache_hits,
		"cache_racy", s->cache_racy, "cache_loaded", (uint64_t)s->cache_loaded,
		"cache_rejected", (uint64_t)s->cache_rejected, "cache_written", (uint64_t)s->cache_written,
		(const char *)NULL);
	return d;
}

PyDoc_STRVAR(hash_doc,
	"hash($module, /, root, relpaths=None, *, exclude=None, ignore_file=None, gitignore=False,"
	" git_global_excludes=False, stat_cache=None, threads=0, follow_symlinks=False, manifest=False)\n--\n\n"
	"-> tuple[Digest, Manifest | None, dict[str, int]]\n\n"
	"goaccel_hash_tree() (relpaths None) or goaccel_hash_paths(); returns the digest, the\n"
	"manifest when asked for, and the call's counters. Use goaccel.hash_tree() instead.");

static PyObject *hash(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"root", "relpaths", "exclude", "ignore_file", "gitignore",
		"git_global_excludes", "stat_cache", "threads", "follow_symlinks", "manifest", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	PyObject *root = NULL, *ignore_file = NULL, *stat_cache = NULL, *relpaths_obj = Py_None;
	PyObject *result = NULL, *mobj = NULL;
	ga_py_strlist exclude = {0}, relpaths = {0};
	int gitignore = 0, git_global = 0, follow = 0, want_manifest = 0, rc;
	unsigned int threads = 0;
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats stats = {0};
	goaccel_manifest *m = NULL;
	goaccel_digest d;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O$O&O&ppO&Ipp:hash", kwlist,
		    ga_py_path_converter, &root, &relpaths_obj, ga_py_strlist_converter, &exclude,
		    ga_py_optional_path_converter, &ignore_file, &gitignore, &git_global,
		    ga_py_optional_path_converter, &stat_cache, &threads, &follow, &want_manifest))
		return NULL;
	if (relpaths_obj != Py_None && !ga_py_strlist_converter(relpaths_obj, &relpaths))
		goto done;

	opts.exclude = exclude.strings;
	opts.exclude_count = exclude.count;
	opts.ignore_file = ga_py_path_str(ignore_file);
	opts.gitignore = gitignore;
	opts.git_global_excludes = git_global;
	opts.stat_cache = ga_py_path_str(stat_cache);
	opts.threads = threads;
	opts.follow_symlinks = follow;
	opts.stats = &stats;

	if (relpaths_obj == Py_None)
		GA_PY_NOGIL(rc = goaccel_hash_tree(&d, want_manifest ? &m : NULL, PyBytes_AS_STRING(root), &opts));
	else
		GA_PY_NOGIL(rc = goaccel_hash_paths(&d, want_manifest ? &m : NULL, PyBytes_AS_STRING(root),
			relpaths.strings, relpaths.count, &opts));
	if (rc < 0) {
		ga_py_raise(st, rc);
		goto done;
	}
	if (m) {
		if ((mobj = manifest_wrap(st, st->ManifestType, m)) == NULL)
			goto done;
	} else {
		mobj = Py_NewRef(Py_None);
	}
	result = Py_BuildValue("(NON)", ga_py_digest_new(st, &d), mobj, stats_dict(&stats));
done:
	Py_XDECREF(mobj);
	Py_XDECREF(root);
	Py_XDECREF(ignore_file);
	Py_XDECREF(stat_cache);
	ga_py_strlist_dispose(&exclude);
	ga_py_strlist_dispose(&relpaths);
	return result;
}

/* ---- Manifest ---------------------------------------------------------------------------- */

static ga_py_state *manifest_state(PyObject *self)
{
	return ga_py_state_of_type(Py_TYPE(self));
}

static goaccel_manifest *M(PyObject *self)
{
	return ((ga_py_manifest *)self)->manifest;
}

static PyObject *Manifest_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	PyErr_SetString(PyExc_TypeError,
		"goaccel.Manifest cannot be created directly: use Manifest.of_tree(), from_json() or load()");
	return NULL;
}

static void Manifest_dealloc(PyObject *obj)
{
	PyTypeObject *tp = Py_TYPE(obj);
	goaccel_manifest_free(M(obj));
	tp->tp_free(obj);
	Py_DECREF(tp);
}

static Py_ssize_t Manifest_len(PyObject *self)
{
	return (Py_ssize_t)goaccel_manifest_entrycount(M(self));
}

static PyObject *Manifest_entry(PyObject *self, PyObject *arg)
{
	ga_py_state *st = manifest_state(self);
	Py_ssize_t i = PyNumber_AsSsize_t(arg, PyExc_IndexError);
	Py_ssize_t n = (Py_ssize_t)goaccel_manifest_entrycount(M(self));
	if (st == NULL || (i == -1 && PyErr_Occurred()))
		return NULL;
	if (i < 0)
		i += n;
	if (i < 0 || i >= n) {
		PyErr_SetString(PyExc_IndexError, "manifest index out of range");
		return NULL;
	}
	return entry_tuple(st, goaccel_manifest_entry_byindex(M(self), (size_t)i));
}

static PyObject *Manifest_find(PyObject *self, PyObject *arg)
{
	ga_py_state *st = manifest_state(self);
	PyObject *path = NULL, *result;
	if (st == NULL || !PyUnicode_FSConverter(arg, &path))
		return NULL;
	result = entry_tuple(st, goaccel_manifest_entry_bypath(M(self), PyBytes_AS_STRING(path)));
	Py_DECREF(path);
	return result;
}

static PyObject *Manifest_get_digest(PyObject *self, void *closure)
{
	ga_py_state *st = manifest_state(self);
	if (st == NULL)
		return NULL;
	return ga_py_digest_or_none(st, goaccel_manifest_digest(M(self)));
}

static PyObject *Manifest_to_json(PyObject *self, PyObject *unused)
{
	ga_py_state *st = manifest_state(self);
	char *json = NULL;
	int rc;
	if (st == NULL)
		return NULL;
	if ((rc = goaccel_manifest_to_json(&json, M(self))) < 0)
		return ga_py_raise(st, rc);
	return ga_py_take_string(json);
}

static PyObject *Manifest_from_json(PyObject *cls, PyObject *arg)
{
	ga_py_state *st = ga_py_state_of_type((PyTypeObject *)cls);
	goaccel_manifest *m = NULL;
	Py_buffer view;
	PyObject *bytes = NULL;
	int rc;
	if (st == NULL)
		return NULL;
	if (PyUnicode_Check(arg)) {
		if ((bytes = PyUnicode_AsUTF8String(arg)) == NULL)
			return NULL;
		arg = bytes;
	}
	if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
		Py_XDECREF(bytes);
		return NULL;
	}
	rc = goaccel_manifest_from_json(&m, view.buf, (size_t)view.len);
	PyBuffer_Release(&view);
	Py_XDECREF(bytes);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return manifest_wrap(st, (PyTypeObject *)cls, m);
}

static PyObject *Manifest_save(PyObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", NULL};
	ga_py_state *st = manifest_state(self);
	PyObject *path = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&:save", kwlist, ga_py_path_converter, &path))
		return NULL;
	GA_PY_NOGIL(rc = goaccel_manifest_save(M(self), PyBytes_AS_STRING(path)));
	Py_DECREF(path);
	if (rc < 0)
		return ga_py_raise(st, rc);
	Py_RETURN_NONE;
}

static PyObject *Manifest_load(PyObject *cls, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", NULL};
	ga_py_state *st = ga_py_state_of_type((PyTypeObject *)cls);
	PyObject *path = NULL;
	goaccel_manifest *m = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&:load", kwlist, ga_py_path_converter, &path))
		return NULL;
	GA_PY_NOGIL(rc = goaccel_manifest_load(&m, PyBytes_AS_STRING(path)));
	Py_DECREF(path);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return manifest_wrap(st, (PyTypeObject *)cls, m);
}

/* self is the old manifest: (list of (path, change flags, old entry | None, new entry | None), text). */
static PyObject *Manifest_diff(PyObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"new", "text_limit", NULL};
	ga_py_state *st = manifest_state(self);
	goaccel_manifest_changes *changes = NULL;
	PyObject *other, *list = NULL, *result = NULL;
	Py_ssize_t limit = 0;
	char *text = NULL;
	size_t i, n;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O!|n:diff", kwlist, st->ManifestType,
		    &other, &limit))
		return NULL;
	if (limit < 0) {
		PyErr_SetString(PyExc_ValueError, "text_limit must be >= 0");
		return NULL;
	}
	if ((rc = goaccel_manifest_diff(&changes, M(self), M(other))) < 0)
		return ga_py_raise(st, rc);
	if ((rc = goaccel_manifest_changes_to_text(&text, changes, (size_t)limit)) < 0) {
		ga_py_raise(st, rc);
		goto done;
	}
	n = goaccel_manifest_changes_count(changes);
	if ((list = PyList_New((Py_ssize_t)n)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		const goaccel_manifest_change *c = goaccel_manifest_changes_byindex(changes, i);
		PyObject *t = Py_BuildValue("(NINN)", ga_py_fsdecode(c->path), c->change,
			entry_tuple(st, c->old_entry), entry_tuple(st, c->new_entry));
		if (t == NULL)
			goto done;
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
	result = Py_BuildValue("(ON)", list, ga_py_fsdecode(text));
done:
	Py_XDECREF(list);
	goaccel_free(text);
	goaccel_manifest_changes_free(changes);
	return result;
}

static PyMethodDef Manifest_methods[] = {
	{"entry", Manifest_entry, METH_O,
		"entry(i) -> tuple[str, int, bool, int, Digest, str | None]\n\n"
		"Entry i in path order: (path, type 1 file/2 symlink, exec, size, digest, link_target)."},
	{"find", Manifest_find, METH_O, "find(path) -> entry tuple | None\n\nThe entry with that path."},
	{"to_json", Manifest_to_json, METH_NOARGS, "to_json() -> str\n\nThe JSON form (docs/hashing.md)."},
	{"from_json", Manifest_from_json, METH_O | METH_CLASS,
		"from_json(json: str | bytes) -> Manifest\n\nParses and validates the JSON form."},
	{"save", (PyCFunction)(void (*)(void))Manifest_save, METH_VARARGS | METH_KEYWORDS,
		"save($self, /, path)\n--\n\nWrites the JSON form atomically."},
	{"load", (PyCFunction)(void (*)(void))Manifest_load, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
		"load($type, /, path)\n--\n\nReads a manifest written by save()."},
	{"_diff", (PyCFunction)(void (*)(void))Manifest_diff, METH_VARARGS | METH_KEYWORDS,
		"_diff($self, /, new, text_limit=0)\n--\n\nThe changes from self (old) to new."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Manifest_getset[] = {
	{"digest", Manifest_get_digest, NULL, "The tree digest of the entries.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Manifest_doc,
	"The per-entry list behind a tree digest. Immutable. Made by Manifest.of_tree(),\n"
	"from_json() or load().");

static PyType_Slot Manifest_slots[] = {
	{Py_tp_doc, (void *)Manifest_doc},
	{Py_tp_new, Manifest_new},
	{Py_tp_dealloc, Manifest_dealloc},
	{Py_tp_methods, Manifest_methods},
	{Py_tp_getset, Manifest_getset},
	{Py_sq_length, Manifest_len},
	{0, NULL},
};

static PyType_Spec Manifest_spec = {
	.name = "goaccel._goaccel.Manifest",
	.basicsize = sizeof(ga_py_manifest),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = Manifest_slots,
};

static PyMethodDef hash_functions[] = {
	{"hash", (PyCFunction)(void (*)(void))hash, METH_VARARGS | METH_KEYWORDS, hash_doc},
	{NULL, NULL, 0, NULL},
};

int ga_py_hash_init(PyObject *module, ga_py_state *st)
{
	if (ga_py_add_type(module, &Manifest_spec, NULL, &st->ManifestType) < 0)
		return -1;
	return PyModule_AddFunctions(module, hash_functions);
}
