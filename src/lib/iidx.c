/*
 * iidx.c - the index of inquiries by subject (store format 3): an LMDB
 * environment of its own beside the register's (DIR/index.mdb), derived
 * from the inquiry log and written without waiting for the disk.
 *
 * Why apart: a decision's index entry lands at a random place in a large
 * tree, and writing and flushing that page (and the branch above it) in
 * every commit was about a quarter of the server's CPU per stored
 * decision (bench/serve: 61-68 us with it, 47-48 us with no index). The
 * log, which the register keeps durably, is the record; the index only
 * says where in it a subject's inquiries are, and can always be made
 * again from it. So its commits are not flushed (MDB_NOSYNC): the page
 * cache gathers many commits' changes to the same pages into one write.
 *
 * Consistency: the index holds the entries of the log's [1, upto), with
 * upto stored in the same commit as they are. After every commit that
 * appends to the log, the committing handle brings the index up to the
 * log's end (prb_iidx_catch_up). A reader takes the entries below the
 * log's end in its own snapshot and reads the log itself from upto to
 * that end, so it sees exactly its snapshot's inquiries whether the index
 * is behind it (a commit not yet indexed) or ahead of it (a later one).
 *
 * Crashes: a process that dies leaves the index's last commit in the page
 * cache, whole; the next open indexes whatever the log has beyond it. A
 * machine that stops may leave an unflushed environment torn, so after a
 * restart of the machine (another boot id) the index is trusted only if
 * its last user flushed it and marked it so when closing (index.state);
 * otherwise it is removed and built again from the log. Before the first
 * unflushed write, the state file durably says "in use, unflushed".
 * Handles of the register, in this process or others, share it under a
 * shared flock on index.lock; only the last one out marks it flushed.
 *
 * Notices by subject (store format 4) are kept the same way and for the
 * same reason: the outbox, in the register, is the record (append-only,
 * each value starting with its subject), and nidx here says which
 * notices are a subject's, for the subject's copy: notices [1, nupto)
 * are indexed, and a reader reads the outbox from nupto to its own end.
 * An adverse decision's notice put an entry at a random place of a large
 * tree into every commit, as its inquiry's index entry once did.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

#define INDEX_FILE "index.mdb"
#define STATE_FILE "index.state"
#define LOCK_FILE "index.lock"
/* In the register's directory: the directory the index lives under, when
 * not beside the register (prb_index_place). */
#define PLACE_FILE "index.place"
/* In a placed index's directory: the register it was made for, so that
 * one left behind by a deleted register can be told and removed. */
#define OWNER_FILE "register"
#define PLACE_MAX 3000
#define STATE_LEN 64
/* ~40 bytes an inquiry, so room for hundreds of millions; and at least
 * twice what the index uses when it is opened, since the map can grow
 * only while no transaction of the process is open. The index is written
 * in place through the map (MDB_WRITEMAP): LMDB's pwrite of each changed
 * page at every commit cost more and more as the index grew (104 -> 225
 * us a commit over four minutes of bench/serve; 44-94 us this way). So
 * LMDB makes the file as long as the map; it is sparse, the blocks it
 * uses are the index's. */
#define INDEX_MAPSIZE ((size_t)16 << 30)
#define IIDX_HDR 13

static const MDB_val UPTO_KEY = {4, "upto"};
/* The last entry indexed: its place in the log and its key there, so an
 * index made from another log is known as such. */
static const MDB_val LAST_KEY = {4, "last"};
/* The same two for notices: nupto, and nlast (be64 number, be64 subject). */
static const MDB_val NUPTO_KEY = {5, "nupto"};
static const MDB_val NLAST_KEY = {5, "nlast"};
/* How the days of the indexed inquiries run (prb_iorder). */
static const MDB_val ORDER_KEY = {5, "order"};
#define ORDER_LEN 24

static void boot_id(char out[40])
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    out[0] = 0;
    if (f) {
        if (!fgets(out, 40, f))
            out[0] = 0;
        fclose(f);
    }
    out[strcspn(out, "\n")] = 0;
}

static void path_of(const prb_env *env, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", env->idir, name);
}

/* Reads a file of one absolute path on a line of its own into buf, of n
 * bytes (the path at most n - 2 of them), the line break cut: 0, -1
 * when it cannot be opened or read (errno set), -2 when it holds
 * anything else. index.place and a placed index's note are such files. */
static int read_path(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, buf, n - 1);
    int saved = errno;
    close(fd);
    errno = saved;
    if (got < 0)
        return -1;
    if (got < 2 || buf[0] != '/' || buf[got - 1] != '\n')
        return -2;
    buf[got - 1] = 0;
    return strchr(buf, '\n') ? -2 : 0;
}

/* The directory DIR/index.place names into place (empty when there is no
 * such file: the index is beside the register). */
