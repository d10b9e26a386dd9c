/*
 * go_build() — the Go build pipeline (goaccel/build.h). Runs go processes and waits for them:
 * the GIL is released for the whole call and taken back only to deliver progress events to the
 * Python callback. The C result is converted into plain values at once and freed; goaccel.build
 * turns them into a BuildResult with one StepResult per step.
 */
#include "goaccel_py.h"

static int build_trampoline(const goaccel_build_event *e, void *payload)
{
	ga_py_callback *cb = payload;
	PyGILState_STATE g = PyGILState_Ensure();
	PyObject *data, *key = NULL, *ev = NULL;
	int rc;
	if (cb->callable == NULL) { /* only the signal check */
		rc = ga_py_callback_call_locked(cb, Py_NewRef(Py_None));
		PyGILState_Release(g);
		return rc;
	}
	data = e->data ? PyBytes_FromStringAndSize(e->data, (Py_ssize_t)e->len) : Py_NewRef(Py_None);
	if (data) {
		/* The module state is reachable from the callback struct's owner only; digests in events
		 * are passed as hex strings and turned into Digest objects by goaccel.build. */
		if (e->key) {
			char hex[GOACCEL_DIGEST_HEXSIZE + 1];
			goaccel_digest_fmt(hex, e->key);
			key = PyUnicode_FromString(hex);
		} else {
			key = Py_NewRef(Py_None);
		}
	}
	if (data && key)
		ev = Py_BuildValue("(iiiLONOi)", (int)e->type, (int)e->step, (int)e->status, (long long)e->elapsed_ns, key,
			ga_py_str_or_none(e->message), data, e->stream);
	rc = ga_py_callback_call_locked(cb, ev);
	Py_XDECREF(key);
	Py_XDECREF(data);
	PyGILState_Release(g);
	return rc;
}

static PyObject *change_tuple(const goaccel_build_change *c)
{
	return Py_BuildValue("(iNNNN)", (int)c->kind, ga_py_str_or_none(c->name), ga_py_str_or_none(c->what),
		ga_py_str_or_none(c->old_value), ga_py_str_or_none(c->new_value));
}

/* (name, status, key | None, duration_ns, saved_ns, explanation, [changes]) */
static PyObject *step_tuple(ga_py_state *st, const goaccel_build_result *res, goaccel_build_step step)
{
	size_t i, n = goaccel_build_result_change_count(res, step);
	PyObject *changes = PyList_New((Py_ssize_t)n);
	if (changes == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		PyObject *t = change_tuple(goaccel_build_result_change_byindex(res, step, i));
		if (t == NULL) {
			Py_DECREF(changes);
			return NULL;
		}
		PyList_SET_ITEM(changes, (Py_ssize_t)i, t);
	}
	return Py_BuildValue("(ssNLLNN)", goaccel_build_step_name(step),
		goaccel_build_status_name(goaccel_build_result_status(res, step)),
		ga_py_digest_or_none(st, goaccel_build_result_key(res, step)),
		(long long)goaccel_build_result_duration_ns(res, step), (long long)goaccel_build_result_saved_ns(res, step),
		ga_py_str_or_none(goaccel_build_result_explanation(res, step)), changes);
}

static PyObject *output_tuple(ga_py_state *st, const goaccel_build_output *o)
{
	return Py_BuildValue("(NNNKI)", ga_py_str_or_none(o->name), ga_py_str_or_none(o->path),
		ga_py_digest_new(st, &o->digest), (unsigned long long)o->size, o->mode);
}

