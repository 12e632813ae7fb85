/*
 * arena.c - bump allocation for the ingest path, where a batch makes
 * millions of small strings that all die together when it ends; and the
 * large zeroed blocks the ingest tables live in.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Large blocks are faulted in up front in one call. Touching fresh pages
 * one at a time from several threads cost a third of ingest time in page
 * faults and the TLB shootdowns that follow a first read of the shared
 * zero page. (Transparent huge pages were tried too: faster at best, but
 * with compaction stalls that made ingest time vary by half.) */
void *prb_bigalloc(size_t n)
{
    return prb_bigalloc_part(n, n);
}

void *prb_bigalloc_part(size_t n, size_t ready)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    ready = (ready + 4095) & ~(size_t)4095; /* madvise takes whole pages */
    if (ready > n)
        ready = n;
    if (ready && madvise(p, ready, MADV_POPULATE_WRITE))
        memset(p, 0, ready); /* older kernels: touch every page ourselves */
    return p;
}

void prb_bigfree(void *p, size_t n)
{
    if (p)
        munmap(p, n);
}

struct prb_ablock {
    struct prb_ablock *next;
    size_t used, size, mapped;
    size_t ready; /* bytes of data[] faulted in */
    _Alignas(16) unsigned char data[];
};

/* An arena's block is faulted in a step at a time as it fills, not whole:
 * an ingest chunk's arena is sized for the worst case and a quarter of it
 * was faulted in and never used (94 MB for a million records). */
#define ARENA_STEP (256u << 10)

/* Faults in the block up to at least data[end], in whole steps from its
 * start (madvise takes page-aligned ranges). */
static void make_ready(struct prb_ablock *b, size_t end)
{
    size_t off = offsetof(struct prb_ablock, data);
    size_t to = (off + end + ARENA_STEP - 1) / ARENA_STEP * ARENA_STEP, from = off + b->ready;
    if (to > b->mapped)
        to = b->mapped;
    from &= ~(size_t)4095;
    /* Pages not faulted in here fault on first touch: slower, not wrong. */
    if (to > from)
        (void)madvise((char *)b + from, to - from, MADV_POPULATE_WRITE);
    b->ready = to - off;
}

void prb_arena_init(prb_arena *a, size_t block)
{
    a->head = NULL;
    a->block = block ? block : 1 << 20;
}

void *prb_arena_alloc(prb_arena *a, size_t n)
{
    struct prb_ablock *b = a->head;
    n = (n + 7) & ~(size_t)7;
    if (!b || b->size - b->used < n) {
        size_t size = n > a->block ? n : a->block;
        size_t mapped = (sizeof *b + size + 4095) & ~(size_t)4095;
        b = prb_bigalloc_part(mapped, 0);
        if (!b)
            return NULL;
        b->mapped = mapped;
        b->next = a->head;
        b->used = 0;
        b->size = size;
        b->ready = 0;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    if (b->used > b->ready)
        make_ready(b, b->used);
    return p;
}

char *prb_arena_strndup(prb_arena *a, const char *s, size_t n)
{
    char *p = prb_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *prb_arena_printf(prb_arena *a, const char *fmt, ...)
{
    char tmp[PRB_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    return prb_arena_strndup(a, tmp, (size_t)n);
}

prb_amark prb_arena_mark(const prb_arena *a)
{
    return (prb_amark){a->head, a->head ? a->head->used : 0};
}

void prb_arena_rewind(prb_arena *a, prb_amark m)
{
    while (a->head && a->head != m.b) {
        struct prb_ablock *next = a->head->next;
        prb_bigfree(a->head, a->head->mapped);
        a->head = next;
    }
    if (a->head)
        a->head->used = m.used;
}

void prb_arena_free(prb_arena *a)
{
    struct prb_ablock *b = a->head;
    while (b) {
        struct prb_ablock *next = b->next;
        prb_bigfree(b, b->mapped);
        b = next;
    }
    a->head = NULL;
}
