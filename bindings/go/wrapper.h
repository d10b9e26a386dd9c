/*
 * C side of the callbacks. The library calls these trampolines with the payload the binding
 * registered, which is a runtime/cgo.Handle (an integer), never a Go pointer; they forward to the
 * exported Go functions in callback.go.
 */
#ifndef GOACCEL_GO_WRAPPER_H
#define GOACCEL_GO_WRAPPER_H

#include <stdint.h>
#include <goaccel/goaccel.h>

void gobind_build_set_progress(goaccel_build_options *opts, uintptr_t handle);
void gobind_prune_set_callback(goaccel_prune_options *opts, uintptr_t handle);
void gobind_verify_set_callback(goaccel_verify_options *opts, uintptr_t handle);

/* Every readable ref, collected in C (names are copies): free with gobind_refs_free(). */
typedef struct {
	goaccel_ref_entry *items;
	size_t count, cap;
} gobind_refs;
int gobind_refs_get(gobind_refs *out, goaccel_store *store);
void gobind_refs_free(gobind_refs *refs);

#endif
