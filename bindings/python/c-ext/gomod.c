/*
 * Go modules (goaccel/gomod.h): go.mod / go.work parsing into plain Python values, input roots,
 * build inputs, Go's h1: hashes, go.sum verification and the toolchain identity. The parsed C
 * objects are converted at once and freed; goaccel.gomod turns the tuples into dataclasses.
 * Everything that reads files or runs `go env` releases the GIL.
 */
#include "goaccel_py.h"

/* (path, version | None, indirect, line) */
static PyObject *module_tuple(const goaccel_gomod_module *m)
{
	return Py_BuildValue("(NNNI)", ga_py_fsdecode(m->path), ga_py_str_or_none(m->version),
		PyBool_FromLong(m->indirect), m->line);
}

/* (old_path, old_version | None, new_path, new_version | None, is_dir, line) */
static PyObject *replace_tuple(const goaccel_gomod_replace *r)
{
	return Py_BuildValue("(NNNNNI)", ga_py_fsdecode(r->old_path), ga_py_str_or_none(r->old_version),
		ga_py_fsdecode(r->new_path), ga_py_str_or_none(r->new_version), PyBool_FromLong(r->is_dir), r->line);
}

static PyObject *retract_tuple(const goaccel_gomod_retract *r)
{
	return Py_BuildValue("(NNNI)", ga_py_str_or_none(r->low), ga_py_str_or_none(r->high),
		ga_py_str_or_none(r->rationale), r->line);
}

static PyObject *godebug_tuple(const goaccel_gomod_godebug *g)
{
	return Py_BuildValue("(NNI)", ga_py_str_or_none(g->key), ga_py_str_or_none(g->value), g->line);
}

/* A list built by calling make(get(obj, i)) for i < count. */
#define LIST_OF(list, count, get, make)                                              \
	do {                                                                         \
		size_t i_, n_ = (count);                                             \
		if (((list) = PyList_New((Py_ssize_t)n_)) != NULL) {                 \
			for (i_ = 0; i_ < n_; i_++) {                                \
				PyObject *t_ = make(get);                            \
				if (t_ == NULL) {                                    \
					Py_CLEAR(list);                              \
					break;                                       \
				}                                                    \
				PyList_SET_ITEM((list), (Py_ssize_t)i_, t_);         \
			}                                                            \
		}                                                                    \
	} while (0)

static PyObject *gomod_dict(const goaccel_gomod *m)
{
	PyObject *req = NULL, *exc = NULL, *rep = NULL, *ret = NULL, *dbg = NULL;
	LIST_OF(req, goaccel_gomod_require_count(m), goaccel_gomod_require_byindex(m, i_), module_tuple);
	LIST_OF(exc, goaccel_gomod_exclude_count(m), goaccel_gomod_exclude_byindex(m, i_), module_tuple);
	LIST_OF(rep, goaccel_gomod_replace_count(m), goaccel_gomod_replace_byindex(m, i_), replace_tuple);
	LIST_OF(ret, goaccel_gomod_retract_count(m), goaccel_gomod_retract_byindex(m, i_), retract_tuple);
	LIST_OF(dbg, goaccel_gomod_godebug_count(m), goaccel_gomod_godebug_byindex(m, i_), godebug_tuple);
	if (!req || !exc || !rep || !ret || !dbg) {
		Py_XDECREF(req);
		Py_XDECREF(exc);
		Py_XDECREF(rep);
		Py_XDECREF(ret);
		Py_XDECREF(dbg);
		return NULL;
	}
	return Py_BuildValue("{s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N}",
		"module", ga_py_str_or_none(goaccel_gomod_module_path(m)),
		"go", ga_py_str_or_none(goaccel_gomod_go_version(m)),
		"toolchain", ga_py_str_or_none(goaccel_gomod_toolchain(m)),
		"require", req, "exclude", exc, "replace", rep, "retract", ret, "godebug", dbg);
}

