/* The goaccel command: helpers shared by the command files. Uses only the public API. */
#ifndef GOACCEL_CLI_H
#define GOACCEL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <goaccel/goaccel.h>

/* Exit codes (documented in `goaccel --help` and docs/cli.md). */
enum {
	CLI_OK = 0,        /* success */
	CLI_FAIL = 1,      /* an error (I/O, corrupt input, a missing file, ...) */
	CLI_USAGE = 2,     /* bad command line */
	CLI_BUILD = 3,     /* go build / go mod download failed (the compiler's message is shown) */
	CLI_MISMATCH = 4,  /* a verification found problems (cache verify, gomod verify) */
	CLI_LOCKED = 5,    /* a cache mount stayed locked by another process */
	CLI_CANCELLED = 130 /* interrupted (SIGINT) */
};

/* Prints "goaccel: what: <last error>" to stderr and returns the exit code for the error. */
int cli_fail(const char *what);
/* The exit code for a libgoaccel return code. */
int cli_exit_code(int error);
/* Prints a usage error to stderr and returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "1.23s", "45ms", "2m03s" */
void cli_fmt_duration(char *buf, size_t size, int64_t ns);
/* "12.3 MiB" */
void cli_fmt_bytes(char *buf, size_t size, uint64_t bytes);
/* Parses "512M", "2G", "100k", "123" (bytes). 0 ok, -1 bad. */
int cli_parse_bytes(uint64_t *out, const char *s);
/* Parses "30s", "15m", "24h", "7d" into ns. 0 ok, -1 bad. */
int cli_parse_duration(int64_t *out, const char *s);
/* "sha256:<hex>" */
void cli_fmt_digest(char *buf, const goaccel_digest *d);

/* A growable list of borrowed strings (argv pointers). */
typedef struct {
	const char **v;
	size_t n;
} cli_list;
int cli_list_add(cli_list *l, const char *s);
void cli_list_free(cli_list *l);

/* 1 when the global SIGINT handler saw a signal. */
extern volatile int cli_interrupted;

/* The command groups. argc/argv start at the command name. */
int cmd_build(int argc, char **argv, int dry_run);
int cmd_hash(int argc, char **argv);
int cmd_gomod(int argc, char **argv);
int cmd_cache(int argc, char **argv);

#endif
