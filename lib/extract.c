/*
 * extract: `COPY --from` semantics between two directory trees (goaccel/extract.h).
 *
 * Paths are resolved component by component in user space so that symbolic links are followed
 * *inside* their root (an absolute target restarts at the root) and ".." can never climb above
 * it. The resolved, link-free path is then opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), so a link swapped in by a racing process cannot redirect us either.
 * Recursive copies work on directory file descriptors and never follow links.
 *
 * Directory metadata (mode, owner, mtime) is applied at the very end, deepest first: writing a
 * child changes a directory's mtime, and a read-only source directory must stay writable until
 * its children are in place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/openat2.h>

#include "goaccel/extract.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

#define MAX_SYMLINKS 40

#define RES_FOLLOW_LAST 1u    /* follow a symbolic link in the last component */
#define RES_CREATE_PARENTS 2u /* create missing intermediate directories */

typedef struct {
	dev_t dev;
	ino_t ino;
	char *dst; /* canonical destination path, relative to the destination root */
} hardlink_entry;

typedef struct {
	char *path; /* relative to the destination root, never "" */
	mode_t mode;
	int64_t uid, gid; /* GOACCEL_EXTRACT_KEEP: leave as created */
	int strict;       /* chown failures are errors */
	int64_t mtime;
} dir_fixup;

typedef struct {
	goaccel_extract_options opts;
	const char *src_display;
	const char *dst_display;
	int src_root;
	int dst_root;
	hardlink_entry *links;
	size_t nlinks, alinks;
	dir_fixup *fixups;
	size_t nfixups, afixups;
	int64_t parent_mtime;
} extract_ctx;

/* What one item asks for, with the options folded in. */
typedef struct {
	int64_t uid, gid;
	int mode;
} item_meta;

int goaccel_extract_options_init(goaccel_extract_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_extract_options, GOACCEL_EXTRACT_OPTIONS_INIT);
	return 0;
}

/* ---- path resolution inside a root ------------------------------------------------------- */

static int open_beneath(int root, const char *rel, int flags, const char *display)
{
	struct open_how how;
	long fd;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = openat(root, *rel ? rel : ".", flags | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == EXDEV || errno == ELOOP)
			return ga_error(GOACCEL_EUNSAFE, GOACCEL_ERROR_EXTRACT,
			                "%s/%s: path changed to leave its root while being opened",
			                display, rel);
		return ga_error_os(0, errno, "%s/%s: open", display, rel);
	}
	return (int)fd;
}

static int add_fixup(extract_ctx *ctx, const char *path, mode_t mode, int64_t uid, int64_t gid,
                     int strict, int64_t mtime)
{
	dir_fixup *f;
	if (ctx->nfixups == ctx->afixups) {
		size_t n = ctx->afixups ? ctx->afixups * 2 : 16;
		dir_fixup *p = realloc(ctx->fixups, n * sizeof(*p));
		if (!p)
			return ga_error_oom();
		ctx->fixups = p;
		ctx->afixups = n;
	}
	f = &ctx->fixups[ctx->nfixups];
	if ((f->path = strdup(path)) == NULL)
		return ga_error_oom();
	f->mode = mode;
	f->uid = uid;
	f->gid = gid;
	f->strict = strict;
	f->mtime = mtime;
	ctx->nfixups++;
	return 0;
}

/* Creates directory rel (its parent exists) with the fixed metadata of created parents. */
static int create_parent_dir(extract_ctx *ctx, const char *rel)
{
	if (mkdirat(ctx->dst_root, rel, 0700) < 0 && errno != EEXIST)
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: mkdir", ctx->dst_display, rel);
	/* an unprivileged caller cannot give directories away: they stay its own unless it asked
	 * for strict owners */
	return add_fixup(ctx, rel, ctx->opts.parent_mode & 07777, ctx->opts.parent_uid,
	                 ctx->opts.parent_gid, ctx->opts.strict_owner, ctx->parent_mtime);
}

