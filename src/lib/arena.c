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
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (madvise(p, n, MADV_POPULATE_WRITE))
        memset(p, 0, n); /* older kernels: touch every page ourselves */
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
    _Alignas(16) unsigned char data[];
};

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
        b = prb_bigalloc(mapped);
        if (!b)
            return NULL;
        b->mapped = mapped;
        b->next = a->head;
        b->used = 0;
        b->size = size;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
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
