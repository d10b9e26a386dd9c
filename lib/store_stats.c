/* Persistent statistics: counters per step kind in an SQLite database (stats.db, WAL mode).
 *
 * Why SQLite and not a file per counter: counters are read-modify-write, and several processes
 * update them at once. SQLite gives an atomic "add" across processes (one UPSERT per event)
 * that survives kill -9 at any point (WAL recovery), with no lock protocol of our own.
 * Everything else in the store is a file per entry; see docs/store.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "store_internal.h"
#include "util/dl_sqlite.h"
#include "util/err.h"
#include "util/strarray.h"

#define STATS_SCHEMA_VERSION 1

static const char *const counter_names[] = {"hits",          "misses", "corrupt",  "bytes_restored",
                                            "time_saved_ns", "puts",   "bytes_put"};
#define NCOUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

static uint64_t *counter_field(goaccel_store_counters *c, size_t i)
{
	uint64_t *f[NCOUNTERS] = {&c->hits, &c->misses, &c->corrupt, &c->bytes_restored,
	                          &c->time_saved_ns, &c->puts, &c->bytes_put};
	return f[i];
}

static int sql_error(sqlite3 *db, const char *what)
{
	return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_SQLITE, "statistics database: %s: %s", what,
	                db ? sqlite3_errmsg(db) : "cannot allocate");
}

/* Runs setup SQL, retrying while another process holds the database during its own setup. */
static int exec_retry(sqlite3 *db, const char *sql)
{
	int rc, tries;
	for (tries = 0; tries < 600; tries++) {
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		{
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	return rc == SQLITE_OK ? 0 : sql_error(db, sql);
}

static int db_get(sqlite3 **out, goaccel_store *s)
{
	int error = 0;
	char *path = NULL;
	sqlite3 *db = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->db) {
		*out = s->db;
		goto done;
	}
	if ((error = ga_sqlite_load()) < 0)
		goto done;
	if ((path = ga_store_sub(s, "stats.db")) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		error = sql_error(db, path);
		goto done;
	}
	sqlite3_busy_timeout(db, 60000);
	if ((error = exec_retry(db, "PRAGMA journal_mode=WAL")) < 0 ||
	    (error = exec_retry(db, "PRAGMA synchronous=NORMAL")) < 0 ||
	    (error = exec_retry(db, "CREATE TABLE IF NOT EXISTS counters("
	                            "kind TEXT PRIMARY KEY NOT NULL,"
	                            "hits INTEGER NOT NULL DEFAULT 0,"
	                            "misses INTEGER NOT NULL DEFAULT 0,"
	                            "corrupt INTEGER NOT NULL DEFAULT 0,"
	                            "bytes_restored INTEGER NOT NULL DEFAULT 0,"
	                            "time_saved_ns INTEGER NOT NULL DEFAULT 0,"
	                            "puts INTEGER NOT NULL DEFAULT 0,"
	                            "bytes_put INTEGER NOT NULL DEFAULT 0)")) < 0 ||
	    (error = exec_retry(db, "CREATE TABLE IF NOT EXISTS verified("
	                            "digest BLOB PRIMARY KEY NOT NULL, dev INTEGER NOT NULL,"
	                            "ino INTEGER NOT NULL, size INTEGER NOT NULL,"
	                            "mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL)")) < 0 ||
	    (error = exec_retry(db, "PRAGMA user_version=1")) < 0)
		goto done;
	s->db = db;
	db = NULL;
	*out = s->db;
done:
	if (db)
		sqlite3_close_v2(db);
	free(path);
	pthread_mutex_unlock(&s->lock);
	return error;
}

void ga_stats_close(goaccel_store *s)
{
	if (s->db)
		sqlite3_close_v2(s->db);
	s->db = NULL;
}

int ga_stats_add(goaccel_store *s, const char *kind, const goaccel_store_counters *d)
{
	static const char sql[] =
		"INSERT INTO counters(kind,hits,misses,corrupt,bytes_restored,time_saved_ns,puts,"
		"bytes_put) VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(kind) DO UPDATE SET "
		"hits=hits+excluded.hits, misses=misses+excluded.misses,"
		"corrupt=corrupt+excluded.corrupt, bytes_restored=bytes_restored+excluded.bytes_restored,"
		"time_saved_ns=time_saved_ns+excluded.time_saved_ns, puts=puts+excluded.puts,"
		"bytes_put=bytes_put+excluded.bytes_put";
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	goaccel_store_counters c = *d;
	int error, rc;
	size_t i;
	if ((error = db_get(&db, s)) < 0)
		return error;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_error(db, "prepare");
	sqlite3_bind_text(st, 1, kind ? kind : "", -1, SQLITE_STATIC);
	for (i = 0; i < NCOUNTERS; i++)
		sqlite3_bind_int64(st, (int)i + 2, (sqlite3_int64)*counter_field(&c, i));
	/* A single statement is its own transaction; the busy timeout waits for other writers. */
	while ((rc = sqlite3_step(st)) == SQLITE_BUSY)
		;
	error = rc == SQLITE_DONE ? 0 : sql_error(db, "update counters");
	sqlite3_finalize(st);
	return error;
}

int goaccel_store_stats_add(goaccel_store *s, const char *kind, const goaccel_store_counters *delta)
{
	GA_ASSERT_ARG(s && delta);
	if (kind && *kind && ga_store_valid_kind(kind) < 0)
		return GOACCEL_EINVALID;
	return ga_stats_add(s, kind, delta);
}

static void row_to_counters(goaccel_store_counters *c, sqlite3_stmt *st, int first)
{
	size_t i;
	for (i = 0; i < NCOUNTERS; i++)
		*counter_field(c, i) = (uint64_t)sqlite3_column_int64(st, first + (int)i);
}

int goaccel_store_stats(goaccel_store_counters *out, goaccel_store *s, const char *kind)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int error, rc;
	const char *sql = kind ? "SELECT hits,misses,corrupt,bytes_restored,time_saved_ns,puts,"
	                         "bytes_put FROM counters WHERE kind=?1"
	                       : "SELECT total(hits),total(misses),total(corrupt),total(bytes_restored),"
	                         "total(time_saved_ns),total(puts),total(bytes_put) FROM counters";
	GA_ASSERT_ARG(out && s);
	memset(out, 0, sizeof(*out));
	if ((error = db_get(&db, s)) < 0)
		return error;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_error(db, "prepare");
	if (kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_BUSY)
		;
	if (rc == SQLITE_ROW) {
		if (kind) {
			row_to_counters(out, st, 0);
		} else {
			/* total() is a float; exact for any count below 2^53. */
			size_t i;
			for (i = 0; i < NCOUNTERS; i++)
				*counter_field(out, i) = (uint64_t)sqlite3_column_double(st, (int)i);
		}
	} else if (rc != SQLITE_DONE) {
		error = sql_error(db, "read counters");
	}
	sqlite3_finalize(st);
	return error;
}

