/*
 * store.c - the register directory: creating and opening its LMDB
 * environment and named databases, the copy of the policy it was created
 * with (logged at init and by the first write made under another), the
 * as-of clock, and the subject value's layout.
 *
 * The map is read-only to the process (no MDB_WRITEMAP): a stray write
 * cannot corrupt the store, and measured on ingest it was also faster,
 * since faulting fresh pages of a shared file mapping one by one costs
 * more than LMDB's own dirty pages written out with pwrite at commit.
 * Commits are durable (fsync before the meta page, then of the meta
 * page): a crash leaves the last commit whole.
 */
#include "internal.h"
#include "audit.h"

#include <assert.h>
#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* 5: inquiries in a log (ilog), the indexes of inquiries and of notices
 * by subject beside the register (iidx.c), and reviews indexed by their
 * decision (rvq, review.c). A register of format 1 (one table of
 * inquiries, inq), 2 (the inquiry index inside the register), 3 (the
 * notice index, nsub, inside it) or 4 (no rvq) is moved to it when
 * opened. */
#define STORE_FORMAT 5
#define DEFAULT_MAPSIZE ((size_t)4 << 30)

int prb_mdb_fail(prb_env *env, int mrc, const char *what)
{
    /* MDB_MAP_RESIZED: another process wrote past this one's map. Like a
     * full map, it asks for a larger one (prb_env_grow), which the
     * callers that can grow theirs do. */
    int full = mrc == MDB_MAP_FULL || mrc == MDB_MAP_RESIZED;
    prb_seterr(env->err, full ? PRB_EFULL : PRB_ESTORE, "%s: store: %s: %s",
               env->dir ? env->dir : "?", what, mdb_strerror(mrc));
    return full ? PRB_EFULL : mrc == MDB_CORRUPTED ? PRB_ECORRUPT : PRB_ESTORE;
}

void prb_set_fixed_map(prb_env *env, int fixed)
{
    env->fixed_map = fixed != 0;
}

/* Sets the map to want bytes, or to twice the part of the data file the
 * register uses (in the newest commit, whichever process made it) if
 * that is more. No transaction of the process may be open. */
static int map_at_least(prb_env *env, size_t want, const char *what)
{
    MDB_envinfo info;
    MDB_stat ms;
    int mrc;
    if ((mrc = mdb_env_info(env->mdb, &info)) || (mrc = mdb_env_stat(env->mdb, &ms)))
        return prb_mdb_fail(env, mrc, what);
    size_t used = (size_t)(info.me_last_pgno + 1) * ms.ms_psize;
    if (want < used * 2)
        want = used * 2;
    if (want <= info.me_mapsize) {
        env->mapsize = info.me_mapsize;
        return PRB_OK;
    }
    if ((mrc = mdb_env_set_mapsize(env->mdb, want)))
        return prb_mdb_fail(env, mrc, what);
    env->mapsize = want;
    return PRB_OK;
}

int prb_env_grow(prb_env *env)
{
    /* Another handle of the register (prb_env_dup) may have grown it. */
    MDB_envinfo info;
    if (!mdb_env_info(env->mdb, &info) && info.me_mapsize > env->mapsize)
        env->mapsize = info.me_mapsize;
    if (env->fixed_map)
        return prb_seterr(env->err, PRB_EFULL,
                          "%s: store: the map (%zu MiB) is full and this handle may not grow it",
                          env->dir ? env->dir : "?", env->mapsize >> 20);
    return map_at_least(env, env->mapsize * 2, "growing the map");
}

/* How far the data file is kept written past LMDB's last page, and how
 * much one step adds when it falls short. Steps are small: writing them
 * allocates the file's new pages in the page cache, and on a virtual
 * machine whose host takes back the guest's free memory, first touching
 * such a page costs ~10 us (bench/serve: a 1-MiB step took 0.26 ms at
 * the start of a run and 2.6 ms on average, up to 11 ms, once the run had
 * used the memory freed just before it). One 1-MiB step held up its
 * commit and everything queued behind it; 64 KiB steps cost as much in
 * all, spread over four times as many commits. */
#define HEADROOM ((off_t)8 << 20)
#define HEADROOM_STEP ((off_t)64 << 10)

/* Where the next step of zeros goes, or -1 when there is room enough (or
 * the file cannot be asked). */