static int place_read(prb_env *env, char place[PLACE_MAX + 1])
{
    char path[4096], buf[PLACE_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", env->dir, PLACE_FILE);
    place[0] = 0;
    int r = read_path(path, buf, sizeof buf);
    if (r == -1)
        return errno == ENOENT
                   ? PRB_OK
                   : prb_seterr(env->err, PRB_EIO, "%s: cannot read: %s", path, strerror(errno));
    if (r)
        return prb_seterr(env->err, PRB_ECORRUPT,
                          "%s: not one absolute directory on a line of its own (written by "
                          "probity index --place)",
                          path);
    memcpy(place, buf, strlen(buf) + 1);
    return PRB_OK;
}

/* The index says which inquiries and notices a subject's copy lists, and
 * its lock can hold every open: its directory must be this user's alone,
 * as the register's is. A place on a tmpfs is made again after a restart
 * by whoever comes first, so what is found there is checked: the index's
 * own directory (not a link) owned by this user and writable by no one
 * else, and the place above it this user's or root's, and writable by
 * others only if sticky (/dev/shm, /tmp), where no one else can rename
 * or remove the index's directory. */
static int owned_dirs(prb_env *env, const char *place, const char *dir)
{
    struct stat st;
    if (stat(place, &st))
        return prb_seterr(env->err, PRB_EIO, "%s: %s", place, strerror(errno));
    if ((st.st_uid != geteuid() && st.st_uid != 0) ||
        ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
        return prb_seterr(env->err, PRB_EIO,
                          "%s: the index's place (%s/" PLACE_FILE
                          ") is owned by uid %u with mode %04o: another user could replace "
                          "the index; place it in a directory of this user's own",
                          place, env->dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    if (lstat(dir, &st))
        return prb_seterr(env->err, PRB_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return prb_seterr(env->err, PRB_EIO,
                          "%s: the index's directory is %s owned by uid %u with mode %04o, not "
                          "this user's own: another user may have made it; remove it and "
                          "open the register again",
                          dir,
                          S_ISLNK(st.st_mode)   ? "a link"
                          : S_ISDIR(st.st_mode) ? "a directory"
                                                : "a file",
                          (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    return PRB_OK;
}

/* The directory of the index's files: the register's own, or one of this
 * register's own under the directory index.place names, named after the
 * register directory's device and inode, so that a copy of the register
 * on this machine, which copies index.place too, gets an index of its
 * own. Made if missing, with every missing level of the place: a tmpfs
 * is empty down to its mount point after a restart of the machine (a
 * place such as /dev/shm/probity is gone), and the index is then made
 * again from the log. */
static int index_dir(prb_env *env, char *out, size_t n)
{
    char place[PLACE_MAX + 1];
    struct stat st;
    int rc = place_read(env, place);
    if (rc)
        return rc;
    if (!place[0]) {
        snprintf(out, n, "%s", env->dir);
        return PRB_OK;
    }
    if (stat(env->dir, &st))
        return prb_seterr(env->err, PRB_EIO, "%s: %s", env->dir, strerror(errno));
    snprintf(out, n, "%s/probity-index-%llx-%llx", place, (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    if (prb_make_dirs(out))
        return prb_seterr(env->err, PRB_EIO,
                          "%s: cannot make the index's directory (%s/" PLACE_FILE
                          " puts it under %s): %s",
                          out, env->dir, place, strerror(errno));
    return owned_dirs(env, place, out);
}

/* index.state: "boot <id> synced <0|1>", one small write in place. */
static int state_read(const prb_env *env, char boot[40], int *synced)
{
    char path[4096], buf[STATE_LEN + 1];
    path_of(env, STATE_FILE, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, STATE_LEN);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    if (sscanf(buf, "boot %39s synced %d", boot, synced) != 2)
        return -1;
    return 0;
}

static int state_write(prb_env *env, const char *boot, int synced)
{
    char path[4096], buf[STATE_LEN];
    path_of(env, STATE_FILE, path, sizeof path);
    memset(buf, ' ', sizeof buf);
    int len = snprintf(buf, sizeof buf, "boot %s synced %d\n", boot[0] ? boot : "unknown", synced);
    if (len > 0 && len < STATE_LEN)
        buf[len] = ' ';
    buf[STATE_LEN - 1] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, PRB_FILE_MODE);
    if (fd < 0)
        return prb_seterr(env->err, PRB_EIO, "%s: cannot create: %s", path, strerror(errno));
    int ok = pwrite(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf && !fdatasync(fd);
    close(fd);
    if (!ok)
        return prb_seterr(env->err, PRB_EIO, "%s: cannot write: %s", path, strerror(errno));
    /* The file's name must survive a restart too. */
    return prb_dir_sync(env, env->idir);
}

static const char LOG[] = "reading the inquiry log", OUTBOX[] = "reading the outbox";

/* The end of dbi (the log or the outbox) in txn: the number its next
 * entry gets. what is LOG or OUTBOX. */
static int end_of(prb_env *env, MDB_txn *txn, MDB_dbi dbi, const char *what, uint64_t *end)
{
    MDB_cursor *c;
    int rc, mrc = mdb_cursor_open(txn, dbi, &c);
    if (mrc)
        return prb_mdb_fail(env, mrc, what);
    rc = prb_next_number(env, c, what, end);
    mdb_cursor_close(c);
    return rc;
}

static int upto_of(prb_env *env, MDB_txn *itxn, const MDB_val *key, uint64_t *upto)
{
    MDB_val v;
    int mrc = mdb_get(itxn, env->imeta, (MDB_val *)key, &v);
    *upto = 1;
    if (mrc == MDB_NOTFOUND)
        return PRB_OK;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    if (v.mv_size != 8)
        return prb_seterr(env->err, PRB_ECORRUPT, "inquiry index: bad '%.*s'", (int)key->mv_size,
                          (const char *)key->mv_data);
    *upto = prb_get_be64(v.mv_data);
    return PRB_OK;
}

int prb_iidx_upto(prb_env *env, MDB_txn *itxn, uint64_t *upto)
{
    return upto_of(env, itxn, &UPTO_KEY, upto);
}

int prb_nidx_upto(prb_env *env, MDB_txn *itxn, uint64_t *upto)
{
    return upto_of(env, itxn, &NUPTO_KEY, upto);
}

int prb_iidx_order(prb_env *env, MDB_txn *itxn, prb_iorder *o)
{
    MDB_val v;
    int mrc = mdb_get(itxn, env->imeta, (MDB_val *)&ORDER_KEY, &v);
    *o = (prb_iorder){1, INT32_MIN, 0, 0};
    if (mrc == MDB_NOTFOUND)
        return PRB_ENOTFOUND;
    if (mrc)
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    if (v.mv_size != ORDER_LEN)
        return PRB_ECORRUPT;
    const unsigned char *b = v.mv_data;
    o->upto = prb_get_be64(b);
    o->latest = prb_get_le32(b + 8);
    o->behind = (uint32_t)prb_get_le32(b + 12);
    o->last = prb_get_be64(b + 16);
    return PRB_OK;
}

/* Whether the marks in itxn describe the index as far as it goes (upto):
 * they do when made with it, and an empty index needs none. */
static int ordered(prb_env *env, MDB_txn *itxn, uint64_t upto, prb_iorder *o, int *yes)
{
    int rc = prb_iidx_order(env, itxn, o);
    *yes = rc == PRB_OK ? o->upto == upto : rc == PRB_ENOTFOUND && upto == 1;
    return rc == PRB_ENOTFOUND || rc == PRB_ECORRUPT ? PRB_OK : rc;
}

static int order_put(prb_env *env, MDB_txn *wt, const prb_iorder *o)
{
    unsigned char b[ORDER_LEN];
    MDB_val v = {sizeof b, b};
    int mrc;
    prb_be64(b, o->upto);
    prb_put_le32(b + 8, o->latest);
    prb_put_le32(b + 12, (int32_t)o->behind);
    prb_be64(b + 16, o->last);
    if ((mrc = mdb_put(wt, env->imeta, (MDB_val *)&ORDER_KEY, &v, 0)))
        return prb_mdb_fail(env, mrc, "writing the index");
    return PRB_OK;
}

/* An entry of the log, as the index keeps it. */
struct logged {
    uint64_t g, subject;
    uint32_t no;
    int32_t day;
    const char *purpose;
    size_t pl;
};

static int log_entry(const MDB_val *k, const MDB_val *v, struct logged *e)
{
    const void *inq;
    size_t len;
    int outcome;
    e->g = k->mv_size == 8 ? prb_get_be64(k->mv_data) : 0;
    if (!e->g || prb_ilog_entry(v->mv_data, v->mv_size, &e->subject, &e->no, &inq, &len) ||
        prb_inquiry_header(inq, len, &e->purpose, &e->pl, &outcome))
        return PRB_ECORRUPT;
    e->day = prb_get_le32((const unsigned char *)inq + 4);
    return PRB_OK;
}

/* Stores, in wt, how far an index goes (upto_key: end) and, when lk is
 * not NULL, its last entry (lk: the n bytes at last). */
static int mark(prb_env *env, MDB_txn *wt, const MDB_val *upto_key, uint64_t end, const MDB_val *lk,
                const void *last, size_t n)
{
    unsigned char eb[8];
    MDB_val uv = {8, eb}, lv = {n, (void *)last};
    int mrc;
    prb_be64(eb, end);
    if ((mrc = mdb_put(wt, env->imeta, (MDB_val *)upto_key, &uv, 0)) ||
        (lk && (mrc = mdb_put(wt, env->imeta, (MDB_val *)lk, &lv, 0))))
        return prb_mdb_fail(env, mrc, "writing the index");
    return PRB_OK;
}

/* Indexes the log's [upto, end) of rt's snapshot in wt, at most *budget
 * entries of it (taken off *budget); *wrote says whether anything
 * changed. */
static int index_log(prb_env *env, MDB_txn *rt, MDB_txn *wt, uint64_t *budget, int *wrote)
{
    MDB_cursor *c = NULL;
    uint64_t end, upto;
    unsigned char gb[8], iv[IIDX_HDR + 256], last[20];
    MDB_val k, v;
    prb_iorder o;
    int rc, mrc, any = 0, keep_order;
    if (!*budget)
        return PRB_OK;
    if ((rc = end_of(env, rt, env->ilog, LOG, &end)) || (rc = prb_iidx_upto(env, wt, &upto)) ||
        upto >= end || (rc = ordered(env, wt, upto, &o, &keep_order)))
        return rc;
    if ((mrc = mdb_cursor_open(rt, env->ilog, &c)))
        return prb_mdb_fail(env, mrc, "reading the inquiry log");
    prb_be64(gb, upto);
    k = (MDB_val){8, gb};
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !mrc;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        struct logged e;
        int bad = log_entry(&k, &v, &e);
        if (e.g >= end)
            break;
        if (!*budget && e.g) {
            end = e.g; /* the rest in the next transaction */
            break;
        }
        /* A malformed entry is left out here and named by verify; the
         * subject's copy then finds its number missing. */
        if (bad)
            continue;
        memcpy(iv, k.mv_data, 8);
        prb_put_le32(iv + 8, e.day);
        iv[12] = (unsigned char)e.pl;
        memcpy(iv + IIDX_HDR, e.purpose, e.pl);
        MDB_val ik = {PRB_INQ_KEY_LEN, v.mv_data}, ival = {IIDX_HDR + e.pl, iv};
        if ((mrc = mdb_put(wt, env->iidx, &ik, &ival, 0)))
            break;
        prb_iorder_add(&o, e.g, e.day);
        memcpy(last, k.mv_data, 8);
        memcpy(last + 8, v.mv_data, PRB_INQ_KEY_LEN);
        any = 1;
        --*budget;
    }
    mdb_cursor_close(c);
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "indexing the inquiry log");
    *wrote = 1;
    /* Marks that did not describe the index stay behind it, unused,
     * until it is made again. */
    o.upto = end;
    if (keep_order && (rc = order_put(env, wt, &o)))
        return rc;
    return mark(env, wt, &UPTO_KEY, end, any ? &LAST_KEY : NULL, last, sizeof last);
}

/* The same for the outbox's [nupto, end): each notice under its subject. */
static int index_outbox(prb_env *env, MDB_txn *rt, MDB_txn *wt, uint64_t *budget, int *wrote)
{
    MDB_cursor *c = NULL;
    uint64_t end, upto;
    unsigned char gb[8], nk[PRB_NIDX_KEY_LEN], last[16];
    MDB_val k, v, empty = {0, ""};
    int rc, mrc, any = 0;
    if (!*budget)
        return PRB_OK;
    if ((rc = end_of(env, rt, env->outbox, OUTBOX, &end)) || (rc = prb_nidx_upto(env, wt, &upto)) ||
        upto >= end)
        return rc;
    if ((mrc = mdb_cursor_open(rt, env->outbox, &c)))
        return prb_mdb_fail(env, mrc, "reading the outbox");
    prb_be64(gb, upto);
    k = (MDB_val){8, gb};
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !mrc;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        uint64_t no = k.mv_size == 8 ? prb_get_be64(k.mv_data) : 0;
        if (no >= end)
            break;
        if (!*budget && no) {
            end = no; /* the rest in the next transaction */
            break;
        }
        if (!no || v.mv_size < 8)
            continue; /* malformed: named by verify */
        prb_nidx_key(nk, prb_get_be64(v.mv_data), no);
        MDB_val ik = {PRB_NIDX_KEY_LEN, nk};
        if ((mrc = mdb_put(wt, env->nidx, &ik, &empty, 0)))
            break;
        prb_be64(last, no);
        memcpy(last + 8, v.mv_data, 8);
        any = 1;
        --*budget;
    }
    mdb_cursor_close(c);
    if (mrc && mrc != MDB_NOTFOUND)
        return prb_mdb_fail(env, mrc, "indexing the outbox");
    *wrote = 1;
    return mark(env, wt, &NUPTO_KEY, end, any ? &NLAST_KEY : NULL, last, sizeof last);
}

/* ------------------------------------------------------- room to write */

/* The index is written in place through its map into a sparse file, as
 * long as the map: a page LMDB hands out past the last one is a hole of
 * the file until it is written, and writing it where the filesystem has
 * no block left (a small /dev/shm, a full disk) raises SIGBUS, which no
 * return code can report. It killed a server after a batch was stored and
 * before it was answered, and every later open, which catches the index
 * up. So before a write transaction of the index writes, the file is
 * given blocks (fallocate) for every page past its last one that the
 * transaction can take: a put copies its path and may split each page of
 * it and the root, at most 2 * depth + 1 pages, with the tree taken one
 * level deeper than it is; ROOM_SLACK pages cover the rest (the marks,
 * the records of the named databases, the free list's own pages). That
 * bounds a transaction, so a long backlog is indexed CATCH_UP_MAX entries
 * a transaction (room for some 45 MiB), or fewer where there is less
 * room. A transaction that cannot have room for one fails with PRB_EFULL
 * before it writes: the index stays behind, its readers read the log's
 * tail past it, and the next commit tries again. Blocks are taken in
 * whole ROOM_STEPs, so that most commits find theirs there already
 * (env->iroom); once taken they stay the file's. A filesystem that cannot
 * allocate ahead (EOPNOTSUPP) is written as before. Dropping MDB_WRITEMAP
 * instead would have cost every commit LMDB's pwrite of each page it
 * changed, which is what writing in place saves (INDEX_MAPSIZE). */
#define ROOM_STEP ((off_t)64 << 10)
#define ROOM_SLACK 64
#define CATCH_UP_MAX 1024

/* Makes sure the index's file has blocks for the pages pages past its
 * last one (as far as the map goes: LMDB gives none past it). Called
 * in a write transaction of the index, whose lock keeps other writers
 * from moving the last page meanwhile. */
static int index_room(prb_env *env, size_t pages)
{
    MDB_envinfo info;
    MDB_stat ms;
    int fd, mrc, r;
    if ((mrc = mdb_env_info(env->imdb, &info)) || (mrc = mdb_env_stat(env->imdb, &ms)) ||
        (mrc = mdb_env_get_fd(env->imdb, &fd)))
        return prb_mdb_fail(env, mrc, "writing the inquiry index");
    off_t psize = (off_t)ms.ms_psize, map = (off_t)info.me_mapsize;
    off_t end = ((off_t)info.me_last_pgno + 1) * psize, need = end + (off_t)pages * psize;
    if (need > map)
        need = map;
    if (need <= env->iroom)
        return PRB_OK;
    off_t from = env->iroom > end ? env->iroom : end;
    off_t to = (need + ROOM_STEP - 1) / ROOM_STEP * ROOM_STEP;
    if (to > map)
        to = map;
    while ((r = fallocate(fd, 0, from, to - from)) && errno == EINTR)
        ;
    if (r && errno != EOPNOTSUPP && errno != ENOSYS)
        return prb_seterr(env->err, errno == ENOSPC ? PRB_EFULL : PRB_EIO,
                          "%s/" INDEX_FILE ": no room for the index to grow: %s (it stays behind "
                          "until there is; `probity index DIR --place` can move it)",
                          env->idir, strerror(errno));
    env->iroom = to;
    return PRB_OK;
}

/* The pages n puts into the indexes may take (index_room). */
static size_t pages_for(prb_env *env, MDB_txn *wt, uint64_t n)
{
    MDB_stat st;
    size_t depth = 1;
    if (!mdb_stat(wt, env->iidx, &st) && st.ms_depth > depth)
        depth = st.ms_depth;
    if (!mdb_stat(wt, env->nidx, &st) && st.ms_depth > depth)
        depth = st.ms_depth;
    return (size_t)n * (2 * (depth + 1) + 1) + ROOM_SLACK;
}

/* How many entries of the log and the outbox in rt's snapshot the index
 * does not hold yet (at most: a gap is counted). */
static int backlog(prb_env *env, MDB_txn *rt, MDB_txn *wt, uint64_t *n)
{
    uint64_t end, upto, nend, nupto;
    int rc;
    if ((rc = end_of(env, rt, env->ilog, LOG, &end)) || (rc = prb_iidx_upto(env, wt, &upto)) ||
        (rc = end_of(env, rt, env->outbox, OUTBOX, &nend)) || (rc = prb_nidx_upto(env, wt, &nupto)))
        return rc;
    *n = (end > upto ? end - upto : 0) + (nend > nupto ? nend - nupto : 0);
    return PRB_OK;
}

int prb_iidx_catch_up(prb_env *env)
{
    MDB_txn *rt = NULL, *wt = NULL;
    uint64_t n = 0, cap = CATCH_UP_MAX;
    int rc = PRB_OK, mrc, more = 1;
    if (!env->imdb)
        return PRB_OK;
    if ((mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &rt)))
        return prb_mdb_fail(env, mrc, "starting a read");
    while (more && !rc) {
        int wrote = 0;
        if ((mrc = mdb_txn_begin(env->imdb, NULL, 0, &wt))) {
            rc = prb_mdb_fail(env, mrc, "writing the inquiry index");
            break;
        }
        if ((rc = backlog(env, rt, wt, &n)) || !n)
            break;
        /* Short of room for all of them, as many as there is room for
         * (and no more in the transactions that follow). */
        uint64_t take = n < cap ? n : cap;
        while ((rc = index_room(env, pages_for(env, wt, take))) == PRB_EFULL && take > 1) {
            take /= 2;
            cap = take;
        }
        uint64_t budget = take;
        if (rc || (rc = index_log(env, rt, wt, &budget, &wrote)) ||
            (rc = index_outbox(env, rt, wt, &budget, &wrote)) || !wrote)
            break;
        mrc = mdb_txn_commit(wt); /* which frees it, failed or not */
        wt = NULL;
        if (mrc)
            rc = prb_mdb_fail(env, mrc, "writing the inquiry index");
        more = take < n;
    }
    if (wt)
        mdb_txn_abort(wt);
    mdb_txn_abort(rt);
    return rc;
}

/* Empties the index (a register moved to format 3, an index whose upto
 * is past the log's or the outbox's end: they were replaced behind its
 * back, or one whose marks of order do not describe it). */
static int reset(prb_env *env)
{
    MDB_txn *t;
    MDB_envinfo info;
    MDB_stat ms;
    int rc, mrc = mdb_txn_begin(env->imdb, NULL, 0, &t);
    if (mrc)
        return prb_mdb_fail(env, mrc, "emptying the inquiry index");
    /* The free list then names every page of the index, 8 bytes each. */
    if ((mrc = mdb_env_info(env->imdb, &info)) || (mrc = mdb_env_stat(env->imdb, &ms))) {
        mdb_txn_abort(t);
        return prb_mdb_fail(env, mrc, "emptying the inquiry index");
    }
    if ((rc = index_room(env, (info.me_last_pgno + 1) * 8 / ms.ms_psize + ROOM_SLACK))) {
        mdb_txn_abort(t);
        return rc;
    }
    if ((mrc = mdb_drop(t, env->iidx, 0)) || (mrc = mdb_drop(t, env->nidx, 0)) ||
        (mrc = mdb_drop(t, env->imeta, 0))) {
        mdb_txn_abort(t);
        return prb_mdb_fail(env, mrc, "emptying the inquiry index");
    }
    return (mrc = mdb_txn_commit(t)) ? prb_mdb_fail(env, mrc, "emptying the inquiry index")
                                     : PRB_OK;
}

static int open_index(prb_env *env)
{
    char path[4096], lpath[4096];
    MDB_txn *t = NULL;
    uint64_t upto, end;
    int rc, mrc;
    MDB_envinfo info;
    MDB_stat ms;
    path_of(env, INDEX_FILE, path, sizeof path);
    /* And at least an eighth of the register's map: a stored decision
     * takes ~70 bytes here and over a kilobyte there, so the register is
     * full before its index can be. The index's map cannot grow while
     * other threads read it, and a full index would stay behind the log,
     * leaving every reader to read the log's whole unindexed tail. */
    size_t want = env->mapsize / 8 > INDEX_MAPSIZE ? env->mapsize / 8 : INDEX_MAPSIZE;
    /* Nor less than the file: LMDB sets a written-through map's file to
     * the map's size, and a smaller one would cut it under the feet of a
     * process (a server) that maps more of it. */
    struct stat st;
    if (!stat(path, &st) && st.st_size > 0 && (size_t)st.st_size > want)
        want = (size_t)st.st_size;
    env->iroom = 0;
    path_of(env, INDEX_FILE "-lock", lpath, sizeof lpath);
    if (prb_lock_file_room(lpath))
        return prb_seterr(env->err, PRB_EFULL, "%s: no room for the index's reader table: %s",
                          lpath, strerror(errno));
    if ((mrc = mdb_env_create(&env->imdb)) || (mrc = mdb_env_set_maxdbs(env->imdb, 3)) ||
        (mrc = mdb_env_set_maxreaders(env->imdb, PRB_MAX_READERS)) ||
        (mrc = mdb_env_set_mapsize(env->imdb, want)))
        return prb_mdb_fail(env, mrc, "creating the inquiry index");
    if ((mrc = mdb_env_open(env->imdb, path,
                            MDB_NOSUBDIR | MDB_NOSYNC | MDB_WRITEMAP | MDB_MAPASYNC | MDB_NOTLS |
                                MDB_NORDAHEAD,
                            PRB_FILE_MODE)))
        return prb_mdb_fail(env, mrc, "opening the inquiry index");
    if (!mdb_env_info(env->imdb, &info) && !mdb_env_stat(env->imdb, &ms)) {
        size_t used = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
        if (used > info.me_mapsize / 2 && (mrc = mdb_env_set_mapsize(env->imdb, used * 2)))
            return prb_mdb_fail(env, mrc, "growing the inquiry index");
    }
    if ((mrc = mdb_txn_begin(env->imdb, NULL, 0, &t)))
        return prb_mdb_fail(env, mrc, "opening the inquiry index");
    if ((rc = index_room(env, ROOM_SLACK))) {
        mdb_txn_abort(t);
        return rc;
    }
    if ((mrc = mdb_dbi_open(t, "iidx", MDB_CREATE, &env->iidx)) ||
        (mrc = mdb_dbi_open(t, "nidx", MDB_CREATE, &env->nidx)) ||
        (mrc = mdb_dbi_open(t, "meta", MDB_CREATE, &env->imeta))) {
        mdb_txn_abort(t);
        return prb_mdb_fail(env, mrc, "opening the inquiry index");
    }
    if ((mrc = mdb_txn_commit(t)))
        return prb_mdb_fail(env, mrc, "opening the inquiry index");
    /* An index ahead of the log or the outbox, or whose last entry is
     * not theirs at that place, was not made from them. */
    MDB_txn *lt = NULL;
    MDB_val lv = {0, NULL}, gv;
    uint64_t nupto, nend;
    prb_iorder o;
    int same = 1, in_order;
    if ((mrc = mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &t)))
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    if ((rc = prb_iidx_upto(env, t, &upto)) || (rc = prb_nidx_upto(env, t, &nupto)) ||
        (rc = ordered(env, t, upto, &o, &in_order)) ||
        (mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &lt))) {
        mdb_txn_abort(t);
        return rc ? rc : prb_mdb_fail(env, mrc, "starting a read");
    }
    if (!(rc = end_of(env, lt, env->ilog, LOG, &end)) && upto > 1) {
        mrc = mdb_get(t, env->imeta, (MDB_val *)&LAST_KEY, &lv);
        if (!mrc && lv.mv_size == 20) {
            MDB_val gk = {8, lv.mv_data};
            same = !mdb_get(lt, env->ilog, &gk, &gv) && gv.mv_size >= PRB_INQ_KEY_LEN &&
                   !memcmp(gv.mv_data, (unsigned char *)lv.mv_data + 8, PRB_INQ_KEY_LEN);
        }
    }
    if (!rc && !(rc = end_of(env, lt, env->outbox, OUTBOX, &nend)) && nupto > 1 && same) {
        mrc = mdb_get(t, env->imeta, (MDB_val *)&NLAST_KEY, &lv);
        if (!mrc && lv.mv_size == 16) {
            MDB_val nk = {8, lv.mv_data};
            same = !mdb_get(lt, env->outbox, &nk, &gv) && gv.mv_size >= 8 &&
                   !memcmp(gv.mv_data, (unsigned char *)lv.mv_data + 8, 8);
        }
    }
    mdb_txn_abort(lt);
    mdb_txn_abort(t);
    /* One made before the marks of its order were (or whose marks were
     * altered) would have every decision read its subject's inquiries
     * back to the first: it is made again too. */
    if (!rc && (upto > end || nupto > nend || !same || !in_order))
        rc = reset(env);
    if (rc)
        return rc;
    /* An index its filesystem has no room for stays behind (index_room):
     * its readers read past it, and each commit tries again. */
    rc = prb_iidx_catch_up(env);
    return rc == PRB_EFULL ? PRB_OK : rc;
}

/* Alone with the index (an exclusive flock): trusts it or removes it,
 * and makes sure index.state says "in use, unflushed" before the first
 * unflushed write. */
static int remove_index(prb_env *env)
{
    char path[4096];
    path_of(env, INDEX_FILE, path, sizeof path);
    if (unlink(path) && errno != ENOENT)
        return prb_seterr(env->err, PRB_EIO, "%s: cannot remove: %s", path, strerror(errno));
    path_of(env, INDEX_FILE "-lock", path, sizeof path);
    unlink(path);
    return PRB_OK;
}

static int settle_alone(prb_env *env, const char *boot)
{
    char was[40] = "";
    int synced = 0, rc;
    int known = !state_read(env, was, &synced);
    /* A register just moved to this format has no index of its own yet. */
    int trusted = known && !env->imoved && (synced || (boot[0] && !strcmp(was, boot)));
    if (!trusted && (rc = remove_index(env)))
        return rc;
    if (!known || synced || strcmp(was, boot))
        return state_write(env, boot, 0);
    return PRB_OK;
}

static int lock(int fd, int how)
{
    int r;
    while ((r = flock(fd, how)) && errno == EINTR)
        ;
    return r;
}

/* Opens index.lock where index.place says, and locks it: exclusively if
 * no one else has the index open (*alone), shared otherwise. A move of
 * the index (prb_index_place) happens under the exclusive lock and
 * removes the old lock file, so once locked, the lock file this holds is
 * checked to be the one index.place names now; if a move came between,
 * this starts again at the new place. */
static int lock_index(prb_env *env, int *alone)
{
    char path[4096 + sizeof LOCK_FILE], now[4096];
    struct stat held, named;
    int rc;
    for (int tries = 0;; tries++) {
        if ((rc = index_dir(env, path, sizeof path)))
            return rc;
        free(env->idir);
        if (!(env->idir = strdup(path)))
            return PRB_ENOMEM;
        path_of(env, LOCK_FILE, path, sizeof path);
        env->ilock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, PRB_FILE_MODE);
        if (env->ilock < 0)
            return prb_seterr(env->err, PRB_EIO, "%s: cannot open: %s", path, strerror(errno));
        *alone = !lock(env->ilock, LOCK_EX | LOCK_NB);
        if (!*alone && (errno != EWOULDBLOCK || lock(env->ilock, LOCK_SH)))
            return prb_seterr(env->err, PRB_EIO, "%s: cannot lock: %s", path, strerror(errno));
        if ((rc = index_dir(env, now, sizeof now)))
            return rc;
        snprintf(path, sizeof path, "%s/%s", now, LOCK_FILE);
        if (tries == 8 || (!fstat(env->ilock, &held) && !stat(path, &named) &&
                           held.st_dev == named.st_dev && held.st_ino == named.st_ino))
            return PRB_OK;
        close(env->ilock);
        env->ilock = -1;
    }
}

/* Notes in a placed index's directory which register it belongs to
 * (alone with it: the note is replaced through a temporary of a fixed
 * name). Only a hint for sweep_orphans, which leaves an index without
 * one alone, so failing to write it does not fail the open. */
static void owner_note(prb_env *env)
{
    char path[4096], want[PATH_MAX + 1], have[PATH_MAX + 2];
    if (!strcmp(env->idir, env->dir) || !realpath(env->dir, want))
        return;
    path_of(env, OWNER_FILE, path, sizeof path);
    if (!read_path(path, have, sizeof have) && !strcmp(have, want))
        return;
    size_t wl = strlen(want);
    want[wl] = '\n';
    char keep[sizeof env->err];
    memcpy(keep, env->err, sizeof keep);
    prb_file_replace(env, env->idir, OWNER_FILE, want, wl + 1);
    memcpy(env->err, keep, sizeof keep);
}

/* Whether the placed index in sub (named after device dev, inode ino)
 * was left behind: its register is gone (no such directory, or another
 * one in its place) or no longer places its index under place. When in
 * doubt (no owner noted, a register that cannot be read) it is not. */
static int orphaned(const char *sub, const char *place, dev_t dev, ino_t ino)
{
    char path[PATH_MAX + 64], owner[PATH_MAX + 2], named[PLACE_MAX + 2];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", sub, OWNER_FILE);
    if (read_path(path, owner, sizeof owner))
        return 0;
    if (stat(owner, &st))
        return errno == ENOENT || errno == ENOTDIR;
    if (st.st_dev != dev || st.st_ino != ino)
        return 1;
    snprintf(path, sizeof path, "%s/%s", owner, PLACE_FILE);
    int r = read_path(path, named, sizeof named);
    if (r)
        return r == -1 && errno == ENOENT;
    return strcmp(named, place) != 0;
}

/* Removes the files an index keeps in dir: beside the register, or in a
 * placed directory of its own, which goes too (if it holds nothing
 * else). The note naming the register is only ever in the latter. */
static void remove_index_files(prb_env *env, const char *dir)
{
    static const char *const files[] = {INDEX_FILE, INDEX_FILE "-lock", STATE_FILE,
                                        LOCK_FILE,  OWNER_FILE,         "." OWNER_FILE ".tmp"};
    int placed = strcmp(dir, env->dir) != 0;
    size_t n = sizeof files / sizeof *files - (placed ? 0 : 2);
    char path[4096 + 64];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    if (placed)
        rmdir(dir);
}

/* Removes from place the indexes other registers left behind when they
 * were deleted without being moved back beside first (a tmpfs keeps
 * them, in memory, until a restart). One still open by some process
 * (its lock held) stays. They are derived data: a register wrongly
 * taken for gone (moved away, say) only has its index made again. */
static void sweep_orphans(prb_env *env, const char *place)
{
    DIR *d = opendir(place);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        char sub[4096], path[4096 + 64];
        unsigned long long dev, ino;
        int end = 0;
        if (sscanf(e->d_name, "probity-index-%llx-%llx%n", &dev, &ino, &end) != 2 || e->d_name[end])
            continue;
        snprintf(sub, sizeof sub, "%s/%s", place, e->d_name);
        if (!strcmp(sub, env->idir) || !orphaned(sub, place, (dev_t)dev, (ino_t)ino))
            continue;
        snprintf(path, sizeof path, "%s/%s", sub, LOCK_FILE);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0 && lock(fd, LOCK_EX | LOCK_NB)) {
            close(fd);
            continue;
        }
        remove_index_files(env, sub);
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
}