/* Pops the last component of a canonical relative path ("a/b" -> "a", "a" -> ""). */
static void pop_component(ga_buf *cur)
{
	char *slash = cur->size ? strrchr(cur->ptr, '/') : NULL;
	cur->size = slash ? (size_t)(slash - cur->ptr) : 0;
	if (cur->ptr)
		cur->ptr[cur->size] = '\0';
}

/*
 * Resolves path inside the root rootfd as if the root were "/". On success *canon is the
 * link-free path relative to the root ("" for the root itself) and *missing says whether its
 * last component does not exist (its parent always does). Links in the middle are always
 * followed; the last one only with RES_FOLLOW_LAST. With RES_CREATE_PARENTS missing
 * intermediate directories are created (destination side only).
 */
static int resolve_in_root(char **canon, int *missing, extract_ctx *ctx, int rootfd,
                           const char *display, const char *path, unsigned flags)
{
	ga_buf cur = GA_BUF_INIT, rest = GA_BUF_INIT, cand = GA_BUF_INIT;
	char target[PATH_MAX + 1];
	int links = 0, error = 0;
	*canon = NULL;
	*missing = 0;
	if ((error = ga_buf_puts(&rest, path)) < 0 || (error = ga_buf_puts(&cur, "")) < 0)
		goto done;
	while (rest.size > 0) {
		struct stat st;
		char *name = rest.ptr, *slash;
		int last;
		while (*name == '/')
			name++;
		if (!*name)
			break;
		slash = strchr(name, '/');
		if (slash)
			*slash = '\0';
		/* the remaining path after this component, if anything but slashes is left */
		last = !slash || !slash[1 + strspn(slash + 1, "/")];
		if (!strcmp(name, ".")) {
			/* nothing */
		} else if (!strcmp(name, "..")) {
			if (cur.size == 0) {
				error = ga_error(GOACCEL_EUNSAFE, GOACCEL_ERROR_EXTRACT,
				                 "%s: '%s' climbs out of the root %s", path, "..", display);
				goto done;
			}
			pop_component(&cur);
		} else {
			ga_buf_clear(&cand);
			if ((error = ga_buf_printf(&cand, "%s%s%s", cur.ptr, cur.size ? "/" : "", name)) < 0)
				goto done;
			if (fstatat(rootfd, cand.ptr, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno != ENOENT) {
					error = ga_error_os(0, errno, "%s/%s: stat", display, cand.ptr);
					goto done;
				}
				if (last) {
					*missing = 1;
				} else if (flags & RES_CREATE_PARENTS) {
					if ((error = create_parent_dir(ctx, cand.ptr)) < 0)
						goto done;
				} else {
					error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_EXTRACT,
					                 "%s: not found in %s (no %s)", path, display,
					                 cand.ptr);
					goto done;
				}
			} else if (S_ISLNK(st.st_mode) && (!last || (flags & RES_FOLLOW_LAST))) {
				ssize_t n;
				ga_buf next = GA_BUF_INIT;
				if (++links > MAX_SYMLINKS) {
					error = ga_error(GOACCEL_EUNSAFE, GOACCEL_ERROR_EXTRACT,
					                 "%s: too many levels of symbolic links in %s",
					                 path, display);
					goto done;
				}
				n = readlinkat(rootfd, cand.ptr, target, sizeof(target) - 1);
				if (n < 0) {
					error = ga_error_os(GOACCEL_ERROR, errno, "%s/%s: readlink", display,
					                    cand.ptr);
					goto done;
				}
				target[n] = '\0';
				if (target[0] == '/')
					ga_buf_clear(&cur);
				if ((error = ga_buf_printf(&next, "%s/%s", target, slash ? slash + 1 : "")) < 0) {
					ga_buf_dispose(&next);
					goto done;
				}
				ga_buf_dispose(&rest);
				rest = next;
				continue;
			} else if (!last && !S_ISDIR(st.st_mode)) {
				error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_EXTRACT,
				                 "%s: %s/%s is not a directory", path, display, cand.ptr);
				goto done;
			}
			ga_buf_clear(&cur);
			if ((error = ga_buf_put(&cur, cand.ptr, cand.size)) < 0)
				goto done;
			if (*missing)
				break;
		}
		if (!slash)
			break;
		/* drop the consumed component from rest */
		memmove(rest.ptr, slash + 1, rest.size - (size_t)(slash + 1 - rest.ptr) + 1);
		rest.size = strlen(rest.ptr);
	}
	*canon = ga_buf_detach(&cur);
	if (!*canon)
		error = ga_error_oom();