int goaccel_store_stats_kinds(goaccel_strarray *out, goaccel_store *s)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int error, rc;
	GA_ASSERT_ARG(out && s);
	memset(out, 0, sizeof(*out));
	if ((error = db_get(&db, s)) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "SELECT kind FROM counters ORDER BY kind", -1, &st, NULL) != SQLITE_OK)
		return sql_error(db, "prepare");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW || rc == SQLITE_BUSY) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (rc == SQLITE_BUSY)
			continue;
		if ((error = ga_strarray_add(out, k ? k : "")) < 0)
			break;
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = sql_error(db, "read counters");
	sqlite3_finalize(st);
	if (error < 0)
		goaccel_strarray_dispose(out);
	return error;
}

int goaccel_store_stats_reset(goaccel_store *s)
{
	sqlite3 *db;
	int error;
	GA_ASSERT_ARG(s);
	if ((error = db_get(&db, s)) < 0)
		return error;
	if (sqlite3_exec(db, "DELETE FROM counters", NULL, NULL, NULL) != SQLITE_OK)
		return sql_error(db, "reset");
	return 0;
}

static json_t *counters_json(const goaccel_store_counters *c)
{
	json_t *o = json_object();
	size_t i;
	uint64_t lookups = c->hits + c->misses;
	for (i = 0; i < NCOUNTERS; i++)
		json_object_set_new(o, counter_names[i],
		                    json_integer((json_int_t)*counter_field((goaccel_store_counters *)c, i)));
	json_object_set_new(o, "hit_rate",
	                    lookups ? json_real((double)c->hits / (double)lookups) : json_null());
	return o;
}