static off_t headroom_from(prb_env *env, int *fd)
{
    MDB_envinfo info;
    MDB_stat ms;
    if (mdb_env_info(env->mdb, &info) || mdb_env_stat(env->mdb, &ms) ||
        mdb_env_get_fd(env->mdb, fd))
        return -1;
    off_t end = (off_t)(info.me_last_pgno + 1) * (off_t)ms.ms_psize;
    /* The file's length is asked once: asking for it (fstat) at every
     * commit would make the next write stamp the inode with a fine-grained
     * time, which fdatasync then writes. Another process that grew the
     * file meanwhile only has its free space zeroed again. */
    if (!env->zeroed) {
        struct stat st;
        if (fstat(*fd, &st))
            return -1;
        env->zeroed = st.st_size;
    }
    off_t from = env->zeroed > end ? env->zeroed : end;
    return from - end >= HEADROOM ? -1 : from;
}

void prb_wtxn_headroom(prb_env *env)
{
    static char zero[4096]; /* never written: the zeros of every iovec */
    struct iovec iov[HEADROOM_STEP / sizeof zero];
    int fd;
    off_t from = headroom_from(env, &fd);
    if (from < 0)
        return;
    for (size_t i = 0; i < sizeof iov / sizeof *iov; i++)
        iov[i] = (struct iovec){zero, sizeof zero};
    /* A short or failed write only leaves less room, which the next
     * commit tops up; LMDB writes where it needs to either way. */
    ssize_t n = pwritev(fd, iov, (int)(sizeof iov / sizeof *iov), from);
    if (n > 0)
        env->zeroed = from + n;
}

int prb_headroom(prb_env *env)
{
    MDB_txn *txn;
    int fd, mrc;
    /* Asked first without the write lock: most calls find room enough. */
    if (headroom_from(env, &fd) < 0)
        return PRB_OK;
    /* Past LMDB's last page only the writer writes, so the zeros are
     * written under the write lock, in a transaction that writes nothing
     * else and is let go. */
    if ((mrc = mdb_txn_begin(env->mdb, NULL, 0, &txn)))
        return prb_mdb_fail(env, mrc, "starting a write");
    prb_wtxn_headroom(env);
    mdb_txn_abort(txn);
    return PRB_OK;
}

int prb_file_replace(prb_env *env, const char *dir, const char *name, const char *buf, size_t len)
{
    char tmp[4096], dst[4096];
    int fd;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, PRB_FILE_MODE);
    if (fd < 0)
        return prb_seterr(env->err, PRB_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return prb_seterr(env->err, PRB_EIO, "%s: write failed: %s", tmp, strerror(errno));
        }
        off += (size_t)w;
    }
    int bad = fsync(fd);
    bad |= close(fd);
    if (bad || rename(tmp, dst)) {
        unlink(tmp);
        return prb_seterr(env->err, PRB_EIO, "%s: cannot store: %s", dst, strerror(errno));
    }
    return prb_dir_sync(env, dir);
}

/* The lock file of an environment of PRB_MAX_READERS readers: 64 bytes a
 * reader and a header, a page more to be sure. */
#define LOCK_FILE_BYTES ((off_t)PRB_MAX_READERS * 64 + 4096)