static PyObject *gowork_dict(const goaccel_gowork *w)
{
	PyObject *use = NULL, *rep = NULL, *dbg = NULL;
	LIST_OF(use, goaccel_gowork_use_count(w), goaccel_gowork_use_byindex(w, i_), ga_py_fsdecode);
	LIST_OF(rep, goaccel_gowork_replace_count(w), goaccel_gowork_replace_byindex(w, i_), replace_tuple);
	LIST_OF(dbg, goaccel_gowork_godebug_count(w), goaccel_gowork_godebug_byindex(w, i_), godebug_tuple);
	if (!use || !rep || !dbg) {
		Py_XDECREF(use);
		Py_XDECREF(rep);
		Py_XDECREF(dbg);
		return NULL;
	}
	return Py_BuildValue("{s:N,s:N,s:N,s:N,s:N}",
		"go", ga_py_str_or_none(goaccel_gowork_go_version(w)),
		"toolchain", ga_py_str_or_none(goaccel_gowork_toolchain(w)),
		"use", use, "replace", rep, "godebug", dbg);
}

/* ---- parsing ----------------------------------------------------------------------------- */

PyDoc_STRVAR(gomod_parse_doc,
	"gomod_parse($module, /, data, path=None, *, work=False)\n--\n\n"
	"Parses go.mod content; path is used only in error messages.");

/* The result of a parse: its dict, or the library's error raised. Frees m and w. */
static PyObject *parsed(ga_py_state *st, int rc, goaccel_gomod *m, goaccel_gowork *w)
{
	PyObject *result = NULL;
	if (rc < 0)
		ga_py_raise(st, rc);
	else
		result = w ? gowork_dict(w) : gomod_dict(m);
	goaccel_gomod_free(m);
	goaccel_gowork_free(w);
	return result;
}

static PyObject *gomod_parse(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"data", "path", "work", NULL};
	PyObject *path = NULL, *result;
	Py_buffer data;
	int work = 0, rc;
	goaccel_gomod *m = NULL;
	goaccel_gowork *w = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|O&$p:gomod_parse", kwlist, &data,
		    ga_py_optional_path_converter, &path, &work))
		return NULL;
	if (work)
		rc = goaccel_gowork_parse(&w, ga_py_path_str(path), data.buf, (size_t)data.len);
	else
		rc = goaccel_gomod_parse(&m, ga_py_path_str(path), data.buf, (size_t)data.len);
	result = parsed(ga_py_state_of_module(module), rc, m, w);
	PyBuffer_Release(&data);
	Py_XDECREF(path);
	return result;
}

PyDoc_STRVAR(gomod_parse_file_doc,
	"gomod_parse_file($module, /, path, *, work=False)\n--\n\nReads and parses a go.mod (or go.work) file.");

static PyObject *gomod_parse_file(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"path", "work", NULL};
	PyObject *path = NULL, *result;
	int work = 0, rc;
	goaccel_gomod *m = NULL;
	goaccel_gowork *w = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$p:gomod_parse_file", kwlist,
		    ga_py_path_converter, &path, &work))
		return NULL;
	if (work)
		GA_PY_NOGIL(rc = goaccel_gowork_parse_file(&w, PyBytes_AS_STRING(path)));
	else
		GA_PY_NOGIL(rc = goaccel_gomod_parse_file(&m, PyBytes_AS_STRING(path)));
	result = parsed(ga_py_state_of_module(module), rc, m, w);
	Py_DECREF(path);
	return result;
}

/* fn(module, args, kwargs + {"work": True}): the go.work forms of the two parsers. */
static PyObject *with_work(PyCFunctionWithKeywords fn, PyObject *module, PyObject *args, PyObject *kwargs)
{
	PyObject *kw = kwargs ? PyDict_Copy(kwargs) : PyDict_New(), *result;
	if (kw == NULL || PyDict_SetItemString(kw, "work", Py_True) < 0) {
		Py_XDECREF(kw);
		return NULL;
	}
	result = fn(module, args, kw);
	Py_DECREF(kw);
	return result;
}

static PyObject *gowork_parse(PyObject *module, PyObject *args, PyObject *kwargs)
{
	return with_work(gomod_parse, module, args, kwargs);
}

static PyObject *gowork_parse_file(PyObject *module, PyObject *args, PyObject *kwargs)
{
	return with_work(gomod_parse_file, module, args, kwargs);
}

/* ---- inputs ------------------------------------------------------------------------------ */

/* env: None for this process's environment, else an iterable of "NAME=VALUE". */
static int parse_env(PyObject *obj, ga_py_strlist *env, const char *const **envp)
{
	*envp = NULL;
	if (obj == Py_None)
		return 0;
	if (!ga_py_strlist_converter(obj, env))
		return -1;
	*envp = env->strings;
	return 0;
}

