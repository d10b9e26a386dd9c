/*
 * goaccel.Image — the OCI image builder (goaccel/image.h). Setters return the image so calls
 * chain. Adding layers and writing the image read and write files: the GIL is released, and a
 * busy flag keeps a second thread off the handle meanwhile (an image is one-thread-at-a-time).
 */
#include "goaccel_py.h"

typedef struct {
	PyObject_HEAD
	goaccel_image *img;
	int busy;
	ga_py_store *store; /* the layer-cache store (a strong reference and one use), or NULL */
} ga_py_image;

#define IMG(obj) (((ga_py_image *)(obj))->img)

static int image_acquire(PyObject *obj)
{
	ga_py_image *self = (ga_py_image *)obj;
	if (self->busy) {
		PyErr_SetString(PyExc_RuntimeError, "goaccel.Image is in use by another thread");
		return -1;
	}
	self->busy = 1;
	return 0;
}

static void image_release(PyObject *obj)
{
	((ga_py_image *)obj)->busy = 0;
}

static PyObject *Image_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"layer_cache", "source_date_epoch", "gzip_level", "os", "architecture", "variant",
		"store", "threads", NULL};
	ga_py_state *st = ga_py_state_of_type(type);
	goaccel_image_options opts = GOACCEL_IMAGE_OPTIONS_INIT;
	PyObject *cache = NULL, *epoch = Py_None, *store = Py_None;
	ga_py_image *self = NULL;
	goaccel_image *img = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "|$O&OizzzOI:Image", kwlist,
		    ga_py_optional_path_converter, &cache, &epoch, &opts.gzip_level, &opts.os, &opts.architecture,
		    &opts.variant, &store, &opts.threads))
		return NULL;
	if (epoch != Py_None) {
		opts.source_date_epoch = PyLong_AsLongLong(epoch);
		if (opts.source_date_epoch == -1 && PyErr_Occurred())
			goto fail;
	}
	if (store != Py_None && !PyObject_TypeCheck(store, st->StoreType)) {
		PyErr_Format(PyExc_TypeError, "store must be a goaccel.Store, not %.100s", Py_TYPE(store)->tp_name);
		goto fail;
	}
	if ((self = (ga_py_image *)type->tp_alloc(type, 0)) == NULL)
		goto fail;
	/* The library borrows the store for the image's life: hold it open and alive until then. */
	if (store != Py_None) {
		if (ga_py_store_enter((ga_py_store *)store) < 0)
			goto fail;
		self->store = (ga_py_store *)Py_NewRef(store);
		opts.store = self->store->store;
	}
	opts.layer_cache = ga_py_path_str(cache);
	GA_PY_NOGIL(rc = goaccel_image_new(&img, &opts));
	Py_CLEAR(cache);
	if (rc < 0) {
		ga_py_raise(st, rc);
		goto fail;
	}
	self->img = img;
	return (PyObject *)self;
fail:
	Py_XDECREF(cache);
	Py_XDECREF(self); /* Image_dealloc gives the store back */
	return NULL;
}

static void Image_dealloc(PyObject *obj)
{
	PyTypeObject *tp = Py_TYPE(obj);
	ga_py_image *self = (ga_py_image *)obj;
	goaccel_image *img = self->img;
	GA_PY_NOGIL(goaccel_image_free(img)); /* removes temporary files, releases the store's mount */
	if (self->store) {
		ga_py_store_leave(self->store);
		Py_DECREF(self->store);
	}
	tp->tp_free(obj);
	Py_DECREF(tp);
}

/* Finishes a setter: self on success, the exception otherwise. */
static PyObject *chain(PyObject *obj, ga_py_state *st, int rc)
{
	if (rc < 0)
		return ga_py_raise(st, rc);
	return Py_NewRef(obj);
}

static PyObject *Image_set_base(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"layout_dir", "ref", NULL};
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	PyObject *dir = NULL, *result = NULL;
	const char *ref = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&|z:set_base", kwlist, ga_py_path_converter, &dir, &ref))
		return NULL;
	if (image_acquire(obj) == 0) {
		GA_PY_NOGIL(rc = goaccel_image_set_base(IMG(obj), PyBytes_AS_STRING(dir), ref));
		image_release(obj);
		result = chain(obj, st, rc);
	}
	Py_DECREF(dir);
	return result;
}

