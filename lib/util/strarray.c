#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/strarray.h"

int ga_strarray_take(goaccel_strarray *arr, char *str)
{
	char **p;
	if (!str)
		return ga_error_oom();
	/* grow in powers of two: count is a power of two exactly when the array is full */
	if ((arr->count & (arr->count - 1)) == 0) {
		size_t cap = arr->count ? arr->count * 2 : 1;
		if ((p = realloc(arr->strings, cap * sizeof(*p))) == NULL) {
			free(str);
			return ga_error_oom();
		}
		arr->strings = p;
	}
	arr->strings[arr->count++] = str;
	return 0;
}

int ga_strarray_add(goaccel_strarray *arr, const char *str)
{
	return ga_strarray_take(arr, strdup(str));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ga_strarray_sort_unique(goaccel_strarray *arr)
{
	size_t i, j = 0;
	if (arr->count < 2)
		return;
	qsort(arr->strings, arr->count, sizeof(char *), cmp_str);
	for (i = 0; i < arr->count; i++) {
		if (j > 0 && strcmp(arr->strings[j - 1], arr->strings[i]) == 0)
			free(arr->strings[i]);
		else
			arr->strings[j++] = arr->strings[i];
	}
	arr->count = j;
}

int ga_strarray_contains(const goaccel_strarray *arr, const char *str)
{
	size_t i;
	for (i = 0; i < arr->count; i++)
		if (strcmp(arr->strings[i], str) == 0)
			return 1;
	return 0;
}