/* The arguments (module_dir, env=None) of find_work and input_roots: dir (a new reference) and
 * envp (NULL: this process's environment; its strings are in env). */
static int dir_env_args(PyObject *args, PyObject *kwargs, const char *format, PyObject **dir, ga_py_strlist *env,
	const char *const **envp)
{
	static char *kwlist[] = {"module_dir", "env", NULL};
	PyObject *env_obj = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, ga_py_path_converter, dir, &env_obj))
		return -1;
	if (parse_env(env_obj, env, envp) < 0) {
		Py_CLEAR(*dir);
		return -1;
	}
	return 0;
}

PyDoc_STRVAR(find_work_doc,
	"gomod_find_work($module, /, module_dir, env=None)\n--\n\n"
	"The go.work the go command would use for a build in module_dir, or None.");

static PyObject *find_work(PyObject *module, PyObject *args, PyObject *kwargs)
{
	ga_py_state *st = ga_py_state_of_module(module);
	PyObject *dir = NULL, *result = NULL;
	ga_py_strlist env = {0};
	const char *const *envp;
	char *out = NULL;
	int rc;
	if (dir_env_args(args, kwargs, "O&|O:gomod_find_work", &dir, &env, &envp) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_gomod_find_work(&out, PyBytes_AS_STRING(dir), envp));
	if (rc == GOACCEL_ENOTFOUND)
		result = Py_NewRef(Py_None);
	else if (rc < 0)
		ga_py_raise(st, rc);
	else
		result = ga_py_take_string(out);
	ga_py_strlist_dispose(&env);
	Py_DECREF(dir);
	return result;
}

PyDoc_STRVAR(input_roots_doc,
	"gomod_input_roots($module, /, module_dir, env=None)\n--\n\n"
	"The directories whose content feeds a build in module_dir (the main module first).");

static PyObject *input_roots(PyObject *module, PyObject *args, PyObject *kwargs)
{
	ga_py_state *st = ga_py_state_of_module(module);
	PyObject *dir = NULL, *result = NULL;
	ga_py_strlist env = {0};
	goaccel_strarray out = {0};
	const char *const *envp;
	int rc;
	if (dir_env_args(args, kwargs, "O&|O:gomod_input_roots", &dir, &env, &envp) < 0)
		return NULL;
	GA_PY_NOGIL(rc = goaccel_gomod_input_roots(&out, PyBytes_AS_STRING(dir), envp));
	if (rc < 0)
		ga_py_raise(st, rc);
	else
		result = ga_py_strarray_to_list(&out);
	goaccel_strarray_dispose(&out);
	ga_py_strlist_dispose(&env);
	Py_DECREF(dir);
	return result;
}

PyDoc_STRVAR(build_inputs_doc,
	"gomod_build_inputs($module, /, root, *, tests=False)\n--\n\n"
	"The root-relative paths of exactly the files `go build` (or `go test`) can read under root.");

static PyObject *build_inputs(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"root", "tests", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	goaccel_gomod_inputs_options opts = GOACCEL_GOMOD_INPUTS_OPTIONS_INIT;
	goaccel_strarray out = {0};
	PyObject *root = NULL, *result = NULL;
	int tests = 0, rc;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$p:gomod_build_inputs", kwlist, ga_py_path_converter, &root, &tests))
		return NULL;
	opts.tests = tests;
	GA_PY_NOGIL(rc = goaccel_gomod_build_inputs(&out, PyBytes_AS_STRING(root), &opts));
	if (rc < 0)
		ga_py_raise(st, rc);
	else
		result = ga_py_strarray_to_list(&out);
	goaccel_strarray_dispose(&out);
	Py_DECREF(root);
	return result;
}

/* ---- h1 ---------------------------------------------------------------------------------- */

PyDoc_STRVAR(h1_dir_doc, "h1_dir($module, /, dir, module_path, version)\n--\n\nGo's h1: hash of an extracted module directory.");

static PyObject *h1_dir(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"dir", "module_path", "version", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	PyObject *dir = NULL;
	const char *mpath, *version;
	char *out = NULL;
	int rc;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&ss:h1_dir", kwlist, ga_py_path_converter, &dir, &mpath, &version))
		return NULL;
	GA_PY_NOGIL(rc = goaccel_h1_dir(&out, PyBytes_AS_STRING(dir), mpath, version));
	Py_DECREF(dir);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_take_string(out);
}