int prb_lock_file_room(const char *path)
{
    /* The descriptor is this function's own, and closing it drops none
     * of LMDB's locks on the file (a process loses its fcntl locks on a
     * file when it closes any descriptor of it): the process has not
     * opened the environment yet. Blocks past the file's end (it is made
     * empty here, and as long as the table by LMDB) stay the file's. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, PRB_FILE_MODE), r;
    if (fd < 0)
        return 0;
    while ((r = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, LOCK_FILE_BYTES)) && errno == EINTR)
        ;
    int saved = errno;
    close(fd);
    errno = saved;
    return r && saved == ENOSPC ? -1 : 0;
}

int prb_fsync_dir(const char *dir)
{
    /* A new or removed name survives a restart only once its directory
     * is flushed. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd), saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int prb_dir_sync(prb_env *env, const char *dir)
{
    return prb_fsync_dir(dir)
               ? prb_seterr(env->err, PRB_EIO, "%s: cannot flush: %s", dir, strerror(errno))
               : PRB_OK;
}

/* Deletes the database name of txn's environment, if it has one. */
static int drop_if_there(MDB_txn *txn, const char *name)
{
    MDB_dbi old;
    int mrc = mdb_dbi_open(txn, name, 0, &old);
    if (mrc == MDB_NOTFOUND)
        return 0;
    return mrc ? mrc : mdb_drop(txn, old, 1);
}

static int open_mdb(prb_env *env, int create)
{
    char lpath[4096];
    int mrc, rc;
    MDB_txn *txn = NULL;
    const char *s = getenv("PROBITY_MAPSIZE_MB");

    env->mapsize = s && atol(s) > 0 ? (size_t)atol(s) << 20 : DEFAULT_MAPSIZE;
    if ((mrc = mdb_env_create(&env->mdb)) || (mrc = mdb_env_set_maxdbs(env->mdb, 16)) ||
        (mrc = mdb_env_set_maxreaders(env->mdb, PRB_MAX_READERS)) ||
        (mrc = mdb_env_set_mapsize(env->mdb, env->mapsize)))
        return prb_mdb_fail(env, mrc, "creating the environment");
    snprintf(lpath, sizeof lpath, "%s/lock.mdb", env->dir);
    if (prb_lock_file_room(lpath))
        return prb_seterr(env->err, PRB_EFULL, "%s: no room for the reader table: %s", lpath,
                          strerror(errno));
    mrc = mdb_env_open(env->mdb, env->dir, MDB_NOTLS | MDB_NORDAHEAD, PRB_FILE_MODE);
    if (mrc)
        return prb_mdb_fail(env, mrc, "opening");
    /* LMDB raises a map smaller than the data file's used part to exactly
     * that part, which leaves no page to write but the free ones: a
     * process that opened a register another (an ingest, the server's
     * 256 GiB map) had grown past the size it asked for then failed its
     * first write that needed more (a decision, a dispute, the sweep)
     * with "store is full", and only ingest and delivery grow their map.
     * Twice the used part leaves as much room again, in address space
     * only (no MDB_WRITEMAP), and a map set before any transaction needs
     * no growing while others are open. */
    if ((rc = map_at_least(env, env->mapsize, "sizing the map")))
        return rc;
    unsigned flags = create ? MDB_CREATE : 0;
    if ((mrc = mdb_txn_begin(env->mdb, NULL, 0, &txn)) ||
        (mrc = mdb_dbi_open(txn, "meta", flags, &env->meta)) ||
        (mrc = mdb_dbi_open(txn, "ident", flags, &env->ident)) ||
        (mrc = mdb_dbi_open(txn, "rec", flags, &env->rec)) ||
        (mrc = mdb_dbi_open(txn, "fref", flags, &env->fref)) ||
        /* Added after the first registers were made: created if absent. */
        (mrc = mdb_dbi_open(txn, "inq", MDB_CREATE, &env->inq)) ||
        (mrc = mdb_dbi_open(txn, "outbox", MDB_CREATE, &env->outbox)) ||
        (mrc = mdb_dbi_open(txn, "lst", MDB_CREATE, &env->lst)) ||
        (mrc = mdb_dbi_open(txn, "dsp", MDB_CREATE, &env->dsp)) ||
        (mrc = mdb_dbi_open(txn, "rvw", MDB_CREATE, &env->rvw)) ||
        (mrc = mdb_dbi_open(txn, "alog", MDB_CREATE, &env->alog)) ||
        (mrc = mdb_dbi_open(txn, "mtree", MDB_CREATE, &env->mtree)) ||
        (mrc = mdb_dbi_open(txn, "keys", MDB_CREATE, &env->keys)) ||
        (mrc = mdb_dbi_open(txn, "ilog", MDB_CREATE, &env->ilog)) ||
        (mrc = mdb_dbi_open(txn, "idem", MDB_CREATE, &env->idem)) ||
        (mrc = mdb_dbi_open(txn, "rvq", MDB_CREATE, &env->rvq)))
        goto fail;
    MDB_val k = {6, "format"}, v;
    if (create) {
        uint32_t fmt = STORE_FORMAT;
        unsigned char next[8];
        prb_be64(next, 1);
        MDB_val fv = {sizeof fmt, &fmt}, nk = {12, "next_subject"}, nv = {8, next};
        if ((mrc = mdb_put(txn, env->meta, &k, &fv, 0)) ||
            (mrc = mdb_put(txn, env->meta, &nk, &nv, 0)))
            goto fail;
    } else {
        uint32_t fmt;
        if ((mrc = mdb_get(txn, env->meta, &k, &v)))
            goto fail;
        memcpy(&fmt, v.mv_data, v.mv_size < 4 ? v.mv_size : 4);
        if (v.mv_size == 4 && fmt >= 1 && fmt <= 4) {
            uint32_t now = STORE_FORMAT;
            MDB_val fv = {sizeof now, &now};
            rc = PRB_OK;
            if (fmt == 1)
                rc = prb_inquiries_migrate(env, txn);
            /* Format 2's inquiry index and every earlier format's notice
             * index, inside the register: made again beside it, from the
             * log and the outbox (prb_iidx_open). */
            if (!rc && fmt == 2)
                mrc = drop_if_there(txn, "iidx");
            if (!rc && !mrc && fmt <= 3)
                mrc = drop_if_there(txn, "nsub");
            if (!rc && !mrc)
                rc = prb_reviews_index(env, txn);
            if (rc || mrc || (mrc = mdb_put(txn, env->meta, &k, &fv, 0))) {
                mdb_txn_abort(txn);
                return rc ? rc : prb_mdb_fail(env, mrc, "updating the store format");
            }
            env->imoved = fmt <= 3;
            fmt = STORE_FORMAT;
        }
        if (v.mv_size != 4 || fmt != STORE_FORMAT) {
            mdb_txn_abort(txn);
            return prb_seterr(env->err, PRB_ECORRUPT,
                              "%s: store format %u is not the one this build reads (%d)", env->dir,
                              fmt, STORE_FORMAT);
        }
    }
    if ((mrc = mdb_txn_commit(txn)))
        return prb_mdb_fail(env, mrc, "opening the databases");
    return PRB_OK;
fail:
    mdb_txn_abort(txn);
    if (mrc == MDB_NOTFOUND)
        return prb_seterr(env->err, PRB_ECORRUPT, "%s: not a probity register (databases missing)",
                          env->dir);
    return prb_mdb_fail(env, mrc, "opening the databases");
}

static prb_env *env_new(const char *dir)
{
    prb_env *env = calloc(1, sizeof *env);
    if (!env)
        return NULL;
    if (!(env->dir = strdup(dir))) {
        free(env);
        return NULL;
    }
    /* Caches keyed by handle (the audit tree's) must not outlive it: a
     * new handle at a freed one's address is another register. */
    static uint64_t next_uid;
    env->uid = __atomic_add_fetch(&next_uid, 1, __ATOMIC_RELAXED);
    env->ilock = -1;
    return env;
}

static int start_clock(prb_env *env)
{
    if (prb_clock(&env->now))
        return prb_seterr(env->err, PRB_EINVAL,
                          "PROBITY_NOW='%s' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
                          getenv("PROBITY_NOW"));
    env->log_now = env->now;
    return PRB_OK;
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int empty = 1;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

void prb_parent_of(const char *path, char *out, size_t size)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--; /* "reg/" is named in ".", as "reg" is */
    while (n > 0 && path[n - 1] != '/')
        n--;
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (!n)
        snprintf(out, size, ".");
    else
        snprintf(out, size, "%.*s", (int)n, path);
}

int prb_make_dirs(char *path)
{
    struct stat sb;
    char parent[4096];
    if (!stat(path, &sb)) {
        if (S_ISDIR(sb.st_mode))
            return 0;
        errno = ENOTDIR;
        return -1;
    }
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = 0;
        int rc = prb_make_dirs(path);
        *slash = '/';
        if (rc)
            return -1;
    }
    if (mkdir(path, PRB_DIR_MODE) && errno != EEXIST)
        return -1;
    prb_parent_of(path, parent, sizeof parent);
    return prb_fsync_dir(parent);
}