int prb_iidx_open(prb_env *env)
{
    char boot[40], was[40] = "";
    int synced = 0, rc, alone;
    if ((rc = lock_index(env, &alone)))
        return rc;
    boot_id(boot);
    if (alone) {
        if ((rc = settle_alone(env, boot)))
            return rc;
        owner_note(env);
    } else if (state_read(env, was, &synced) || synced || strcmp(was, boot[0] ? boot : "unknown")) {
        /* In use: its users trusted it when they opened it. But the last
         * of them may have closed it meanwhile, marking it flushed. */
        if ((rc = state_write(env, boot, 0)))
            return rc;
    }
    if ((rc = open_index(env)) && alone && rc != PRB_ENOMEM) {
        /* Whatever is wrong with it (not an LMDB file, torn, from another
         * version of LMDB), it is made again from the log. */
        if (env->imdb)
            mdb_env_close(env->imdb);
        env->imdb = NULL;
        remove_index(env);
        rc = open_index(env);
    }
    if (rc)
        return rc;
    /* Held shared from here on: the last user out is the one that can
     * take it exclusively. */
    lock(env->ilock, LOCK_SH);
    return PRB_OK;
}

void prb_iidx_close(prb_env *env)
{
    if (env->imdb) {
        /* The last handle out flushes the index and says so, so that it
         * is trusted after a restart of the machine. */
        if (env->ilock >= 0 && !flock(env->ilock, LOCK_EX | LOCK_NB) &&
            !mdb_env_sync(env->imdb, 1)) {
            char boot[40];
            boot_id(boot);
            state_write(env, boot, 1);
        }
        mdb_env_close(env->imdb);
        env->imdb = NULL;
    }
    if (env->ilock >= 0)
        close(env->ilock);
    env->ilock = -1;
    free(env->idir);
    env->idir = NULL;
}

