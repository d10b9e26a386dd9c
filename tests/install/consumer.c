#include <stdio.h>
#include <goaccel/goaccel.h>

int main(void)
{
	goaccel_digest d;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	if (goaccel_init() < 0)
		return 1;
	if (goaccel_digest_buffer(&d, "abc", 3) < 0 || goaccel_digest_fmt(hex, &d) < 0)
		return 1;
	printf("goaccel %s %s\n", goaccel_version(NULL, NULL, NULL), hex);
	goaccel_shutdown();
	return 0;
}