/* Flushes the directory dir is named in (its parent), so that a
 * directory just made there survives a restart of the machine: made and
 * then filled, a register whose own name a crash forgot is lost whole,
 * though every commit in it was flushed. */
static int parent_sync(prb_env *env, const char *dir)
{
    char parent[4096];
    prb_parent_of(dir, parent, sizeof parent);
    return prb_dir_sync(env, parent);
}

int prb_init(const char *dir, const char *policy_path, prb_env **out)
{
    prb_env *env = *out = env_new(dir);
    int rc;
    if (!env)
        return PRB_ENOMEM;
    if ((rc = start_clock(env)))
        return rc;
    rc = policy_path ? prb_policy_load(policy_path, &env->policy)
                     : prb_policy_load_default(&env->policy);
    if (rc)
        return prb_seterr(env->err, rc, "%s", prb_policy_errmsg(env->policy));
    prb_sha256(env->policy->text, env->policy->text_len, env->policy_sha);
    if (!mkdir(dir, PRB_DIR_MODE)) {
        if ((rc = parent_sync(env, dir)))
            return rc;
    } else if (errno != EEXIST) {
        return prb_seterr(env->err, PRB_EIO, "%s: cannot create directory: %s", dir,
                          strerror(errno));
    }
    if (!dir_is_empty(dir))
        return prb_seterr(env->err, PRB_EEXIST,
                          "%s: directory is not empty; a register needs "
                          "a new or empty directory",
                          dir);
    if ((rc = prb_file_replace(env, dir, PRB_POLICY_FILE, env->policy->text,
                               env->policy->text_len)) ||
        (rc = open_mdb(env, 1)) || (rc = prb_iidx_open(env)) || (rc = prb_audit_keygen(env)))
        return rc;
    return prb_audit_policy(env);
}