static PyObject *Image_add_layer_dir(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"root", "prefix", "uid", "gid", "keep_modes", "xattrs", "created_by", "comment", NULL};
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	goaccel_layer_options opts = GOACCEL_LAYER_OPTIONS_INIT;
	PyObject *root = NULL, *uid = NULL, *gid = NULL, *result = NULL;
	int keep_modes = 0, rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$zOOppzz:add_layer_dir", kwlist,
		    ga_py_path_converter, &root, &opts.prefix, &uid, &gid, &keep_modes, &opts.xattrs, &opts.created_by,
		    &opts.comment))
		return NULL;
	/* uid/gid: an int, or None to keep the files' own ids. */
	if (uid) {
		opts.uid = uid == Py_None ? GOACCEL_LAYER_KEEP_OWNER : PyLong_AsLongLong(uid);
		if (opts.uid == -1 && PyErr_Occurred())
			goto done;
	}
	if (gid) {
		opts.gid = gid == Py_None ? GOACCEL_LAYER_KEEP_OWNER : PyLong_AsLongLong(gid);
		if (opts.gid == -1 && PyErr_Occurred())
			goto done;
	}
	opts.mode = keep_modes ? GOACCEL_LAYER_MODE_KEEP : GOACCEL_LAYER_MODE_NORMALIZE;
	if (image_acquire(obj) == 0) {
		GA_PY_NOGIL(rc = goaccel_image_add_layer_dir(IMG(obj), PyBytes_AS_STRING(root), &opts));
		image_release(obj);
		result = chain(obj, st, rc);
	}
done:
	Py_DECREF(root);
	return result;
}

static PyObject *argv_setter(PyObject *obj, PyObject *arg, int (*fn)(goaccel_image *, const char *const *, size_t))
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	ga_py_strlist argv = {0};
	PyObject *result = NULL;
	if (st == NULL || !ga_py_strlist_converter(arg, &argv))
		return NULL;
	if (image_acquire(obj) == 0) {
		result = chain(obj, st, fn(IMG(obj), argv.strings, argv.count));
		image_release(obj);
	}
	ga_py_strlist_dispose(&argv);
	return result;
}

static PyObject *Image_set_entrypoint(PyObject *obj, PyObject *arg)
{
	return argv_setter(obj, arg, goaccel_image_set_entrypoint);
}

static PyObject *Image_set_cmd(PyObject *obj, PyObject *arg)
{
	return argv_setter(obj, arg, goaccel_image_set_cmd);
}

/* set_env(name, value) and set_label(key, value): value None removes. */
static PyObject *pair_setter(PyObject *obj, PyObject *args, const char *format,
	int (*fn)(goaccel_image *, const char *, const char *))
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	const char *name, *value;
	PyObject *result;
	if (st == NULL || !PyArg_ParseTuple(args, format, &name, &value) || image_acquire(obj) < 0)
		return NULL;
	result = chain(obj, st, fn(IMG(obj), name, value));
	image_release(obj);
	return result;
}

static PyObject *Image_set_env(PyObject *obj, PyObject *args)
{
	return pair_setter(obj, args, "sz:set_env", goaccel_image_set_env);
}

static PyObject *Image_set_label(PyObject *obj, PyObject *args)
{
	return pair_setter(obj, args, "sz:set_label", goaccel_image_set_label);
}

static PyObject *string_setter(PyObject *obj, PyObject *arg, int (*fn)(goaccel_image *, const char *))
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	const char *s = NULL;
	PyObject *result;
	if (st == NULL)
		return NULL;
	if (arg != Py_None && (s = PyUnicode_AsUTF8(arg)) == NULL)
		return NULL;
	if (image_acquire(obj) < 0)
		return NULL;
	result = chain(obj, st, fn(IMG(obj), s));
	image_release(obj);
	return result;
}

static PyObject *Image_set_workdir(PyObject *obj, PyObject *arg)
{
	return string_setter(obj, arg, goaccel_image_set_workdir);
}

static PyObject *Image_set_user(PyObject *obj, PyObject *arg)
{
	return string_setter(obj, arg, goaccel_image_set_user);
}

static PyObject *Image_add_port(PyObject *obj, PyObject *arg)
{
	PyObject *str, *result;
	/* 8080 as an int is fine too. */
	if ((str = PyObject_Str(arg)) == NULL)
		return NULL;
	result = string_setter(obj, str, goaccel_image_add_port);
	Py_DECREF(str);
	return result;
}