done:
	ga_buf_dispose(&cur);
	ga_buf_dispose(&rest);
	ga_buf_dispose(&cand);
	return error;
}

/* ---- copying one entry -------------------------------------------------------------------- */

static int64_t clamp_mtime(const extract_ctx *ctx, int64_t mtime)
{
	switch (ctx->opts.mtime) {
	case GOACCEL_EXTRACT_MTIME_SET:
		return ctx->opts.source_date_epoch;
	case GOACCEL_EXTRACT_MTIME_CLAMP:
		return mtime > ctx->opts.source_date_epoch ? ctx->opts.source_date_epoch : mtime;
	default:
		return mtime;
	}
}

static void entry_times(struct timespec ts[2], const extract_ctx *ctx, const struct stat *st)
{
	int64_t m = clamp_mtime(ctx, (int64_t)st->st_mtim.tv_sec);
	ts[1].tv_sec = (time_t)m;
	ts[1].tv_nsec = m == (int64_t)st->st_mtim.tv_sec ? st->st_mtim.tv_nsec : 0;
	ts[0] = ts[1]; /* atime follows mtime: it carries no meaning in an image */
}

static int copy_data(int in, int out, const char *display)
{
	char *buf = NULL;
	int error = 0;
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
				break;
			return ga_error_os(GOACCEL_ERROR, errno, "%s: copy", display);
		}
	}
	/* copy_file_range refused before copying anything: plain read/write */
	if ((buf = malloc(GA_IO_CHUNK)) == NULL)
		return ga_error_oom();
	for (;;) {
		ssize_t n = read(in, buf, GA_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", display);
			break;
		}
		if (n == 0 || (error = ga_write_all(out, buf, (size_t)n, display)) < 0)
			break;
	}
	free(buf);
	return error;
}