/* -------------------------------------------------------------- placing */

const char *prb_index_dir(const prb_env *env)
{
    return env->idir;
}

/* Writes index.place naming place, or removes it for "" (beside the
 * register). */
static int place_write(prb_env *env, const char *place)
{
    char path[4096], line[PLACE_MAX + 2];
    size_t len = strlen(place);
    if (len) {
        memcpy(line, place, len);
        line[len] = '\n';
        return prb_file_replace(env, env->dir, PLACE_FILE, line, len + 1);
    }
    snprintf(path, sizeof path, "%s/%s", env->dir, PLACE_FILE);
    return unlink(path) && errno != ENOENT
               ? prb_seterr(env->err, PRB_EIO, "%s: cannot remove: %s", path, strerror(errno))
               : prb_dir_sync(env, env->dir);
}

/* The new place would not take the index (full, not writable, its name
 * taken): what it left there goes, index.place names the old place
 * again (was, "" for beside the register) and the index is made there
 * again from the log, so that the handle still works. Returns rc, with
 * its message; only if going back fails too is env fit only for
 * prb_close. */
static int place_back(prb_env *env, const char *was, int rc)
{
    char msg[sizeof env->err];
    memcpy(msg, env->err, sizeof msg);
    if (env->imdb)
        mdb_env_close(env->imdb);
    env->imdb = NULL;
    if (env->ilock >= 0)
        close(env->ilock);
    env->ilock = -1;
    if (env->idir)
        remove_index_files(env, env->idir);
    if (!place_write(env, was))
        prb_iidx_open(env);
    memcpy(env->err, msg, sizeof msg);
    return rc;
}