/* One path argument → h1 string, through fn. */
static PyObject *h1_path(PyObject *module, PyObject *arg, int (*fn)(char **, const char *))
{
	ga_py_state *st = ga_py_state_of_module(module);
	PyObject *path = NULL;
	char *out = NULL;
	int rc;
	if (!PyUnicode_FSConverter(arg, &path))
		return NULL;
	GA_PY_NOGIL(rc = fn(&out, PyBytes_AS_STRING(path)));
	Py_DECREF(path);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_take_string(out);
}

static PyObject *h1_zip(PyObject *module, PyObject *arg)
{
	return h1_path(module, arg, goaccel_h1_zip);
}

static PyObject *h1_gomod(PyObject *module, PyObject *arg)
{
	return h1_path(module, arg, goaccel_h1_gomod);
}

static PyObject *h1_gomod_bytes(PyObject *module, PyObject *arg)
{
	ga_py_state *st = ga_py_state_of_module(module);
	Py_buffer view;
	char *out = NULL;
	int rc;
	if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
		return NULL;
	rc = goaccel_h1_gomod_buffer(&out, view.buf, (size_t)view.len);
	PyBuffer_Release(&view);
	if (rc < 0)
		return ga_py_raise(st, rc);
	return ga_py_take_string(out);
}

/* ---- go.sum ------------------------------------------------------------------------------ */

static PyObject *problem_tuple(const goaccel_gosum_problem *p)
{
	return Py_BuildValue("(iiNNNNNN)", (int)p->kind, (int)p->object, ga_py_str_or_none(p->module_path),
		ga_py_str_or_none(p->version), ga_py_str_or_none(p->expected), ga_py_str_or_none(p->actual),
		ga_py_str_or_none(p->path), ga_py_str_or_none(p->detail));
}

PyDoc_STRVAR(gosum_verify_doc,
	"gosum_verify($module, /, modcache, gosum, *, ignore_missing_gomod=False, ignore_missing=False)\n--\n\n"
	"Checks a module cache against a go.sum: (entries checked, problems). A mismatch is not an\n"
	"exception here (the problems are the answer); other failures raise.");

static PyObject *gosum_verify(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"modcache", "gosum", "ignore_missing_gomod", "ignore_missing", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	goaccel_gosum_options opts = GOACCEL_GOSUM_OPTIONS_INIT;
	goaccel_gosum_report *report = NULL;
	PyObject *modcache = NULL, *gosum = NULL, *list = NULL, *result = NULL;
	int rc;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&|$pp:gosum_verify", kwlist, ga_py_path_converter,
		    &modcache, ga_py_path_converter, &gosum, &opts.ignore_missing_gomod, &opts.ignore_missing))
		goto done;
	GA_PY_NOGIL(rc = goaccel_gosum_verify(&report, PyBytes_AS_STRING(modcache), PyBytes_AS_STRING(gosum), &opts));
	if (rc < 0 && rc != GOACCEL_EMISMATCH) {
		ga_py_raise(st, rc);
		goto done;
	}
	LIST_OF(list, goaccel_gosum_report_problem_count(report), goaccel_gosum_report_problem_byindex(report, i_),
		problem_tuple);
	if (list)
		result = Py_BuildValue("(nO)", (Py_ssize_t)goaccel_gosum_report_checked(report), list);
done:
	Py_XDECREF(list);
	goaccel_gosum_report_free(report);
	Py_XDECREF(modcache);
	Py_XDECREF(gosum);
	return result;
}

/* ---- toolchain --------------------------------------------------------------------------- */

PyDoc_STRVAR(go_toolchain_doc,
	"go_toolchain($module, /, module_dir=None, env=None, *, go=None, no_cache=False)\n--\n\n"
	"The identity of the go toolchain for a build in module_dir: (fields, go path, digest).");

