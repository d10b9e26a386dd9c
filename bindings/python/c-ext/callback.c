/*
 * Python callables behind library callbacks.
 *
 * The library is called with the GIL released, and may call back from the calling thread or from
 * its worker threads, so the trampoline takes the GIL with PyGILState_Ensure(). When the callable
 * raises, the exception object is kept and the trampoline returns non-zero: the library stops and
 * returns GOACCEL_EUSER, and ga_py_callback_finish() raises that same exception object again —
 * the caller sees exactly what the callback raised, traceback included, not a Cancelled.
 *
 * The trampoline also runs pending signal handlers (in the main thread), so Ctrl-C during a long
 * call that reports progress (a go build ticks every 100 ms) raises KeyboardInterrupt promptly:
 * the handler's exception aborts the call like a callback's would. Only Python's handlers run:
 * when SIGINT is ignored (SIG_IGN, e.g. inherited by a background job of a non-interactive shell)
 * the signal never reaches Python and the call goes on, as the process asked.
 */
#include "goaccel_py.h"

int ga_py_callback_call_locked(ga_py_callback *cb, PyObject *arg)
{
	PyObject *result;
	if (arg == NULL) { /* building the event failed: abort with that exception */
		if (cb->exc == NULL)
			cb->exc = PyErr_GetRaisedException_compat();
		else
			PyErr_Clear();
		return -1;
	}
	if (cb->exc) { /* already failed once (another worker thread): keep aborting */
		Py_DECREF(arg);
		return -1;
	}
	if (PyErr_CheckSignals() < 0) {
		cb->exc = PyErr_GetRaisedException_compat();
		Py_DECREF(arg);
		return -1;
	}
	if (cb->callable == NULL) {
		Py_DECREF(arg);
		return 0;
	}
	result = PyObject_CallOneArg(cb->callable, arg);
	Py_DECREF(arg);
	if (result == NULL) {
		cb->exc = PyErr_GetRaisedException_compat();
		return -1;
	}
	Py_DECREF(result);
	return 0;
}

PyObject *ga_py_callback_finish(ga_py_state *st, ga_py_callback *cb, int rc)
{
	if (cb->exc) {
		PyObject *exc = cb->exc;
		cb->exc = NULL;
		PyErr_SetRaisedException_compat(exc);
		return NULL;
	}
	if (rc < 0)
		return ga_py_raise(st, rc);
	return Py_None;
}

void ga_py_callback_dispose(ga_py_callback *cb)
{
	Py_CLEAR(cb->exc);
	cb->callable = NULL;
}