int goaccel_store_stats_json(char **out, goaccel_store *s, int with_usage)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	goaccel_store_counters total;
	json_t *root = NULL, *kinds;
	int error, rc;
	GA_ASSERT_ARG(out && s);
	*out = NULL;
	if ((error = goaccel_store_stats(&total, s, NULL)) < 0 || (error = db_get(&db, s)) < 0)
		return error;
	root = json_object();
	kinds = json_object();
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "total", counters_json(&total));
	json_object_set_new(root, "kinds", kinds);
	if (sqlite3_prepare_v2(db,
	                       "SELECT hits,misses,corrupt,bytes_restored,time_saved_ns,puts,bytes_put,"
	                       "kind FROM counters ORDER BY kind",
	                       -1, &st, NULL) != SQLITE_OK) {
		error = sql_error(db, "prepare");
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW || rc == SQLITE_BUSY) {
		goaccel_store_counters c;
		if (rc == SQLITE_BUSY)
			continue;
		row_to_counters(&c, st, 0);
		json_object_set_new(kinds, (const char *)sqlite3_column_text(st, 7), counters_json(&c));
	}
	if (rc != SQLITE_DONE) {
		error = sql_error(db, "read counters");
		goto done;
	}
	if (with_usage) {
		goaccel_store_usage u;
		if ((error = goaccel_store_usage_get(&u, s)) < 0)
			goto done;
		json_object_set_new(root, "usage",
		                    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "blobs", (json_int_t)u.blobs,
		                              "blob_bytes", (json_int_t)u.blob_bytes, "actions",
		                              (json_int_t)u.actions, "action_bytes", (json_int_t)u.action_bytes,
		                              "refs", (json_int_t)u.refs, "ref_bytes", (json_int_t)u.ref_bytes,
		                              "mounts", (json_int_t)u.mounts,
		                              "mount_bytes", (json_int_t)u.mount_bytes, "total_bytes",
		                              (json_int_t)u.total_bytes));
	}
	if ((*out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL)
		error = ga_error_oom();
done:
	sqlite3_finalize(st);
	json_decref(root);
	return error;
}

/* ---- verification stamps ------------------------------------------------------------------- */

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int ga_stamp_matches(goaccel_store *s, const goaccel_digest *d, const struct stat *st)
{
	sqlite3 *db;
	sqlite3_stmt *q = NULL;
	int match = 0;
	if (db_get(&db, s) < 0) {
		goaccel_error_clear();
		return 0;
	}
	if (sqlite3_prepare_v2(db, "SELECT dev,ino,size,mtime_ns,ctime_ns FROM verified WHERE digest=?1",
	                       -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_blob(q, 1, d->id, GOACCEL_DIGEST_SIZE, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		match = (uint64_t)sqlite3_column_int64(q, 0) == (uint64_t)st->st_dev &&
		        (uint64_t)sqlite3_column_int64(q, 1) == (uint64_t)st->st_ino &&
		        sqlite3_column_int64(q, 2) == (sqlite3_int64)st->st_size &&
		        sqlite3_column_int64(q, 3) == ts_ns(&st->st_mtim) &&
		        sqlite3_column_int64(q, 4) == ts_ns(&st->st_ctim);
	sqlite3_finalize(q);
	return match;
}

void ga_stamp_record(goaccel_store *s, const goaccel_digest *d, const struct stat *st)
{
	sqlite3 *db;
	sqlite3_stmt *q = NULL;
	if (db_get(&db, s) < 0) {
		goaccel_error_clear();
		return;
	}
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO verified VALUES(?1,?2,?3,?4,?5,?6)", -1, &q,
	                       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_blob(q, 1, d->id, GOACCEL_DIGEST_SIZE, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)st->st_dev);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)st->st_ino);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)st->st_size);
	sqlite3_bind_int64(q, 5, ts_ns(&st->st_mtim));
	sqlite3_bind_int64(q, 6, ts_ns(&st->st_ctim));
	while (sqlite3_step(q) == SQLITE_BUSY)
		;
	sqlite3_finalize(q);
}
