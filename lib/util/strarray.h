/* Internal: building a goaccel_strarray. */
#ifndef GOACCEL_UTIL_STRARRAY_H
#define GOACCEL_UTIL_STRARRAY_H

#include "goaccel/common.h"

/* Appends a copy of str (0 or GOACCEL_ERROR on OOM). */
int ga_strarray_add(goaccel_strarray *arr, const char *str);
/* Appends str itself, taking ownership (freed on failure). */
int ga_strarray_take(goaccel_strarray *arr, char *str);
/* Sorts bytewise (strcmp) and removes duplicates. */
void ga_strarray_sort_unique(goaccel_strarray *arr);
/* 1 if str is in arr. */
int ga_strarray_contains(const goaccel_strarray *arr, const char *str);

#endif
