/*
 * goaccel._goaccel — the module: multi-phase initialisation, the import-time version check,
 * goaccel_init()/goaccel_shutdown(), and the small conversions every wrapper uses.
 */
#include "goaccel_py.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

/* ---- state lookup ------------------------------------------------------------------------ */

ga_py_state *ga_py_state_of_type(PyTypeObject *type)
{
#if PY_VERSION_HEX >= 0x030B0000
	PyObject *module = PyType_GetModuleByDef(type, &ga_py_module_def);
#else
	/* PyType_GetModuleByDef is 3.11+: walk the MRO for the first heap type of this module. */
	PyObject *module = NULL;
	PyObject *mro = type->tp_mro;
	for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
		PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
		if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE))
			continue;
		module = PyType_GetModule(base);
		if (module && PyModule_GetDef(module) == &ga_py_module_def)
			break;
		PyErr_Clear();
		module = NULL;
	}
	if (module == NULL)
		PyErr_SetString(PyExc_TypeError, "goaccel: type does not belong to goaccel._goaccel");
#endif
	return module ? ga_py_state_of_module(module) : NULL;
}

int ga_py_add_type(PyObject *module, PyType_Spec *spec, PyObject *base, PyTypeObject **slot)
{
	PyObject *type = PyType_FromModuleAndSpec(module, spec, base);
	const char *dot;
	if (type == NULL)
		return -1;
	dot = strrchr(spec->name, '.');
	if (PyModule_AddObjectRef(module, dot ? dot + 1 : spec->name, type) < 0) {
		Py_DECREF(type);
		return -1;
	}
	*slot = (PyTypeObject *)type;
	return 0;
}

/* ---- conversions ------------------------------------------------------------------------- */

int ga_py_path_converter(PyObject *obj, void *result)
{
	PyObject *bytes = NULL;
	if (obj == NULL) { /* cleanup call from PyArg_Parse* after a later failure */
		Py_CLEAR(*(PyObject **)result);
		return 1;
	}
	if (!PyUnicode_FSConverter(obj, &bytes))
		return 0;
	*(PyObject **)result = bytes;
	return Py_CLEANUP_SUPPORTED;
}

int ga_py_optional_path_converter(PyObject *obj, void *result)
{
	if (obj == Py_None) {
		*(PyObject **)result = NULL;
		return 1;
	}
	return ga_py_path_converter(obj, result);
}

PyObject *ga_py_fsdecode(const char *s)
{
	return PyUnicode_DecodeFSDefault(s ? s : "");
}

PyObject *ga_py_pathlib_path(ga_py_state *st, const char *path)
{
	PyObject *str = ga_py_fsdecode(path), *result;
	if (str == NULL)
		return NULL;
	result = PyObject_CallOneArg(st->PathClass, str);
	Py_DECREF(str);
	return result;
}

PyObject *ga_py_str_or_none(const char *s)
{
	if (s == NULL)
		Py_RETURN_NONE;
	return ga_py_fsdecode(s);
}

PyObject *ga_py_take_string(char *s)
{
	PyObject *result = ga_py_str_or_none(s);
	goaccel_free(s);
	return result;
}

PyObject *ga_py_u64_dict(const char *name, ...)
{
	PyObject *dict = PyDict_New();
	va_list ap;
	if (dict == NULL)
		return NULL;
	va_start(ap, name);
	for (; name; name = va_arg(ap, const char *)) {
		uint64_t value = va_arg(ap, uint64_t);
		PyObject *v = PyLong_FromUnsignedLongLong(value);
		if (v == NULL || PyDict_SetItemString(dict, name, v) < 0) {
			Py_XDECREF(v);
			Py_CLEAR(dict);
			break;
		}
		Py_DECREF(v);
	}
	va_end(ap);
	return dict;
}

PyObject *ga_py_strarray_to_list(const goaccel_strarray *array)
{
	PyObject *list = PyList_New((Py_ssize_t)array->count);
	size_t i;
	if (list == NULL)
		return NULL;
	for (i = 0; i < array->count; i++) {
		PyObject *s = ga_py_fsdecode(array->strings[i]);
		if (s == NULL) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, s);
	}
	return list;
}

void ga_py_strlist_dispose(ga_py_strlist *list)
{
	Py_CLEAR(list->owner);
	PyMem_Free(list->strings);
	list->strings = NULL;
	list->count = 0;
}