static PyObject *result_dict(ga_py_state *st, const goaccel_build_result *res)
{
	PyObject *steps = PyList_New(GOACCEL_BUILD_STEP_COUNT), *outputs = NULL;
	char *json = NULL;
	size_t i, n;
	int rc;
	if (steps == NULL)
		return NULL;
	for (i = 0; i < GOACCEL_BUILD_STEP_COUNT; i++) {
		PyObject *t = step_tuple(st, res, (goaccel_build_step)i);
		if (t == NULL)
			goto fail;
		PyList_SET_ITEM(steps, (Py_ssize_t)i, t);
	}
	n = goaccel_build_result_output_count(res);
	if ((outputs = PyList_New((Py_ssize_t)n)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		PyObject *t = output_tuple(st, goaccel_build_result_output_byindex(res, i));
		if (t == NULL)
			goto fail;
		PyList_SET_ITEM(outputs, (Py_ssize_t)i, t);
	}
	if ((rc = goaccel_build_result_to_json(&json, res)) < 0) {
		ga_py_raise(st, rc);
		goto fail;
	}
	return Py_BuildValue("{s:N,s:N,s:N,s:N}", "steps", steps, "outputs", outputs, "image_digest",
		ga_py_digest_or_none(st, goaccel_build_result_image_digest(res)), "json", ga_py_take_string(json));
fail:
	Py_XDECREF(steps);
	Py_XDECREF(outputs);
	return NULL;
}

/* copies: iterable of (src, dst) → a goaccel_build_copy array whose strings `keep` owns. */
static int parse_copies(PyObject *obj, goaccel_build_copy **out, size_t *n, PyObject **keep)
{
	PyObject *seq;
	Py_ssize_t i, count;
	*out = NULL;
	*n = 0;
	*keep = NULL;
	if (obj == NULL || obj == Py_None)
		return 0;
	if ((seq = PySequence_Fast(obj, "copies must be an iterable of (src, dst) pairs")) == NULL)
		return -1;
	count = PySequence_Fast_GET_SIZE(seq);
	if ((*keep = PyList_New(0)) == NULL || (*out = PyMem_Calloc((size_t)count + 1, sizeof(**out))) == NULL) {
		if (*keep)
			PyErr_NoMemory();
		goto fail;
	}
	for (i = 0; i < count; i++) {
		PyObject *src = NULL, *dst = NULL;
		int ok;
		if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "O&O&:copies", PyUnicode_FSConverter, &src,
			    PyUnicode_FSConverter, &dst))
			goto fail;
		ok = PyList_Append(*keep, src) == 0 && PyList_Append(*keep, dst) == 0;
		(*out)[i].src = PyBytes_AS_STRING(src);
		(*out)[i].dst = PyBytes_AS_STRING(dst);
		Py_DECREF(src);
		Py_DECREF(dst);
		if (!ok)
			goto fail;
	}
	*n = (size_t)count;
	Py_DECREF(seq);
	return 0;
fail:
	Py_DECREF(seq);
	Py_CLEAR(*keep);
	PyMem_Free(*out);
	*out = NULL;
	return -1;
}

PyDoc_STRVAR(go_build_doc,
	"go_build($module, /, module_dir, *, cache_dir=None, packages=None, tags=None, ldflags=None,"
	" gcflags=None, trimpath=True, buildvcs=False, cgo=0, goos=None, goarch=None, env=None,"
	" envp=None, output_dir=None, bin_dir=None, copies=None, image_dir=None, image_ref=None,"
	" base_dir=None, base_ref=None, target=None, dry_run=False, progress=None, image_env=None,"
	" entrypoint=None, cmd=None, workdir=None, user=None, labels=None)\n--\n\n"
	"goaccel_go_build(); use goaccel.go_build() for the documented interface.");

