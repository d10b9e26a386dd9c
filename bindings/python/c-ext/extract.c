/*
 * extract() — `COPY --from` between two directory trees (goaccel/extract.h). Copies files:
 * the GIL is released.
 */
#include "goaccel_py.h"

static int int64_or_keep(PyObject *obj, int64_t *out)
{
	long long v;
	if (obj == Py_None) {
		*out = GOACCEL_EXTRACT_KEEP;
		return 0;
	}
	v = PyLong_AsLongLong(obj);
	if (v == -1 && PyErr_Occurred())
		return -1;
	*out = v;
	return 0;
}

/* items: iterable of (src, dst, uid | None, gid | None, mode | None). */
static int parse_items(PyObject *iterable, goaccel_extract_item **items, size_t *n, PyObject **owner)
{
	PyObject *seq = PySequence_Fast(iterable, "items must be an iterable of tuples"), *keep = NULL;
	Py_ssize_t i, count;
	*items = NULL;
	*n = 0;
	*owner = NULL;
	if (seq == NULL)
		return -1;
	count = PySequence_Fast_GET_SIZE(seq);
	if ((keep = PyList_New(0)) == NULL)
		goto fail;
	if ((*items = PyMem_Calloc((size_t)count + 1, sizeof(**items))) == NULL) {
		PyErr_NoMemory();
		goto fail;
	}
	for (i = 0; i < count; i++) {
		PyObject *src = NULL, *dst = NULL, *uid, *gid, *mode;
		goaccel_extract_item *it = &(*items)[i];
		int64_t m;
		if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "O&O&OOO:items", PyUnicode_FSConverter, &src,
			    PyUnicode_FSConverter, &dst, &uid, &gid, &mode))
			goto fail;
		if (PyList_Append(keep, src) < 0 || PyList_Append(keep, dst) < 0) {
			Py_DECREF(src);
			Py_DECREF(dst);
			goto fail;
		}
		it->src = PyBytes_AS_STRING(src);
		it->dst = PyBytes_AS_STRING(dst);
		Py_DECREF(src); /* the list keeps them */
		Py_DECREF(dst);
		if (int64_or_keep(uid, &it->uid) < 0 || int64_or_keep(gid, &it->gid) < 0 || int64_or_keep(mode, &m) < 0)
			goto fail;
		if (m != GOACCEL_EXTRACT_KEEP && (m < 0 || m > 07777)) {
			PyErr_Format(PyExc_ValueError, "mode %lld is not a permission mode (0..0o7777)", (long long)m);
			goto fail;
		}
		it->mode = (int)m;
	}
	Py_DECREF(seq);
	*n = (size_t)count;
	*owner = keep;
	return 0;
fail:
	Py_DECREF(seq);
	Py_XDECREF(keep);
	PyMem_Free(*items);
	*items = NULL;
	return -1;
}

PyDoc_STRVAR(extract_doc,
	"extract($module, /, dst_root, src_root, items, *, source_date_epoch=None, mtime=3, parent_mode=493,"
	" parent_uid=0, parent_gid=0, xattrs=True, strict_owner=False, overwrite=True)\n--\n\n"
	"Copies items [(src, dst, uid | None, gid | None, mode | None)] from src_root into dst_root\n"
	"with `COPY --from` semantics. Use goaccel.extract() for the documented interface.");

static PyObject *extract(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"dst_root", "src_root", "items", "source_date_epoch", "mtime", "parent_mode",
		"parent_uid", "parent_gid", "xattrs", "strict_owner", "overwrite", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	goaccel_extract_options opts = GOACCEL_EXTRACT_OPTIONS_INIT;
	PyObject *dst = NULL, *src = NULL, *items_obj, *epoch = Py_None, *puid = NULL, *pgid = NULL;
	PyObject *owner = NULL, *result = NULL;
	goaccel_extract_item *items = NULL;
	int mtime = GOACCEL_EXTRACT_MTIME_DEFAULT, rc;
	size_t n = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&O|$OiIOOppp:extract", kwlist, ga_py_path_converter, &dst,
		    ga_py_path_converter, &src, &items_obj, &epoch, &mtime, &opts.parent_mode, &puid, &pgid,
		    &opts.xattrs, &opts.strict_owner, &opts.overwrite))
		return NULL;
	if (epoch != Py_None) {
		opts.source_date_epoch = PyLong_AsLongLong(epoch);
		if (opts.source_date_epoch == -1 && PyErr_Occurred())
			goto done;
	}
	opts.mtime = (goaccel_extract_mtime)mtime;
	if ((puid && int64_or_keep(puid, &opts.parent_uid) < 0) || (pgid && int64_or_keep(pgid, &opts.parent_gid) < 0))
		goto done;
	if (parse_items(items_obj, &items, &n, &owner) < 0)
		goto done;
	GA_PY_NOGIL(rc = goaccel_extract(PyBytes_AS_STRING(dst), PyBytes_AS_STRING(src), items, n, &opts));
	result = rc < 0 ? ga_py_raise(st, rc) : Py_NewRef(Py_None);
done:
	PyMem_Free(items);
	Py_XDECREF(owner);
	Py_DECREF(dst);
	Py_DECREF(src);
	return result;
}

static PyMethodDef extract_functions[] = {
	{"extract", (PyCFunction)(void (*)(void))extract, METH_VARARGS | METH_KEYWORDS, extract_doc},
	{NULL, NULL, 0, NULL},
};

int ga_py_extract_init(PyObject *module, ga_py_state *st)
{
	return PyModule_AddFunctions(module, extract_functions);
}