int prb_index_place(prb_env *env, const char *dir)
{
    char canon[PATH_MAX], was[PLACE_MAX + 1];
    struct stat st;
    int rc;
    if (env->shared || !env->idir)
        return prb_seterr(env->err, PRB_EINVAL,
                          "the index is placed through the handle that opened the register");
    if (dir) {
        if (dir[0] != '/')
            return prb_seterr(env->err, PRB_EINVAL,
                              "%s: the index's place must be an absolute path (e.g. /dev/shm)",
                              dir);
        if (!realpath(dir, canon) || stat(canon, &st))
            return prb_seterr(env->err, PRB_EINVAL, "%s: cannot place the index there: %s", dir,
                              strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return prb_seterr(env->err, PRB_EINVAL,
                              "%s: cannot place the index there: not a directory", dir);
        if (access(canon, W_OK | X_OK))
            return prb_seterr(env->err, PRB_EINVAL, "%s: cannot place the index there: %s", dir,
                              strerror(errno));
        if (strlen(canon) > PLACE_MAX || strchr(canon, '\n'))
            return prb_seterr(
                env->err, PRB_EINVAL,
                "%s: cannot place the index there: the path is too long or holds a line break",
                dir);
    }
    if ((rc = place_read(env, was)))
        return rc;
    if (!strcmp(was, dir ? canon : "")) {
        if (dir)
            sweep_orphans(env, canon);
        return PRB_OK;
    }
    /* Alone with the index: every other user reads index.place only
     * under a lock of the index it names, so none is using the old one
     * while this moves it, and one that waited goes to the new one. */
    if (lock(env->ilock, LOCK_EX | LOCK_NB)) {
        /* flock drops the shared lock before it tries for the exclusive
         * one, so it is taken again: this handle still uses the index. */
        lock(env->ilock, LOCK_SH);
        return prb_seterr(env->err, PRB_EBUSY,
                          "%s: the register's index is in use by another process (a server, a "
                          "command); stop it, then place the index",
                          env->dir);
    }
    if ((rc = place_write(env, dir ? canon : ""))) {
        lock(env->ilock, LOCK_SH);
        return rc;
    }
    /* The index is derived data: the old one goes, and the new place's is
     * made from the log (or trusted, if one of this register's is already
     * there). */
    mdb_env_close(env->imdb);
    env->imdb = NULL;
    remove_index_files(env, env->idir);
    close(env->ilock);
    env->ilock = -1;
    /* An open leaves an index its filesystem has no room for behind; a
     * new place that cannot hold it is refused. */
    if ((rc = prb_iidx_open(env)) || (rc = prb_iidx_catch_up(env)))
        return place_back(env, was, rc);
    if (dir)
        sweep_orphans(env, canon);
    return PRB_OK;
}

/* ------------------------------------------------------------- reading */

int prb_index_lag(prb_env *env, uint64_t *inquiries, uint64_t *notices)
{
    MDB_txn *t = NULL, *it = NULL;
    uint64_t end = 1, nend = 1, upto = 1, nupto = 1;
    int rc, mrc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &t);
    if (mrc)
        return prb_mdb_fail(env, mrc, "starting a read");
    if (!(rc = end_of(env, t, env->ilog, LOG, &end)) &&
        !(rc = end_of(env, t, env->outbox, OUTBOX, &nend))) {
        if ((mrc = mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &it)))
            rc = prb_mdb_fail(env, mrc, "reading the index");
        else if (!(rc = prb_iidx_upto(env, it, &upto)))
            rc = prb_nidx_upto(env, it, &nupto);
    }
    if (it)
        mdb_txn_abort(it);
    mdb_txn_abort(t);
    if (inquiries)
        *inquiries = end > upto ? end - upto : 0;
    if (notices)
        *notices = nend > nupto ? nend - nupto : 0;
    return rc;
}