static PyObject *Image_set_platform(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"goos", "goarch", "variant", NULL};
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	const char *goos, *goarch, *variant = NULL;
	PyObject *result;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss|z:set_platform", kwlist, &goos, &goarch, &variant) ||
	    image_acquire(obj) < 0)
		return NULL;
	result = chain(obj, st, goaccel_image_set_platform(IMG(obj), goos, goarch, variant));
	image_release(obj);
	return result;
}

static PyObject *Image_config_json(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	char *json = NULL;
	int rc;
	if (st == NULL || image_acquire(obj) < 0)
		return NULL;
	rc = goaccel_image_config_json(&json, IMG(obj));
	image_release(obj);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_take_string(json);
}

static PyObject *Image_layers(PyObject *obj, PyObject *unused)
{
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	PyObject *list;
	size_t i, n;
	if (st == NULL || image_acquire(obj) < 0)
		return NULL;
	n = goaccel_image_layercount(IMG(obj));
	if ((list = PyList_New((Py_ssize_t)n)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		goaccel_layer_info li;
		PyObject *t;
		int rc = goaccel_image_layer_info(&li, IMG(obj), i);
		if (rc < 0) {
			ga_py_raise(st, rc);
			Py_CLEAR(list);
			goto done;
		}
		t = Py_BuildValue("(NNKNNN)", ga_py_digest_new(st, &li.digest), ga_py_digest_new(st, &li.diff_id),
			(unsigned long long)li.size, ga_py_str_or_none(li.media_type), PyBool_FromLong(li.from_base),
			PyBool_FromLong(li.cache_hit));
		if (t == NULL) {
			Py_CLEAR(list);
			goto done;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
done:
	image_release(obj);
	return list;
}

static PyObject *Image_write_oci(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"dir", "ref", NULL};
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	PyObject *dir = NULL, *result = NULL;
	const char *ref = NULL;
	goaccel_digest d;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&|z:write_oci", kwlist, ga_py_path_converter, &dir, &ref))
		return NULL;
	if (image_acquire(obj) == 0) {
		GA_PY_NOGIL(rc = goaccel_image_write_oci(&d, IMG(obj), PyBytes_AS_STRING(dir), ref));
		image_release(obj);
		result = rc < 0 ? ga_py_raise(st, rc) : ga_py_digest_new(st, &d);
	}
	Py_DECREF(dir);
	return result;
}

static PyObject *Image_write_docker_archive(PyObject *obj, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", "tag", NULL};
	ga_py_state *st = ga_py_state_of_type(Py_TYPE(obj));
	PyObject *path = NULL, *result = NULL;
	const char *tag = NULL;
	int rc;
	if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&|z:write_docker_archive", kwlist,
		    ga_py_path_converter, &path, &tag))
		return NULL;
	if (image_acquire(obj) == 0) {
		GA_PY_NOGIL(rc = goaccel_image_write_docker_archive(IMG(obj), PyBytes_AS_STRING(path), tag));
		image_release(obj);
		result = rc < 0 ? ga_py_raise(st, rc) : Py_NewRef(Py_None);
	}
	Py_DECREF(path);
	return result;
}

PyDoc_STRVAR(write_layer_tar_doc,
	"write_layer_tar($module, /, tar_path, root, *, source_date_epoch=None, prefix=None, uid=0, gid=0,"
	" keep_modes=False, xattrs=False)\n--\n\n"
	"Writes the deterministic uncompressed layer tar of root; returns its digest (the diff_id).");

static PyObject *write_layer_tar(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"tar_path", "root", "source_date_epoch", "prefix", "uid", "gid", "keep_modes", "xattrs", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	goaccel_layer_options opts = GOACCEL_LAYER_OPTIONS_INIT;
	PyObject *tar = NULL, *root = NULL, *epoch = Py_None, *result = NULL;
	long long uid = 0, gid = 0, e = GOACCEL_IMAGE_EPOCH_FROM_ENV;
	int keep_modes = 0, rc;
	goaccel_digest d;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&|$OzLLpp:write_layer_tar", kwlist, ga_py_path_converter, &tar,
		    ga_py_path_converter, &root, &epoch, &opts.prefix, &uid, &gid, &keep_modes, &opts.xattrs))
		return NULL;
	if (epoch != Py_None && (e = PyLong_AsLongLong(epoch)) == -1 && PyErr_Occurred())
		goto done;
	opts.uid = uid;
	opts.gid = gid;
	opts.mode = keep_modes ? GOACCEL_LAYER_MODE_KEEP : GOACCEL_LAYER_MODE_NORMALIZE;
	GA_PY_NOGIL(rc = goaccel_image_write_layer_tar(&d, PyBytes_AS_STRING(tar), PyBytes_AS_STRING(root), e, &opts));
	result = rc < 0 ? ga_py_raise(st, rc) : ga_py_digest_new(st, &d);
