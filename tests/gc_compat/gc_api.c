/* The rest of the API: strings, GC_base and GC_size, uncollectable objects, extra roots,
 * statistics, disable/enable, warn and out-of-memory functions, the heap limit.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include <stdlib.h>
#include "gct.h"

struct obj {
    struct obj *next;
    long tag;
};

static void *oom_answer = &oom_answer;
static size_t oom_asked;

static void *on_oom(size_t n)
{
    oom_asked = n;
    return oom_answer;
}

static int warnings;

static void on_warn(char *msg, GC_word arg)
{
    (void)msg, (void)arg;
    warnings++;
}

/* Objects whose only reference lives where the collector does not look unless told. */
static __attribute__((noinline)) GC_word hidden_list(int n, int uncollectable)
{
    struct obj *head = uncollectable ? GC_MALLOC_UNCOLLECTABLE(sizeof *head) : GC_MALLOC(sizeof *head);
    head->tag = -1;
    for (int i = 0; i < n; i++) {
        struct obj *o = GC_MALLOC(sizeof *o);
        o->tag = i;
        o->next = head->next;
        head->next = o;
    }
    return GC_HIDE_POINTER(head);
}

static int list_intact(const struct obj *head, int n)
{
    int k = n - 1;
    for (const struct obj *o = head->next; o; o = o->next, k--)
        if (o->tag != k)
            return 0;
    return k == -1 && head->tag == -1;
}

static void churn(void)
{
    for (int i = 0; i < 100000; i++) {
        struct obj *o = GC_MALLOC(sizeof *o);
        o->tag = 12345;
    }
}

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    GC_set_warn_proc(on_warn);
    GCT_CHECK("warn function set", GC_get_warn_proc() == on_warn);

    char *s = GC_strdup("wbrt and bdwgc");
    char *t = GC_strndup("collector", 4);
    GCT_CHECK("GC_strdup", strcmp(s, "wbrt and bdwgc") == 0);
    GCT_CHECK("GC_strndup", strcmp(t, "coll") == 0);
    GCT_CHECK("GC_strdup(NULL)", GC_strdup(NULL) == NULL);

    long *a = GC_MALLOC(100 * sizeof *a);
    GCT_CHECK("GC_base of an interior pointer", GC_base(&a[50]) == a);
    GCT_CHECK("GC_base outside the heap", GC_base(&warnings) == NULL);
    GCT_CHECK("GC_size at least the request", GC_size(a) >= 100 * sizeof *a);

    GC_word u = hidden_list(1000, 1);
    gct_clear_stack();
    GC_gcollect();
    churn();
    GCT_CHECK("uncollectable object and what it reaches kept", list_intact(GC_REVEAL_POINTER(u), 1000));
    GC_FREE(GC_REVEAL_POINTER(u));

    struct obj **box = malloc(sizeof *box);
    GC_add_roots(box, box + 1);
    *box = GC_REVEAL_POINTER(hidden_list(1000, 0));
    gct_clear_stack();
    GC_gcollect();
    churn();
    GCT_CHECK("object referenced from an added root kept", list_intact(*box, 1000));
    GC_remove_roots(box, box + 1);
    free(box);

    size_t total = GC_get_total_bytes();
    churn();
    /* Less a page: wbrt counts a page's free slots when a thread takes it to allocate
     * from, so part of the first page was counted before `total` was read. */
    GCT_CHECK("total bytes grew by at least what was allocated, less a page",
              GC_get_total_bytes() - total >= 100000 * sizeof(struct obj) - 4096);
    GCT_CHECK("heap size non-zero", GC_get_heap_size() > 0);
    GCT_CHECK("free bytes within the heap", GC_get_free_bytes() <= GC_get_heap_size());
    GC_word n0 = GC_get_gc_no();
    GC_gcollect();
    GCT_CHECK("GC_gcollect counts a collection", GC_get_gc_no() > n0);
    GC_disable();
    n0 = GC_get_gc_no();
    churn();
    GC_gcollect();
    GCT_CHECK("no collection while disabled", GC_get_gc_no() == n0);
    GC_enable();
    GC_gcollect();
    GCT_CHECK("collections again after GC_enable", GC_get_gc_no() > n0);

    GC_set_oom_fn(on_oom);
    GCT_CHECK("out-of-memory function set", GC_get_oom_fn() == on_oom);
    GC_set_max_heap_size(GC_get_heap_size() + (64u << 20));
    void *big = GC_MALLOC((size_t)1 << 30);
    GCT_CHECK("beyond the heap limit the out-of-memory function answers", big == oom_answer && oom_asked == (size_t)1 << 30);
    GCT_CHECK("small allocations still work under the limit", GC_MALLOC(64) != NULL);
    return gct_exit();
}