static int copy_xattrs(const extract_ctx *ctx, int in, int out, const char *display)
{
	char *names = NULL, *value = NULL, *name;
	ssize_t len, vlen;
	int error = 0;
	if (!ctx->opts.xattrs)
		return 0;
	len = flistxattr(in, NULL, 0);
	if (len <= 0)
		return 0; /* none, or unsupported on the source */
	if ((names = malloc((size_t)len)) == NULL)
		return ga_error_oom();
	if ((len = flistxattr(in, names, (size_t)len)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: listxattr", display);
		goto done;
	}
	for (name = names; name < names + len; name += strlen(name) + 1) {
		if (!strcmp(name, "security.selinux"))
			continue;
		vlen = fgetxattr(in, name, NULL, 0);
		if (vlen < 0)
			continue; /* vanished */
		free(value);
		if ((value = malloc((size_t)vlen + 1)) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		if ((vlen = fgetxattr(in, name, value, (size_t)vlen)) < 0)
			continue;
		if (fsetxattr(out, name, value, (size_t)vlen, 0) < 0) {
			if (errno == ENOTSUP || (errno == EPERM && strncmp(name, "user.", 5) != 0))
				continue;
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: setxattr %s", display, name);
			goto done;
		}
	}
done:
	free(names);
	free(value);
	return error;
}

/* chown that tolerates EPERM for an owner merely kept from the source (unprivileged callers). */
static int apply_owner(int dirfd, const char *name, int fd, int64_t uid, int64_t gid, int strict,
                       const char *display)
{
	int rc;
	if (uid < 0 && gid < 0)
		return 0;
	if (fd >= 0)
		rc = fchown(fd, uid < 0 ? (uid_t)-1 : (uid_t)uid, gid < 0 ? (gid_t)-1 : (gid_t)gid);
	else
		rc = fchownat(dirfd, name, uid < 0 ? (uid_t)-1 : (uid_t)uid,
		              gid < 0 ? (gid_t)-1 : (gid_t)gid, AT_SYMLINK_NOFOLLOW);
	if (rc < 0 && !(errno == EPERM && !strict))
		return ga_error_os(GOACCEL_ERROR, errno, "%s: chown %lld:%lld", display,
		                   (long long)uid, (long long)gid);
	return 0;
}

/* The owner an entry gets: the item's choice, else the source's (strict only if asked). */
static void entry_owner(int64_t *uid, int64_t *gid, int *strict, const extract_ctx *ctx,
                        const item_meta *im, const struct stat *st)
{
	*uid = im->uid >= 0 ? im->uid : (int64_t)st->st_uid;
	*gid = im->gid >= 0 ? im->gid : (int64_t)st->st_gid;
	*strict = im->uid >= 0 || im->gid >= 0 || ctx->opts.strict_owner;
}

static int remember_link(extract_ctx *ctx, const struct stat *st, const char *drel)
{
	hardlink_entry *e;
	if (ctx->nlinks == ctx->alinks) {
		size_t n = ctx->alinks ? ctx->alinks * 2 : 16;
		hardlink_entry *p = realloc(ctx->links, n * sizeof(*p));
		if (!p)
			return ga_error_oom();
		ctx->links = p;
		ctx->alinks = n;
	}
	e = &ctx->links[ctx->nlinks];
	if ((e->dst = strdup(drel)) == NULL)
		return ga_error_oom();
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	ctx->nlinks++;
	return 0;
}

static const char *find_link(const extract_ctx *ctx, const struct stat *st)
{
	size_t i;
	for (i = 0; i < ctx->nlinks; i++)
		if (ctx->links[i].dev == st->st_dev && ctx->links[i].ino == st->st_ino)
			return ctx->links[i].dst;
	return NULL;
}

/*
 * Makes room for a new non-directory entry dname in ddir: an existing non-directory is
 * removed (if overwrite), an existing directory is an error.
 */
static int clear_target(const extract_ctx *ctx, int ddir, const char *dname, const char *drel)
{
	struct stat st;
	if (fstatat(ddir, dname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ga_error_os(GOACCEL_ERROR, errno, "%s/%s: stat",
		                                         ctx->dst_display, drel);
	if (S_ISDIR(st.st_mode))
		return ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_EXTRACT,
		                "%s/%s: is a directory; cannot replace it with a file",
		                ctx->dst_display, drel);
	if (!ctx->opts.overwrite)
		return ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_EXTRACT, "%s/%s: exists",
		                ctx->dst_display, drel);
	if (unlinkat(ddir, dname, 0) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: unlink", ctx->dst_display, drel);
	return 0;
}

static int copy_regular(extract_ctx *ctx, int sdir, const char *sname, const struct stat *st,
                        int ddir, const char *dname, const char *drel, const item_meta *im)
{
	int in = -1, out = -1, error = 0, strict;
	int64_t uid, gid;
	struct timespec ts[2];
	struct stat after;
	const char *linked;
	char *display = ga_path_join(ctx->dst_display, drel);
	if (!display)
		return ga_error_oom();
	if ((error = clear_target(ctx, ddir, dname, drel)) < 0)
		goto done;
	if (st->st_nlink > 1 && (linked = find_link(ctx, st)) != NULL) {
		if (linkat(ctx->dst_root, linked, ddir, dname, 0) < 0)
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: link to %s", display, linked);
		goto done;
	}
	if ((in = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0) {
		error = ga_error_os(0, errno, "%s: open %s", display, sname);
		goto done;
	}
	out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", display);
		goto done;
	}
	if ((error = copy_data(in, out, display)) < 0 || (error = copy_xattrs(ctx, in, out, display)) < 0)
		goto done;
	if (fstat(in, &after) == 0 && (after.st_size != st->st_size ||
	                               after.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	                               after.st_mtim.tv_nsec != st->st_mtim.tv_nsec)) {
		error = ga_error(GOACCEL_ECHANGED, GOACCEL_ERROR_EXTRACT,
		                 "%s: source changed while it was copied", display);
		goto done;
	}
	entry_owner(&uid, &gid, &strict, ctx, im, st);
	/* chown first: it clears setuid/setgid bits that chmod then sets */
	if ((error = apply_owner(-1, NULL, out, uid, gid, strict, display)) < 0)
		goto done;
	if (fchmod(out, im->mode >= 0 ? (mode_t)im->mode : st->st_mode & 07777) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", display);
		goto done;
	}
	entry_times(ts, ctx, st);
	if (futimens(out, ts) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: set times", display);
		goto done;
	}
	if (st->st_nlink > 1)
		error = remember_link(ctx, st, drel);
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(display);
	return error;
}

static int copy_special(extract_ctx *ctx, int sdir, const char *sname, const struct stat *st,
                        int ddir, const char *dname, const char *drel, const item_meta *im)
{
	int error = 0, strict;
	int64_t uid, gid;
	struct timespec ts[2];
	char target[PATH_MAX + 1];
	char *display = ga_path_join(ctx->dst_display, drel);
	if (!display)
		return ga_error_oom();
	if ((error = clear_target(ctx, ddir, dname, drel)) < 0)
		goto done;
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(sdir, sname, target, sizeof(target) - 1);
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: readlink", display);
			goto done;
		}
		target[n] = '\0';
		if (symlinkat(target, ddir, dname) < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: symlink", display);
			goto done;
		}
	} else if (S_ISFIFO(st->st_mode)) {
		if (mkfifoat(ddir, dname, 0600) < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: mkfifo", display);
			goto done;
		}
	} else if (mknodat(ddir, dname, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: mknod", display);
		goto done;
	}
	entry_owner(&uid, &gid, &strict, ctx, im, st);
	if ((error = apply_owner(ddir, dname, -1, uid, gid, strict, display)) < 0)
		goto done;
	if (!S_ISLNK(st->st_mode) &&
	    fchmodat(ddir, dname, im->mode >= 0 ? (mode_t)im->mode : st->st_mode & 07777, 0) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", display);
		goto done;
	}
	entry_times(ts, ctx, st);
	if (utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: set times", display);
done:
	free(display);
	return error;
}

static int copy_tree(extract_ctx *ctx, int sdir, const char *srel, int ddir, const char *drel,
                     const item_meta *im);

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int copy_entry(extract_ctx *ctx, int sdir, const char *sname, const char *srel, int ddir,
                      const char *dname, const char *drel, const item_meta *im)
{
	struct stat st, dst;
	int error = 0, s = -1, d = -1, strict, created = 0;
	int64_t uid, gid;
	struct timespec ts[2];
	if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ga_error_os(0, errno, "%s/%s: stat", ctx->src_display, srel);
	if (S_ISREG(st.st_mode))
		return copy_regular(ctx, sdir, sname, &st, ddir, dname, drel, im);
	if (S_ISSOCK(st.st_mode))
		return 0; /* a runtime artifact: it cannot be copied (nor stored in a layer) */
	if (!S_ISDIR(st.st_mode))
		return copy_special(ctx, sdir, sname, &st, ddir, dname, drel, im);

	if (fstatat(ddir, dname, &dst, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(dst.st_mode))
			return ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_EXTRACT,
			                "%s/%s: exists and is not a directory", ctx->dst_display, drel);
	} else if (errno != ENOENT) {
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: stat", ctx->dst_display, drel);
	} else if (mkdirat(ddir, dname, 0700) < 0) {
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: mkdir", ctx->dst_display, drel);
	} else {
		created = 1;
	}
	if (created) {
		entry_owner(&uid, &gid, &strict, ctx, im, &st);
		entry_times(ts, ctx, &st);
		if ((error = add_fixup(ctx, drel, im->mode >= 0 ? (mode_t)im->mode : st.st_mode & 07777,
		                       uid, gid, strict, (int64_t)ts[1].tv_sec)) < 0)
			return error;
	}
	if ((s = openat(sdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		error = ga_error_os(0, errno, "%s/%s: open", ctx->src_display, srel);
		goto done;
	}
	if ((d = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		error = ga_error_os(0, errno, "%s/%s: open", ctx->dst_display, drel);
		goto done;
	}
	if (created && (error = copy_xattrs(ctx, s, d, drel)) < 0)
		goto done;
	error = copy_tree(ctx, s, srel, d, drel, im);
done:
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	return error;
}

/* Copies the contents of directory sdir into ddir, in bytewise name order (so which of a set of
 * hard links becomes the file is deterministic). */
static int copy_tree(extract_ctx *ctx, int sdir, const char *srel, int ddir, const char *drel,
                     const item_meta *im)
{
	DIR *dir = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int fd, error = 0;
	ga_buf s = GA_BUF_INIT, d = GA_BUF_INIT;
	if ((fd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: open", ctx->src_display, srel);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: opendir", ctx->src_display, srel);
	}
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **p = realloc(names, nc * sizeof(*p));
			if (!p) {
				error = ga_error_oom();
				goto done;
			}
			names = p;
			cap = nc;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && !error; i++) {
		ga_buf_clear(&s);
		ga_buf_clear(&d);
		if ((error = ga_buf_printf(&s, "%s%s%s", srel, *srel ? "/" : "", names[i])) < 0 ||
		    (error = ga_buf_printf(&d, "%s%s%s", drel, *drel ? "/" : "", names[i])) < 0)
			break;
		error = copy_entry(ctx, sdir, names[i], s.ptr, ddir, names[i], d.ptr, im);
	}
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	ga_buf_dispose(&s);
	ga_buf_dispose(&d);
	return error;
}

/* ---- one item ------------------------------------------------------------------------------ */

/* Splits a canonical relative path into its parent and last component (borrowed). */
static const char *split_last(char *canon, const char **parent)
{
	char *slash = strrchr(canon, '/');
	if (!slash) {
		*parent = "";
		return canon;
	}
	*slash = '\0';
	*parent = canon;
	return slash + 1;
}

/* The last component of a path as written ("a/b/" -> "b"), or NULL when it is "." or "..". */
static char *written_basename(const char *path)
{
	size_t len = strlen(path), start;
	char *out;
	while (len > 0 && path[len - 1] == '/')
		len--;
	start = len;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (len == start || (len - start == 1 && path[start] == '.') ||
	    (len - start == 2 && path[start] == '.' && path[start + 1] == '.'))
		return NULL;
	if ((out = strndup(path + start, len - start)) == NULL)
		ga_error_oom();
	return out;
}

/* Copies a non-directory src (canonical scanon) to the resolved destination. */
static int extract_file(extract_ctx *ctx, const goaccel_extract_item *item, char *scanon,
                        const item_meta *im)
{
	char *dcanon = NULL, *base = NULL, *target = NULL, *spar_copy = NULL;
	const char *sname, *sparent, *dparent, *dname;
	int dmissing, error = 0, sdir = -1, ddir = -1, into_dir;
	size_t dlen = strlen(item->dst);
	struct stat st;

	if ((spar_copy = strdup(scanon)) == NULL)
		return ga_error_oom();
	sname = split_last(spar_copy, &sparent);
	if ((base = written_basename(item->src)) == NULL && (base = strdup(sname)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	into_dir = dlen > 0 && item->dst[dlen - 1] == '/';
	if ((error = resolve_in_root(&dcanon, &dmissing, ctx, ctx->dst_root, ctx->dst_display,
	                             item->dst, RES_FOLLOW_LAST | RES_CREATE_PARENTS)) < 0)
		goto done;
	if (!dmissing) {
		if (fstatat(ctx->dst_root, *dcanon ? dcanon : ".", &st, AT_SYMLINK_NOFOLLOW) < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s/%s: stat", ctx->dst_display, dcanon);
			goto done;
		}
		if (S_ISDIR(st.st_mode))
			into_dir = 1;
		else if (into_dir) {
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_EXTRACT,
			                 "%s: destination %s is not a directory", item->dst, dcanon);
			goto done;
		}
	} else if (into_dir && (error = create_parent_dir(ctx, dcanon)) < 0) {
		goto done;
	}
	if (into_dir) {
		target = *dcanon ? ga_path_join(dcanon, base) : strdup(base);
	} else {
		target = strdup(dcanon);
	}
	if (!target) {
		error = ga_error_oom();
		goto done;
	}
	free(dcanon);
	dcanon = strdup(target);
	if (!dcanon) {
		error = ga_error_oom();
		goto done;
	}
	dname = split_last(dcanon, &dparent);
	if ((sdir = open_beneath(ctx->src_root, sparent, O_RDONLY | O_DIRECTORY, ctx->src_display)) < 0) {
		error = sdir;
		goto done;
	}
	if ((ddir = open_beneath(ctx->dst_root, dparent, O_RDONLY | O_DIRECTORY, ctx->dst_display)) < 0) {
		error = ddir;
		goto done;
	}
	error = copy_entry(ctx, sdir, sname, scanon, ddir, dname, target, im);
done:
	if (sdir >= 0)
		close(sdir);
	if (ddir >= 0)
		close(ddir);
	free(spar_copy);
	free(base);
	free(target);
	free(dcanon);
	return error;
}

/* Copies the contents of a src directory (canonical scanon) into the resolved destination. */
static int extract_dir(extract_ctx *ctx, const goaccel_extract_item *item, const char *scanon,
                       const item_meta *im)
{
	char *dcanon = NULL;
	int dmissing, error = 0, s = -1, d = -1;
	struct stat st;
	if ((error = resolve_in_root(&dcanon, &dmissing, ctx, ctx->dst_root, ctx->dst_display,
	                             item->dst, RES_FOLLOW_LAST | RES_CREATE_PARENTS)) < 0)
		goto done;
	if ((s = open_beneath(ctx->src_root, scanon, O_RDONLY | O_DIRECTORY, ctx->src_display)) < 0) {
		error = s;
		goto done;
	}
	if (dmissing) {
		/* the destination directory itself takes the source directory's metadata */
		char *parent_copy = strdup(dcanon);
		const char *dparent, *dname;
		int pfd;
		if (!parent_copy) {
			error = ga_error_oom();
			goto done;
		}
		dname = split_last(parent_copy, &dparent);
		pfd = open_beneath(ctx->dst_root, dparent, O_RDONLY | O_DIRECTORY, ctx->dst_display);
		if (pfd < 0) {
			free(parent_copy);
			error = pfd;
			goto done;
		}
		error = copy_entry(ctx, s, ".", scanon, pfd, dname, dcanon, im);
		close(pfd);
		free(parent_copy);
		goto done;
	}
	if (fstatat(ctx->dst_root, *dcanon ? dcanon : ".", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(st.st_mode)) {
		error = ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_EXTRACT,
		                 "%s/%s: exists and is not a directory", ctx->dst_display, dcanon);
		goto done;
	}
	if ((d = open_beneath(ctx->dst_root, dcanon, O_RDONLY | O_DIRECTORY, ctx->dst_display)) < 0) {
		error = d;
		goto done;
	}
	error = copy_tree(ctx, s, scanon, d, dcanon, im);
done:
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	free(dcanon);
	return error;
}

static int extract_item(extract_ctx *ctx, const goaccel_extract_item *item)
{
	char *scanon = NULL;
	int missing, error;
	struct stat st;
	item_meta im;
	if (!item->src || !*item->src || !item->dst || !*item->dst)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_EXTRACT,
		                "extract item: src and dst must be non-empty paths");
	if (item->mode > 07777 || item->mode < -1)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_EXTRACT,
		                "%s: mode %o is not a permission mode", item->src, item->mode);
	im.uid = item->uid;
	im.gid = item->gid;
	im.mode = item->mode;
	if ((error = resolve_in_root(&scanon, &missing, ctx, ctx->src_root, ctx->src_display,
	                             item->src, RES_FOLLOW_LAST)) < 0)
		goto done;
	if (missing) {
		error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_EXTRACT, "%s: not found in %s",
		                 item->src, ctx->src_display);
		goto done;
	}
	if (fstatat(ctx->src_root, *scanon ? scanon : ".", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		error = ga_error_os(0, errno, "%s/%s: stat", ctx->src_display, scanon);
		goto done;
	}
	error = S_ISDIR(st.st_mode) ? extract_dir(ctx, item, scanon, &im)
	                            : extract_file(ctx, item, scanon, &im);
done:
	free(scanon);
	return error;
}

/* Applies directory metadata deepest-first (the reverse of creation order). */
static int apply_fixups(extract_ctx *ctx)
{
	size_t i = ctx->nfixups;
	int error = 0;
	while (i-- > 0 && !error) {
		const dir_fixup *f = &ctx->fixups[i];
		struct timespec ts[2];
		char *display = ga_path_join(ctx->dst_display, f->path);
		if (!display)
			return ga_error_oom();
		ts[0].tv_sec = ts[1].tv_sec = (time_t)f->mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if ((error = apply_owner(ctx->dst_root, f->path, -1, f->uid, f->gid, f->strict,
		                         display)) == 0) {
			if (fchmodat(ctx->dst_root, f->path, f->mode, 0) < 0)
				error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", display);
			else if (utimensat(ctx->dst_root, f->path, ts, AT_SYMLINK_NOFOLLOW) < 0)
				error = ga_error_os(GOACCEL_ERROR, errno, "%s: set times", display);
		}
		free(display);
	}
	return error;
}

static int open_root(int *out, const char *path, const char *what)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ga_error_os(0, errno, "%s root %s", what, path);
	*out = fd;
	return 0;
}

int goaccel_extract(const char *dst_root, const char *src_root, const goaccel_extract_item *items,
                    size_t n, const goaccel_extract_options *opts)
{
	extract_ctx ctx;
	goaccel_extract_options defaults = GOACCEL_EXTRACT_OPTIONS_INIT;
	size_t i;
	int error = 0;

	GA_ASSERT_ARG(dst_root);
	GA_ASSERT_ARG(src_root);
	GA_ASSERT_ARG(items || n == 0);
	GA_CHECK_VERSION(opts, GOACCEL_EXTRACT_OPTIONS_VERSION, "goaccel_extract_options");
	memset(&ctx, 0, sizeof(ctx));
	ctx.opts = opts ? *opts : defaults;
	ctx.src_root = ctx.dst_root = -1;
	if (ctx.opts.mtime == GOACCEL_EXTRACT_MTIME_DEFAULT)
		ctx.opts.mtime = ctx.opts.source_date_epoch >= 0 ? GOACCEL_EXTRACT_MTIME_CLAMP
		                                                 : GOACCEL_EXTRACT_MTIME_KEEP;
	if ((ctx.opts.mtime == GOACCEL_EXTRACT_MTIME_CLAMP ||
	     ctx.opts.mtime == GOACCEL_EXTRACT_MTIME_SET) && ctx.opts.source_date_epoch < 0)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_EXTRACT,
		                "extract: clamping or setting mtimes needs a source_date_epoch");
	if ((unsigned)ctx.opts.mtime > GOACCEL_EXTRACT_MTIME_SET || ctx.opts.parent_mode > 07777)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_EXTRACT, "extract: bad options");
	ctx.parent_mtime = ctx.opts.source_date_epoch >= 0 ? ctx.opts.source_date_epoch : 0;
	ctx.src_display = src_root;
	ctx.dst_display = dst_root;
	if ((error = open_root(&ctx.src_root, src_root, "source")) < 0 ||
	    (error = open_root(&ctx.dst_root, dst_root, "destination")) < 0)
		goto done;
	for (i = 0; i < n && !error; i++)
		error = extract_item(&ctx, &items[i]);
	if (!error)
		error = apply_fixups(&ctx);
done:
	if (ctx.src_root >= 0)
		close(ctx.src_root);
	if (ctx.dst_root >= 0)
		close(ctx.dst_root);
	for (i = 0; i < ctx.nlinks; i++)
		free(ctx.links[i].dst);
	free(ctx.links);
	for (i = 0; i < ctx.nfixups; i++)
		free(ctx.fixups[i].path);
	free(ctx.fixups);
	return error;
}