int prb_iidx_value(const void *value, size_t n, uint64_t *g, int32_t *day, const char **purpose,
                   size_t *pl)
{
    const unsigned char *v = value;
    if (n < IIDX_HDR || n != IIDX_HDR + (size_t)v[12])
        return PRB_ECORRUPT;
    *g = prb_get_be64(v);
    *day = prb_get_le32(v + 8);
    *purpose = (const char *)v + IIDX_HDR;
    *pl = v[12];
    return PRB_OK;
}

int prb_iidx_find(prb_env *env, MDB_txn *txn, uint64_t subject, uint32_t no, uint64_t *g)
{
    MDB_txn *it;
    unsigned char k0[PRB_INQ_KEY_LEN];
    MDB_val k = {PRB_INQ_KEY_LEN, k0}, v;
    uint64_t end;
    int32_t day;
    const char *purpose;
    size_t pl;
    int rc, mrc;
    *g = 0;
    if ((rc = end_of(env, txn, env->ilog, LOG, &end)))
        return rc;
    if ((mrc = mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &it)))
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    prb_inq_key(k0, subject, no);
    if ((mrc = mdb_get(it, env->iidx, &k, &v)) == 0) {
        if (prb_iidx_value(v.mv_data, v.mv_size, g, &day, &purpose, &pl))
            rc = prb_seterr(env->err, PRB_ECORRUPT, "decision %llu-q%u: malformed index entry",
                            (unsigned long long)subject, no);
        else if (*g >= end)
            *g = 0; /* made after txn's snapshot */
    } else if (mrc != MDB_NOTFOUND) {
        rc = prb_mdb_fail(env, mrc, "reading the inquiry index");
    }
    mdb_txn_abort(it);
    return rc;
}