int ga_py_strlist_converter(PyObject *obj, void *result)
{
	ga_py_strlist *list = result;
	PyObject *seq = NULL;
	Py_ssize_t n, i;
	if (obj == NULL) {
		ga_py_strlist_dispose(list);
		return 1;
	}
	memset(list, 0, sizeof(*list));
	if (obj == Py_None)
		goto empty;
	if (PyUnicode_Check(obj) || PyBytes_Check(obj)) {
		/* A lone string is almost always a mistake for a list of one: refuse it. */
		PyErr_SetString(PyExc_TypeError, "expected an iterable of paths or strings, not a single string");
		return 0;
	}
	if ((seq = PySequence_List(obj)) == NULL)
		return 0;
	n = PyList_GET_SIZE(seq);
	if ((list->strings = PyMem_Calloc((size_t)n + 1, sizeof(char *))) == NULL) {
		PyErr_NoMemory();
		goto fail;
	}
	for (i = 0; i < n; i++) {
		PyObject *bytes = NULL;
		if (!PyUnicode_FSConverter(PyList_GET_ITEM(seq, i), &bytes))
			goto fail;
		if (memchr(PyBytes_AS_STRING(bytes), 0, (size_t)PyBytes_GET_SIZE(bytes))) {
			Py_DECREF(bytes);
			PyErr_SetString(PyExc_ValueError, "embedded null byte");
			goto fail;
		}
		/* The list now owns the bytes; the string stays valid as long as the list lives. */
		{
			PyObject *old = PyList_GET_ITEM(seq, i);
			PyList_SET_ITEM(seq, i, bytes);
			Py_DECREF(old);
		}
		list->strings[i] = PyBytes_AS_STRING(bytes);
	}
	list->owner = seq;
	list->count = (size_t)n;
	return Py_CLEANUP_SUPPORTED;
empty:
	if ((list->strings = PyMem_Calloc(1, sizeof(char *))) == NULL) {
		PyErr_NoMemory();
		return 0;
	}
	return Py_CLEANUP_SUPPORTED;
fail:
	Py_XDECREF(seq);
	list->owner = NULL;
	PyMem_Free(list->strings);
	list->strings = NULL;
	return 0;
}

/* ---- module functions -------------------------------------------------------------------- */

PyDoc_STRVAR(library_version_doc,
	"library_version($module, /)\n--\n\n"
	"The version of the libgoaccel shared library loaded at run time: (string, major, minor, patch).");

static PyObject *library_version(PyObject *module, PyObject *unused)
{
	int major = 0, minor = 0, patch = 0;
	const char *s = goaccel_version(&major, &minor, &patch);
	return Py_BuildValue("(siii)", s, major, minor, patch);
}

PyDoc_STRVAR(library_path_doc,
	"library_path($module, /)\n--\n\n"
	"The file the libgoaccel shared library was loaded from, when the dynamic loader can tell.");

static const char *loaded_library_path(void)
{
	Dl_info info;
	if (dladdr((void *)goaccel_version, &info) && info.dli_fname)
		return info.dli_fname;
	return NULL;
}

static PyObject *library_path(PyObject *module, PyObject *unused)
{
	const char *path = loaded_library_path();
	if (path == NULL)
		Py_RETURN_NONE;
	return ga_py_fsdecode(path);
}

PyDoc_STRVAR(error_code_name_doc,
	"error_code_name($module, code, /)\n--\n\n"
	"The library's stable name for an error code (\"GOACCEL_ENOTFOUND\"); \"GOACCEL_E?\" if unknown.");

static PyObject *error_code_name(PyObject *module, PyObject *arg)
{
	long code = PyLong_AsLong(arg);
	if (code == -1 && PyErr_Occurred())
		return NULL;
	if (code < INT_MIN || code > INT_MAX)
		return PyUnicode_FromString(goaccel_error_code_name(GOACCEL_ERROR - 1000));
	return PyUnicode_FromString(goaccel_error_code_name((int)code));
}

static PyMethodDef module_methods[] = {
	{"library_version", library_version, METH_NOARGS, library_version_doc},
	{"library_path", library_path, METH_NOARGS, library_path_doc},
	{"error_code_name", error_code_name, METH_O, error_code_name_doc},
	{NULL, NULL, 0, NULL},
};

/* ---- initialisation ---------------------------------------------------------------------- */

/*
 * The extension is compiled against one version of the headers; a different shared library at
 * run time may have other struct layouts and options versions, so refuse to load rather than
 * misbehave later. The message says which file was loaded and what to do.
 */
static int check_version(void)
{
	int major = 0, minor = 0, patch = 0;
	const char *runtime = goaccel_version(&major, &minor, &patch);
	const char *path;
	if (major == GOACCEL_VERSION_MAJOR && minor == GOACCEL_VERSION_MINOR && patch == GOACCEL_VERSION_PATCH)
		return 0;
	path = loaded_library_path();
	PyErr_Format(PyExc_ImportError,
		"goaccel: this extension was compiled against libgoaccel %s, but the libgoaccel loaded at "
		"run time%s%s is version %s; rebuild the binding against that library "
		"(pip install --force-reinstall ./bindings/python) or make the matching library the one "
		"the dynamic loader finds",
		GOACCEL_VERSION, path ? " from " : "", path ? path : "", runtime ? runtime : "(unknown)");
	return -1;
}

#ifndef GA_PY_LAYERS
#define GA_PY_LAYERS ""
#endif

/* LAYERS: a frozenset of the layer names compiled in ("hash", "store", ...). */
static int add_layers(PyObject *module)
{
	PyObject *str = PyUnicode_FromString(GA_PY_LAYERS), *sep = NULL, *parts = NULL, *set = NULL;
	int rc = -1;
	if (str == NULL || (sep = PyUnicode_FromString(",")) == NULL)
		goto done;
	if (PyUnicode_GET_LENGTH(str) == 0)
		parts = PyList_New(0);
	else
		parts = PyUnicode_Split(str, sep, -1);
	if (parts == NULL || (set = PyFrozenSet_New(parts)) == NULL)
		goto done;
	rc = PyModule_AddObjectRef(module, "LAYERS", set);
done:
	Py_XDECREF(set);
	Py_XDECREF(parts);
	Py_XDECREF(sep);
	Py_XDECREF(str);
	return rc;
}