void prb_readers_check(prb_env *env)
{
    int dead;
    /* A process killed in a read transaction (a `probity verify` holds
     * one for its whole run) leaves its reader slot behind while others
     * keep the environment open, and LMDB frees no page that the slot's
     * old snapshot can see: the file would grow by every later commit's
     * pages, for as long as the server runs. LMDB clears such slots only
     * when asked (or when the last process closes the environment). A
     * failure leaves them to the next call. */
    if (env->mdb)
        mdb_reader_check(env->mdb, &dead);
    if (env->imdb)
        mdb_reader_check(env->imdb, &dead);
}

/* env's policy holds forms a policy adopted now may not (PRB_OLD_*): it
 * stays only if it is the register's policy in force, the one meta's
 * hash says was logged last (or none is, the register being older than
 * the log of policies), adopted when those forms loaded. A policy.json
 * edited since is being adopted, and is held to every rule. */
static int confirm_in_force(prb_env *env)
{
    MDB_txn *txn;
    MDB_val k = {sizeof PRB_POLICY_HASH_KEY - 1, PRB_POLICY_HASH_KEY}, v;
    prb_policy *p = NULL;
    int rc, mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    mrc = mdb_get(txn, env->meta, &k, &v);
    int kept = mrc == MDB_NOTFOUND || (!mrc && v.mv_size == PRB_HASH_LEN &&
                                       !memcmp(v.mv_data, env->policy_sha, PRB_HASH_LEN));
    mdb_txn_abort(txn);
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "reading the policy's hash");
    if (kept)
        return PRB_OK;
    /* The same bytes again, under every rule: one of those forms fails. */
    rc = prb_policy_load_buf(env->policy->name, env->policy->text, env->policy->text_len, &p);
    assert(rc != PRB_OK);
    rc = prb_seterr(env->err, rc ? rc : PRB_EPOLICY,
                    "%s (the file is not the policy the register has in force, so it is held "
                    "to the rules of a policy adopted now)",
                    prb_policy_errmsg(p));
    prb_policy_free(p);
    return rc;
}

int prb_open(const char *dir, prb_env **out)
{
    prb_env *env = *out = env_new(dir);
    char path[4096];
    struct stat st;
    int rc;
    if (!env)
        return PRB_ENOMEM;
    if ((rc = start_clock(env)))
        return rc;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st))
        return prb_seterr(env->err, PRB_ENOTFOUND,
                          "%s: not a probity register (no data.mdb; create one with probity init)",
                          dir);
    snprintf(path, sizeof path, "%s/%s", dir, PRB_POLICY_FILE);
    /* Loaded as the policy in force may be, before the store is touched,
     * and held to every rule below if it is not that one. */
    rc = prb_policy_load_kept(path, NULL, &env->policy);
    if (rc)
        return prb_seterr(env->err, rc, "%s", prb_policy_errmsg(env->policy));
    /* Logged by this handle's first write, if it is not the one logged
     * last (audit.c): an open that only reads writes nothing. */
    prb_sha256(env->policy->text, env->policy->text_len, env->policy_sha);
    if ((rc = open_mdb(env, 0)) || (env->policy->old_forms && (rc = confirm_in_force(env))) ||
        (rc = prb_iidx_open(env)))
        return rc;
    prb_readers_check(env);
    return PRB_OK;
}