done:
	Py_DECREF(tar);
	Py_DECREF(root);
	return result;
}

#define KW (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef Image_methods[] = {
	{"set_base", FN(Image_set_base), KW, "set_base($self, /, layout_dir, ref=None)\n--\n\nStarts from an OCI layout's image."},
	{"add_layer_dir", FN(Image_add_layer_dir), KW,
		"add_layer_dir($self, /, root, *, prefix=None, uid=0, gid=0, keep_modes=False, xattrs=False,"
		" created_by=None, comment=None)\n--\n\n"
		"Adds a deterministic layer holding the tree under root (uid/gid None: the files' own)."},
	{"set_entrypoint", Image_set_entrypoint, METH_O, "set_entrypoint(argv) -> Image"},
	{"set_cmd", Image_set_cmd, METH_O, "set_cmd(argv) -> Image"},
	{"set_env", Image_set_env, METH_VARARGS, "set_env(name, value | None) -> Image"},
	{"set_label", Image_set_label, METH_VARARGS, "set_label(key, value | None) -> Image"},
	{"set_workdir", Image_set_workdir, METH_O, "set_workdir(dir | None) -> Image"},
	{"set_user", Image_set_user, METH_O, "set_user(user | None) -> Image"},
	{"add_port", Image_add_port, METH_O, "add_port(port) -> Image\n\n\"8080\", \"8080/tcp\", \"53/udp\" or 8080."},
	{"set_platform", FN(Image_set_platform), KW, "set_platform($self, /, goos, goarch, variant=None)\n--\n\n"},
	{"config_json", Image_config_json, METH_NOARGS, "config_json() -> str\n\nThe config as it would be written."},
	{"_layers", Image_layers, METH_NOARGS,
		"_layers() -> list[tuple[Digest, Digest, int, str, bool, bool]]\n\n"
		"(digest, diff_id, size, media_type, from_base, cache_hit) per layer, bottom first."},
	{"write_oci", FN(Image_write_oci), KW, "write_oci($self, /, dir, ref=None)\n--\n\nWrites an OCI layout; the manifest digest."},
	{"write_docker_archive", FN(Image_write_docker_archive), KW, "write_docker_archive($self, /, path, tag=None)\n--\n\n"},
	{NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Image_doc,
	"Image(*, layer_cache=None, source_date_epoch=None, gzip_level=6, os=None, architecture=None,"
	" variant=None, store=None, threads=0)\n--\n\n"
	"A reproducible OCI image under construction (scratch until set_base()). source_date_epoch\n"
	"None reads $SOURCE_DATE_EPOCH (or 0). layer_cache: a directory, or store: a goaccel.Store\n"
	"(kept open while the image lives) for the layer cache. threads: compression threads (0 =\n"
	"the CPUs). Setters return the image, so calls chain.");

static PyType_Slot Image_slots[] = {
	{Py_tp_doc, (void *)Image_doc},
	{Py_tp_new, Image_new},
	{Py_tp_dealloc, Image_dealloc},
	{Py_tp_methods, Image_methods},
	{0, NULL},
};

static PyType_Spec Image_spec = {
	.name = "goaccel._goaccel.Image",
	.basicsize = sizeof(ga_py_image),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = Image_slots,
};

static PyMethodDef image_functions[] = {
	{"write_layer_tar", FN(write_layer_tar), KW, write_layer_tar_doc},
	{NULL, NULL, 0, NULL},
};

int ga_py_image_init(PyObject *module, ga_py_state *st)
{
	if (ga_py_add_type(module, &Image_spec, NULL, &st->ImageType) < 0)
		return -1;
	return PyModule_AddFunctions(module, image_functions);
}