static int module_exec(PyObject *module)
{
	ga_py_state *st = ga_py_state_of_module(module);
	PyObject *pathlib;
	int rc;

	if (check_version() < 0)
		return -1;
	if ((rc = goaccel_init()) < 0) {
		PyErr_Format(PyExc_ImportError, "goaccel: goaccel_init() failed: %s", goaccel_error_last()->message);
		return -1;
	}
	st->initialised = 1;

	if ((pathlib = PyImport_ImportModule("pathlib")) == NULL)
		return -1;
	st->PathClass = PyObject_GetAttrString(pathlib, "Path");
	Py_DECREF(pathlib);
	if (st->PathClass == NULL)
		return -1;

	if (PyModule_AddStringConstant(module, "COMPILED_VERSION", GOACCEL_VERSION) < 0 ||
	    PyModule_AddIntConstant(module, "DIGEST_SIZE", GOACCEL_DIGEST_SIZE) < 0 ||
	    PyModule_AddFunctions(module, module_methods) < 0)
		return -1;

	if (ga_py_errors_init(module, st) < 0 || ga_py_digest_init(module, st) < 0)
		return -1;
	/* The layers setup.py found in the library (see LAYERS there). */
#ifdef GA_PY_LAYER_HASH
	if (ga_py_hash_init(module, st) < 0)
		return -1;
#endif
#ifdef GA_PY_LAYER_KEY
	if (ga_py_key_init(module, st) < 0)
		return -1;
#endif
#ifdef GA_PY_LAYER_GOMOD
	if (ga_py_gomod_init(module, st) < 0)
		return -1;
#endif
#ifdef GA_PY_LAYER_STORE
	if (ga_py_store_init(module, st) < 0 || ga_py_mount_init(module, st) < 0 || ga_py_action_init(module, st) < 0)
		return -1;
#endif
#ifdef GA_PY_LAYER_EXTRACT
	if (ga_py_extract_init(module, st) < 0)
		return -1;
#endif
#ifdef GA_PY_LAYER_IMAGE
	if (ga_py_image_init(module, st) < 0)
		return -1;
#endif
#ifdef GA_PY_LAYER_BUILD
	if (ga_py_build_init(module, st) < 0)
		return -1;
#endif
	if (add_layers(module) < 0)
		return -1;
	return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg)
{
	ga_py_state *st = ga_py_state_of_module(module);
	if (st == NULL)
		return 0;
	Py_VISIT(st->PathClass);
	Py_VISIT(st->DigestType);
	Py_VISIT(st->HasherType);
	Py_VISIT(st->ManifestType);
	Py_VISIT(st->KeyType);
	Py_VISIT(st->GoModType);
	Py_VISIT(st->StoreType);
	Py_VISIT(st->MountType);
	Py_VISIT(st->ActionType);
	Py_VISIT(st->ImageType);
	Py_VISIT(st->BuildResultType);
	return ga_py_errors_traverse(st, visit, arg);
}

static int module_clear(PyObject *module)
{
	ga_py_state *st = ga_py_state_of_module(module);
	if (st == NULL)
		return 0;
	Py_CLEAR(st->PathClass);
	Py_CLEAR(st->DigestType);
	Py_CLEAR(st->HasherType);
	Py_CLEAR(st->ManifestType);
	Py_CLEAR(st->KeyType);
	Py_CLEAR(st->GoModType);
	Py_CLEAR(st->StoreType);
	Py_CLEAR(st->MountType);
	Py_CLEAR(st->ActionType);
	Py_CLEAR(st->ImageType);
	Py_CLEAR(st->BuildResultType);
	ga_py_errors_clear(st);
	return 0;
}

static void module_free(void *module)
{
	ga_py_state *st = ga_py_state_of_module(module);
	module_clear(module);
	if (st && st->initialised) {
		goaccel_shutdown();
		st->initialised = 0;
	}
}

static PyModuleDef_Slot module_slots[] = {
	{Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
	/* Callbacks from library threads take the GIL with PyGILState_Ensure(), which only knows the
	 * main interpreter. */
	{Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
	{0, NULL},
};

PyDoc_STRVAR(module_doc,
	"The C extension of the goaccel package: libgoaccel's API as Python types and functions.\n\n"
	"Import goaccel instead; it re-exports everything here with a few Python conveniences.");

PyModuleDef ga_py_module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "goaccel._goaccel",
	.m_doc = module_doc,
	.m_size = sizeof(ga_py_state),
	.m_slots = module_slots,
	.m_traverse = module_traverse,
	.m_clear = module_clear,
	.m_free = module_free,
};

PyMODINIT_FUNC PyInit__goaccel(void)
{
	return PyModuleDef_Init(&ga_py_module_def);
}