int prb_env_dup(prb_env *env, prb_env **out)
{
    prb_env *h = *out = malloc(sizeof *h);
    if (!h)
        return PRB_ENOMEM;
    /* Everything the original's handle holds is the register's, bar what
     * is per caller: the message, the write batch, the token check's kept
     * read transaction, the key calls are made for, the signing key copy
     * and the signed head it caches (loaded again on first use). */
    memcpy(h, env, sizeof *h);
    h->shared = 1;
    h->wlog = NULL;
    h->ktxn = NULL;
    h->caller[0] = 0;
    h->idir = NULL;
    h->recent = NULL;
    h->cancel = NULL;
    h->cancel_ctx = NULL;
    h->guard = NULL;
    h->guard_ctx = NULL;
    h->list_writes = 0;
    h->dsp_reads = 0;
    h->ilog_txn = 0;
    h->notice_txn = 0;
    h->has_key = 0;
    sodium_memzero(h->sk, sizeof h->sk);
    h->head_size = 0;
    h->head_time = 0;
    h->err[0] = 0;
    if (!(h->dir = strdup(env->dir))) {
        free(h);
        *out = NULL;
        return PRB_ENOMEM;
    }
    return PRB_OK;
}

void prb_close(prb_env *env)
{
    if (!env)
        return;
    if (env->ktxn)
        mdb_txn_abort(env->ktxn);
    if (!env->shared) {
        prb_iidx_close(env);
        if (env->mdb)
            mdb_env_close(env->mdb);
    }
    sodium_memzero(env->sk, sizeof env->sk);
    prb_recent_free(env->recent);
    if (!env->shared)
        prb_policy_free(env->policy);
    free(env->dir);
    free(env);
}

void prb_set_cancel(prb_env *env, prb_cancel_fn fn, void *ctx)
{
    env->cancel = fn;
    env->cancel_ctx = ctx;
}

void prb_set_guard(prb_env *env, prb_guard_fn fn, void *ctx)
{
    env->guard = fn;
    env->guard_ctx = ctx;
}

int prb_cancelled(prb_env *env)
{
    return env->cancel && env->cancel(env->cancel_ctx);
}

const char *prb_errmsg(const prb_env *env)
{
    return env ? env->err : "out of memory";
}

const prb_policy *prb_env_policy(const prb_env *env)
{
    return env->policy;
}

void prb_set_now(prb_env *env, int64_t t)
{
    env->now = env->log_now = t;
}

void prb_set_as_of(prb_env *env, int64_t t)
{
    env->now = t;
}

int64_t prb_now(const prb_env *env)
{
    return env->now;
}

int32_t prb_today(const prb_env *env)
{
    return prb_day_of(env->now);
}

int prb_next_number(prb_env *env, MDB_cursor *cur, const char *what, uint64_t *next)
{
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    *next = !mrc && k.mv_size == 8 ? prb_get_be64(k.mv_data) + 1 : 1;
    return mrc && mrc != MDB_NOTFOUND ? prb_mdb_fail(env, mrc, what) : PRB_OK;
}

int prb_count(prb_env *env, uint64_t *subjects, uint64_t *versions)
{
    MDB_txn *txn;
    MDB_stat rs;
    MDB_val k = {12, "next_subject"}, v;
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    if ((mrc = mdb_stat(txn, env->rec, &rs)) || (mrc = mdb_get(txn, env->meta, &k, &v))) {
        mdb_txn_abort(txn);
        return prb_mdb_fail(env, mrc, "counting");
    }
    /* Subjects are never deleted, so the counter counts them; each has
     * one entry in rec besides its record versions. */
    uint64_t n = v.mv_size == 8 ? prb_get_be64(v.mv_data) - 1 : 0;
    mdb_txn_abort(txn);
    if (subjects)
        *subjects = n;
    if (versions)
        *versions = rs.ms_entries - n;
    return PRB_OK;
}

int prb_entries(prb_env *env, MDB_dbi dbi, const char *what, uint64_t *n)
{
    MDB_txn *txn;
    MDB_stat st;
    int mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    mrc = mdb_stat(txn, dbi, &st);
    mdb_txn_abort(txn);
    if (mrc)
        return prb_mdb_fail(env, mrc, what);
    *n = st.ms_entries;
    return PRB_OK;
}