static PyObject *go_toolchain(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"module_dir", "env", "go", "no_cache", NULL};
	ga_py_state *st = ga_py_state_of_module(module);
	goaccel_toolchain_options opts = GOACCEL_TOOLCHAIN_OPTIONS_INIT;
	goaccel_toolchain *tc = NULL;
	PyObject *dir = NULL, *env_obj = Py_None, *go = NULL, *list = NULL, *result = NULL;
	ga_py_strlist env = {0};
	const char *const *envp;
	goaccel_digest d;
	size_t i, n;
	int rc;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O&O$O&p:go_toolchain", kwlist, ga_py_optional_path_converter,
		    &dir, &env_obj, ga_py_optional_path_converter, &go, &opts.no_cache))
		return NULL;
	if (parse_env(env_obj, &env, &envp) < 0)
		goto done;
	opts.go = ga_py_path_str(go);
	GA_PY_NOGIL(rc = goaccel_go_toolchain(&tc, ga_py_path_str(dir), envp, &opts));
	if (rc < 0 || (rc = goaccel_toolchain_digest(&d, tc)) < 0) {
		ga_py_raise(st, rc);
		goto done;
	}
	n = goaccel_toolchain_field_count(tc);
	if ((list = PyList_New((Py_ssize_t)n)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		const goaccel_toolchain_field *f = goaccel_toolchain_field_byindex(tc, i);
		PyObject *t = Py_BuildValue("(NN)", ga_py_str_or_none(f->name), ga_py_str_or_none(f->value));
		if (t == NULL)
			goto done;
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
	result = Py_BuildValue("(ONN)", list, ga_py_str_or_none(goaccel_toolchain_go_path(tc)), ga_py_digest_new(st, &d));
done:
	Py_XDECREF(list);
	goaccel_toolchain_free(tc);
	ga_py_strlist_dispose(&env);
	Py_XDECREF(dir);
	Py_XDECREF(go);
	return result;
}

static PyObject *toolchain_cache_clear(PyObject *module, PyObject *unused)
{
	goaccel_toolchain_cache_clear();
	Py_RETURN_NONE;
}

static PyMethodDef gomod_functions[] = {
	{"gomod_parse", (PyCFunction)(void (*)(void))gomod_parse, METH_VARARGS | METH_KEYWORDS, gomod_parse_doc},
	{"gomod_parse_file", (PyCFunction)(void (*)(void))gomod_parse_file, METH_VARARGS | METH_KEYWORDS, gomod_parse_file_doc},
	{"gowork_parse", (PyCFunction)(void (*)(void))gowork_parse, METH_VARARGS | METH_KEYWORDS,
		"gowork_parse($module, /, data, path=None)\n--\n\nParses go.work content."},
	{"gowork_parse_file", (PyCFunction)(void (*)(void))gowork_parse_file, METH_VARARGS | METH_KEYWORDS,
		"gowork_parse_file($module, /, path)\n--\n\nReads and parses a go.work file."},
	{"gomod_find_work", (PyCFunction)(void (*)(void))find_work, METH_VARARGS | METH_KEYWORDS, find_work_doc},
	{"gomod_input_roots", (PyCFunction)(void (*)(void))input_roots, METH_VARARGS | METH_KEYWORDS, input_roots_doc},
	{"gomod_build_inputs", (PyCFunction)(void (*)(void))build_inputs, METH_VARARGS | METH_KEYWORDS, build_inputs_doc},
	{"h1_dir", (PyCFunction)(void (*)(void))h1_dir, METH_VARARGS | METH_KEYWORDS, h1_dir_doc},
	{"h1_zip", h1_zip, METH_O, "h1_zip($module, path, /)\n--\n\nGo's h1: hash of a module zip."},
	{"h1_gomod", h1_gomod, METH_O, "h1_gomod($module, path, /)\n--\n\nGo's h1: hash of a go.mod file."},
	{"h1_gomod_bytes", h1_gomod_bytes, METH_O, "h1_gomod_bytes($module, data, /)\n--\n\nGo's h1: hash of go.mod content."},
	{"gosum_verify", (PyCFunction)(void (*)(void))gosum_verify, METH_VARARGS | METH_KEYWORDS, gosum_verify_doc},
	{"go_toolchain", (PyCFunction)(void (*)(void))go_toolchain, METH_VARARGS | METH_KEYWORDS, go_toolchain_doc},
	{"toolchain_cache_clear", toolchain_cache_clear, METH_NOARGS,
		"toolchain_cache_clear($module, /)\n--\n\nEmpties the in-process toolchain cache."},
	{NULL, NULL, 0, NULL},
};

int ga_py_gomod_init(PyObject *module, ga_py_state *st)
{
	return PyModule_AddFunctions(module, gomod_functions);
}