static void index_end(MDB_txn *it, MDB_txn **keep)
{
    /* Kept reset, a transaction keeps its reader slot for the next. */
    if (keep) {
        mdb_txn_reset(it);
        *keep = it;
    } else {
        mdb_txn_abort(it);
    }
}

/* The index's read transaction for a reader of txn's snapshot (from
 * *keep when given; index_end gives it back), the log's end in txn and
 * how far the index goes. On failure there is none to give back. */
static int index_begin(prb_env *env, MDB_txn *txn, MDB_txn **keep, MDB_txn **it, uint64_t *end,
                       uint64_t *upto)
{
    int rc, mrc;
    *it = keep ? *keep : NULL;
    if ((rc = end_of(env, txn, env->ilog, LOG, end)))
        return rc;
    if (keep)
        *keep = NULL;
    mrc = *it ? mdb_txn_renew(*it) : mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, it);
    if (mrc) {
        if (*it)
            mdb_txn_abort(*it);
        return prb_mdb_fail(env, mrc, "reading the inquiry index");
    }
    if ((rc = prb_iidx_upto(env, *it, upto)))
        index_end(*it, keep);
    return rc;
}

/* What the index does not hold yet of subject's inquiries: the log of
 * txn from upto on, oldest first, those of a day before since left out;
 * *last follows them, when given. */
static int read_tail(prb_env *env, MDB_txn *txn, uint64_t subject, uint64_t upto, int32_t since,
                     prb_iidx_fn fn, void *ctx, uint32_t *last)
{
    MDB_cursor *c;
    unsigned char gb[8];
    MDB_val k = {8, gb}, v;
    int rc = PRB_OK, mrc, stop = 0;
    if ((mrc = mdb_cursor_open(txn, env->ilog, &c)))
        return prb_mdb_fail(env, mrc, "reading the inquiry log");
    prb_be64(gb, upto);
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !mrc && !stop;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        struct logged e;
        if (v.mv_size < 8 || prb_get_be64(v.mv_data) != subject)
            continue;
        if (log_entry(&k, &v, &e)) {
            rc = prb_seterr(env->err, PRB_ECORRUPT, "inquiry log entry %llu: malformed",
                            (unsigned long long)e.g);
            break;
        }
        if (last)
            *last = e.no;
        if (!fn || e.day < since)
            continue;
        if ((rc = fn(ctx, e.no, e.g, e.day, e.purpose, e.pl)) > 0)
            break;
        stop = rc < 0;
        rc = PRB_OK;
    }
    mdb_cursor_close(c);
    if (!rc && mrc && mrc != MDB_NOTFOUND)
        rc = prb_mdb_fail(env, mrc, "reading the inquiry log");
    return rc;
}