static PyObject *go_build(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"module_dir", "cache_dir", "packages", "tags", "ldflags", "gcflags", "trimpath",
		"buildvcs", "cgo", "goos", "goarch", "env", "envp", "output_dir", "bin_dir", "copies", "image_dir",
		"image_ref", "base_dir", "base_ref", "target", "dry_run", "progress", "image_env", "entrypoint", "cmd",
		"workdir", "user", "labels", NULL};
	static const char *const clear[] = {"", NULL}; /* the library's "no entrypoint at all" */
	ga_py_state *st = ga_py_state_of_module(module);
	goaccel_build_options opts = GOACCEL_BUILD_OPTIONS_INIT;
	goaccel_build_result *res = NULL;
	PyObject *dir = NULL, *cache = NULL, *output = NULL, *image_dir = NULL, *base_dir = NULL;
	PyObject *envp_obj = Py_None, *copies_obj = Py_None, *copies_keep = NULL, *progress = Py_None, *result = NULL;
	ga_py_strlist packages = {0}, env = {0}, envp = {0}, image_env = {0}, entrypoint = {0}, cmd = {0}, labels = {0};
	PyObject *entrypoint_obj = Py_None;
	goaccel_build_copy *copies = NULL;
	size_t ncopies = 0;
	ga_py_callback cb = {0};
	int rc;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$O&O&zzzppizzO&OO&zOO&zO&zzpOO&OO&zzO&:go_build", kwlist,
		    ga_py_path_converter, &dir, ga_py_optional_path_converter, &cache, ga_py_strlist_converter, &packages,
		    &opts.tags, &opts.ldflags, &opts.gcflags, &opts.trimpath, &opts.buildvcs, &opts.cgo, &opts.goos,
		    &opts.goarch, ga_py_strlist_converter, &env, &envp_obj, ga_py_optional_path_converter, &output,
		    &opts.bin_dir, &copies_obj, ga_py_optional_path_converter, &image_dir, &opts.image_ref,
		    ga_py_optional_path_converter, &base_dir, &opts.base_ref, &opts.target, &opts.dry_run, &progress,
		    ga_py_strlist_converter, &image_env, &entrypoint_obj, ga_py_strlist_converter, &cmd,
		    &opts.image_workdir, &opts.image_user, ga_py_strlist_converter, &labels))
		return NULL;
	/* entrypoint: None = not given (the binary, or with cmd the base's); [] = cleared. */
	if (entrypoint_obj != Py_None) {
		if (!ga_py_strlist_converter(entrypoint_obj, &entrypoint))
			goto done;
		opts.image_entrypoint = entrypoint.count ? entrypoint.strings : clear;
		opts.image_entrypoint_count = entrypoint.count ? entrypoint.count : 1;
	}
	opts.image_env = image_env.strings;
	opts.image_env_count = image_env.count;
	opts.image_cmd = cmd.strings;
	opts.image_cmd_count = cmd.count;
	opts.image_labels = labels.strings;
	opts.image_label_count = labels.count;
	if (envp_obj != Py_None) {
		if (!ga_py_strlist_converter(envp_obj, &envp))
			goto done;
		opts.envp = envp.strings;
	}
	if (parse_copies(copies_obj, &copies, &ncopies, &copies_keep) < 0)
		goto done;
	opts.cache_dir = ga_py_path_str(cache);
	opts.packages = packages.strings;
	opts.package_count = packages.count;
	opts.env = env.strings;
	opts.env_count = env.count;
	opts.output_dir = ga_py_path_str(output);
	opts.copies = copies;
	opts.copy_count = ncopies;
	opts.image_dir = ga_py_path_str(image_dir);
	opts.base_dir = ga_py_path_str(base_dir);
	/* The trampoline is installed even without a Python callback: its ticks let Ctrl-C
	 * (KeyboardInterrupt) cancel the build. */
	cb.callable = progress == Py_None ? NULL : progress;
	opts.progress = build_trampoline;
	opts.payload = &cb;
	GA_PY_NOGIL(rc = goaccel_go_build(&res, PyBytes_AS_STRING(dir), &opts));
	if (ga_py_callback_finish(st, &cb, rc) != NULL)
		result = result_dict(st, res);
done:
	goaccel_build_result_free(res);
	ga_py_callback_dispose(&cb);
	PyMem_Free(copies);
	Py_XDECREF(copies_keep);
	ga_py_strlist_dispose(&packages);
	ga_py_strlist_dispose(&env);
	ga_py_strlist_dispose(&envp);
	ga_py_strlist_dispose(&image_env);
	ga_py_strlist_dispose(&entrypoint);
	ga_py_strlist_dispose(&cmd);
	ga_py_strlist_dispose(&labels);
	Py_XDECREF(dir);
	Py_XDECREF(cache);
	Py_XDECREF(output);
	Py_XDECREF(image_dir);
	Py_XDECREF(base_dir);
	return result;
}

static PyMethodDef build_functions[] = {
	{"go_build", (PyCFunction)(void (*)(void))go_build, METH_VARARGS | METH_KEYWORDS, go_build_doc},
	{NULL, NULL, 0, NULL},
};

int ga_py_build_init(PyObject *module, ga_py_state *st)
{
	return PyModule_AddFunctions(module, build_functions);
}