int prb_count_records(prb_env *env, uint64_t *records)
{
    /* fref holds the current version of each record: ingest adds its
     * entry, a correction updates it, prb_record_delete removes it. */
    return prb_entries(env, env->fref, "counting records", records);
}

/* ---------------------------------------------------------- index keys */

size_t prb_fref_key(unsigned char *out, const char *furn, size_t fl, const char *ref, size_t rl)
{
    memcpy(out + 8, furn, fl);
    out[8 + fl] = 0;
    memcpy(out + 9 + fl, ref, rl);
    prb_be64(out, prb_hash(out + 8, fl + 1 + rl));
    return 9 + fl + rl;
}

size_t prb_ident_key(unsigned char *out, const char *ident, size_t n)
{
    memcpy(out + 8, ident, n);
    prb_be64(out, prb_hash(ident, n));
    return 8 + n;
}

int prb_subject_find(prb_env *env, MDB_txn *txn, const char *canon, uint64_t *subject)
{
    unsigned char ikey[PRB_IDENT_KEY_MAX];
    MDB_val k = {prb_ident_key(ikey, canon, strlen(canon)), ikey}, v;
    int mrc = mdb_get(txn, env->ident, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return prb_seterr(env->err, PRB_ENOTFOUND, "%s: no subject has this identifier", canon);
    if (mrc)
        return prb_mdb_fail(env, mrc, "looking up an identifier");
    if (v.mv_size != 8)
        return prb_seterr(env->err, PRB_ECORRUPT, "identifier %s: malformed value", canon);
    *subject = prb_get_be64(v.mv_data);
    return PRB_OK;
}

/* ------------------------------------------------------ subject values */

int prb_subject_decode(const unsigned char *v, size_t n, prb_subject *s, char *buf, size_t buflen)
{
    const unsigned char *r = v + PRB_SUBJ_HDR, *end = v + n;
    if (n < PRB_SUBJ_HDR || v[0] != PRB_SUBJ_LAYOUT)
        return PRB_ECORRUPT;
    s->kind = v[1];
    s->nidents = (uint16_t)(v[2] | v[3] << 8);
    memcpy(&s->next_rseq, v + 4, 4);
    memcpy(&s->created, v + 8, 4);
    if (s->nidents > PRB_MAX_IDENTS)
        return PRB_ECORRUPT;
    for (size_t i = 0; i < s->nidents; i++) {
        if (r >= end || (size_t)(end - r) < 1u + r[0] || buflen < r[0] + 1u)
            return PRB_ECORRUPT;
        memcpy(buf, r + 1, r[0]);
        buf[r[0]] = 0;
        s->idents[i] = buf;
        buf += r[0] + 1;
        buflen -= r[0] + 1u;
        r += 1 + r[0];
    }
    return r == end ? PRB_OK : PRB_ECORRUPT;
}

size_t prb_subject_size(const prb_subject *s)
{
    size_t n = PRB_SUBJ_HDR;
    for (size_t i = 0; i < s->nidents; i++)
        n += 1 + strlen(s->idents[i]);
    return n;
}

void prb_subject_set_next(unsigned char *v, uint32_t next_rseq)
{
    memcpy(v + 4, &next_rseq, 4); /* where prb_subject_decode reads it */
}

size_t prb_subject_encode(const prb_subject *s, unsigned char *buf)
{
    unsigned char *w = buf + PRB_SUBJ_HDR;
    buf[0] = PRB_SUBJ_LAYOUT;
    buf[1] = s->kind;
    buf[2] = (unsigned char)s->nidents;
    buf[3] = (unsigned char)(s->nidents >> 8);
    prb_subject_set_next(buf, s->next_rseq);
    memcpy(buf + 8, &s->created, 4);
    for (size_t i = 0; i < s->nidents; i++) {
        size_t l = strlen(s->idents[i]);
        *w++ = (unsigned char)l;
        memcpy(w, s->idents[i], l);
        w += l;
    }
    return (size_t)(w - buf);
}

/* Walks dbi from key from on, of subject only unless it is 0. */
static int walk_ids(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t from, uint64_t subject,
                    prb_walk_fn fn, void *ctx, uint64_t *last, const char *what)
{
    MDB_cursor *cur;
    unsigned char k0[8];
    MDB_val k = {8, k0}, v;
    int mrc, rc = PRB_OK;
    if (last)
        *last = 0;
    prb_be64(k0, from);
    if ((mrc = mdb_cursor_open(txn, dbi, &cur)))
        return prb_mdb_fail(env, mrc, "opening a cursor");
    for (mrc = mdb_cursor_get(cur, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8)
            continue;
        uint64_t id = prb_get_be64(k.mv_data);
        if (subject && id >> PRB_RSEQ_BITS != subject)
            break;
        if (last)
            *last = id;
        if (fn && (rc = fn(ctx, id, &v)))
            break;
    }
    mdb_cursor_close(cur);
    if (!rc && mrc && mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(env, mrc, what);
    return rc;
}

int prb_walk_subject(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t subject, prb_walk_fn fn,
                     void *ctx, uint64_t *last, const char *what)
{
    return walk_ids(env, txn, dbi, subject << PRB_RSEQ_BITS, subject, fn, ctx, last, what);
}

int prb_subject_last(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t subject, uint64_t *last,
                     const char *what)
{
    MDB_cursor *cur;
    unsigned char k0[8];
    MDB_val k = {8, k0}, v;
    int mrc;
    *last = 0;
    if ((mrc = mdb_cursor_open(txn, dbi, &cur)))
        return prb_mdb_fail(env, mrc, "opening a cursor");
    /* The first key past the subject's range, and the one before it; the
     * last subject's range ends the key space. */
    if (subject < UINT64_MAX >> PRB_RSEQ_BITS) {
        prb_be64(k0, (subject + 1) << PRB_RSEQ_BITS);
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        mrc = mrc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
              : mrc               ? mrc
                                  : mdb_cursor_get(cur, &k, &v, MDB_PREV);
    } else
        mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    /* Keys of another size are not ids (prb_walk_subject skips them). */
    while (!mrc && k.mv_size != 8)
        mrc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    if (!mrc && prb_get_be64(k.mv_data) >> PRB_RSEQ_BITS == subject)
        *last = prb_get_be64(k.mv_data);
    mdb_cursor_close(cur);
    return mrc && mrc != MDB_NOTFOUND ? prb_mdb_fail(env, mrc, what) : PRB_OK;
}

int prb_walk_after(prb_env *env, MDB_txn *txn, MDB_dbi dbi, uint64_t after, prb_walk_fn fn,
                   void *ctx, const char *what)
{
    if (after == UINT64_MAX)
        return PRB_OK;
    return walk_ids(env, txn, dbi, after + 1, 0, fn, ctx, NULL, what);
}

int prb_page_json(prb_env *env, MDB_dbi dbi, uint64_t after, prb_walk_fn fn, void *ctx,
                  MDB_txn **txn, json_t *array, const prb_page *page, char **json, uint64_t *next,
                  const char *what)
{
    MDB_txn *t;
    int mrc, rc;
    *json = NULL;
    if (next)
        *next = 0;
    if (!array)
        return prb_seterr(env->err, PRB_ENOMEM, "out of memory");
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &t))) {
        json_decref(array);
        return prb_mdb_fail(env, mrc, "starting a read");
    }
    if (txn)
        *txn = t;
    rc = prb_walk_after(env, t, dbi, after, fn, ctx, what);
    mdb_txn_abort(t);
    if (txn)
        *txn = NULL;
    if (rc == PRB_PAGE_FULL)
        rc = PRB_OK;
    if (!rc && !(*json = json_dumps(array, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
        rc = PRB_ENOMEM;
    if (rc == PRB_ENOMEM)
        prb_seterr(env->err, rc, "out of memory");
    if (!rc && next)
        *next = page->next;
    json_decref(array);
    return rc;
}

size_t prb_scan_max = 10000;

int prb_page_look(prb_page *p, uint64_t id)
{
    if (p->bounded && p->seen++ == prb_scan_max) {
        p->next = p->looked;
        return PRB_PAGE_FULL;
    }
    p->looked = id;
    return PRB_OK;
}

int prb_page_take(prb_page *p, uint64_t id)
{
    if (p->limit && p->n == p->limit) {
        p->next = p->last;
        return PRB_PAGE_FULL;
    }
    p->n++;
    p->last = id;
    return PRB_OK;
}