int prb_iidx_each(prb_env *env, MDB_txn *txn, MDB_txn **keep, uint64_t subject, prb_iidx_fn fn,
                  void *ctx)
{
    MDB_txn *it;
    MDB_cursor *c = NULL;
    unsigned char k0[PRB_INQ_KEY_LEN];
    MDB_val k = {PRB_INQ_KEY_LEN, k0}, v;
    uint64_t end, upto = 1;
    int rc, mrc, stop = 0;
    if ((rc = index_begin(env, txn, keep, &it, &end, &upto)))
        return rc;
    if ((mrc = mdb_cursor_open(it, env->iidx, &c))) {
        rc = prb_mdb_fail(env, mrc, "reading the inquiry index");
        goto out;
    }
    prb_inq_key(k0, subject, 0);
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !mrc && !stop;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        uint64_t g;
        int32_t day;
        const char *purpose;
        size_t pl;
        if (k.mv_size != PRB_INQ_KEY_LEN || prb_get_be64(k.mv_data) != subject)
            break;
        uint32_t no = prb_inq_no(k.mv_data);
        if (prb_iidx_value(v.mv_data, v.mv_size, &g, &day, &purpose, &pl)) {
            rc = prb_seterr(env->err, PRB_ECORRUPT, "decision %llu-q%u: malformed index entry",
                            (unsigned long long)subject, no);
            goto out;
        }
        if (g >= end)
            break; /* made after txn's snapshot: so is every later one */
        if ((rc = fn(ctx, no, g, day, purpose, pl)) > 0)
            goto out;
        stop = rc < 0;
    }
    if (mrc && mrc != MDB_NOTFOUND) {
        rc = prb_mdb_fail(env, mrc, "reading the inquiry index");
        goto out;
    }
    rc = PRB_OK;
    if (upto < end && !stop)
        rc = read_tail(env, txn, subject, upto, INT32_MIN, fn, ctx, NULL);
out:
    if (c)
        mdb_cursor_close(c);
    index_end(it, keep);
    return rc;
}

int prb_iidx_recent(prb_env *env, MDB_txn *txn, MDB_txn **keep, uint64_t subject, int32_t since,
                    prb_iidx_fn fn, void *ctx, uint32_t *last)
{
    MDB_txn *it;
    MDB_cursor *c = NULL;
    unsigned char k0[PRB_INQ_KEY_LEN];
    MDB_val k = {PRB_INQ_KEY_LEN, k0}, v;
    uint64_t end, upto = 1;
    prb_iorder o;
    int rc, mrc, trusted = -1, stop = 0;
    *last = 0;
    if ((rc = index_begin(env, txn, keep, &it, &end, &upto)))
        return rc;
    if ((mrc = mdb_cursor_open(it, env->iidx, &c))) {
        rc = prb_mdb_fail(env, mrc, "reading the inquiry index");
        goto out;
    }
    /* The subject's newest entry: the one before the next subject's
     * first, or the index's last. */
    prb_inq_key(k0, subject + 1, 0);
    mrc = subject == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    mrc = mrc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
          : mrc               ? mrc
                              : mdb_cursor_get(c, &k, &v, MDB_PREV);
    for (; !mrc && !stop; mrc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
        uint64_t g;
        int32_t day;
        const char *purpose;
        size_t pl;
        if (k.mv_size != PRB_INQ_KEY_LEN || prb_get_be64(k.mv_data) != subject)
            break;
        uint32_t no = prb_inq_no(k.mv_data);
        if (prb_iidx_value(v.mv_data, v.mv_size, &g, &day, &purpose, &pl)) {
            rc = prb_seterr(env->err, PRB_ECORRUPT, "decision %llu-q%u: malformed index entry",
                            (unsigned long long)subject, no);
            goto out;
        }
        if (g >= end)
            continue; /* made after txn's snapshot, as every later one */
        if (!*last)
            *last = no;
        if (!fn)
            break;
        if (day >= since) {
            if ((rc = fn(ctx, no, g, day, purpose, pl)) > 0)
                goto out;
            stop = rc < 0;
            continue;
        }
        /* Read when first needed: most subjects' inquiries are all in
         * the window. Marks that do not describe the index (made by an
         * older build beside this one) say nothing: all are read. */
        if (trusted < 0 && (rc = ordered(env, it, upto, &o, &trusted)))
            goto out;
        if (trusted && (g > o.last || (int64_t)day + o.behind < since))
            break; /* and so is every earlier one (prb_iorder) */
    }
    if (mrc && mrc != MDB_NOTFOUND) {
        rc = prb_mdb_fail(env, mrc, "reading the inquiry index");
        goto out;
    }
    rc = PRB_OK;
    /* After a stop, for *last alone. */
    if (upto < end)
        rc = read_tail(env, txn, subject, upto, since, stop ? NULL : fn, ctx, last);
out:
    if (c)
        mdb_cursor_close(c);
    index_end(it, keep);
    return rc;
}

int prb_nidx_each(prb_env *env, MDB_txn *txn, uint64_t subject, prb_nidx_fn fn, void *ctx)
{
    MDB_txn *it = NULL;
    MDB_cursor *c = NULL;
    unsigned char k0[PRB_NIDX_KEY_LEN];
    MDB_val k = {PRB_NIDX_KEY_LEN, k0}, v;
    uint64_t end, upto = 1;
    int rc, mrc;
    if ((rc = end_of(env, txn, env->outbox, OUTBOX, &end)))
        return rc;
    if ((mrc = mdb_txn_begin(env->imdb, NULL, MDB_RDONLY, &it)))
        return prb_mdb_fail(env, mrc, "reading the notice index");
    if ((rc = prb_nidx_upto(env, it, &upto)))
        goto out;
    if ((mrc = mdb_cursor_open(it, env->nidx, &c))) {
        rc = prb_mdb_fail(env, mrc, "reading the notice index");
        goto out;
    }
    prb_nidx_key(k0, subject, 0);
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !mrc;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != PRB_NIDX_KEY_LEN || prb_get_be64(k.mv_data) != subject)
            break;
        uint64_t no = prb_get_be64((const unsigned char *)k.mv_data + 8);
        if (no >= end)
            break; /* made after txn's snapshot: so is every later one */
        if ((rc = fn(ctx, no)))
            goto out;
    }
    if (mrc && mrc != MDB_NOTFOUND) {
        rc = prb_mdb_fail(env, mrc, "reading the notice index");
        goto out;
    }
    mdb_cursor_close(c);
    c = NULL;
    /* What the index does not hold yet: the outbox from nupto on. */
    if (upto < end) {
        unsigned char nb[8];
        if ((mrc = mdb_cursor_open(txn, env->outbox, &c))) {
            rc = prb_mdb_fail(env, mrc, "reading the outbox");
            goto out;
        }
        prb_be64(nb, upto);
        k = (MDB_val){8, nb};
        for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !mrc;
             mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (k.mv_size != 8 || v.mv_size < 8 || prb_get_be64(v.mv_data) != subject)
                continue;
            if ((rc = fn(ctx, prb_get_be64(k.mv_data))))
                goto out;
        }
        if (mrc && mrc != MDB_NOTFOUND) {
            rc = prb_mdb_fail(env, mrc, "reading the outbox");
            goto out;
        }
    }
    rc = PRB_OK;
out:
    if (c)
        mdb_cursor_close(c);
    mdb_txn_abort(it);
    return rc;
}
