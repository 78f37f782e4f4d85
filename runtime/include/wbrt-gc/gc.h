/* wbrt's Boehm GC compatibility header: the core of bdwgc's C API, on wbrt's collector.
 * Compile with -I <this directory> and link libwbrt (or run a program built against
 * bdwgc with wbrt's libgc.so.1).  Only the calls declared here exist: a program that
 * uses another bdwgc call fails to build or link.  docs/bdwgc.md lists
 * the differences from bdwgc.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_BOEHM_GC_H
#define WBRT_BOEHM_GC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WBRT_GC_API __attribute__((visibility("default")))

typedef unsigned long GC_word;
typedef long GC_signed_word;

/* Results of the registration calls. */
#define GC_SUCCESS 0
#define GC_DUPLICATE 1
#define GC_NO_MEMORY 2
#define GC_UNIMPLEMENTED 3
#define GC_NOT_FOUND 4

/* The bdwgc API level this header follows (GC_get_version: major << 16 | minor << 8 |
 * micro). */
#define GC_VERSION_MAJOR 8
#define GC_VERSION_MINOR 2
#define GC_VERSION_MICRO 2
WBRT_GC_API unsigned GC_get_version(void);

/* Initialisation: optional (the first allocation initialises), but call it from the
 * main thread before creating threads.  Settings come from the WBRT_* environment. */
WBRT_GC_API void GC_init(void);
#define GC_INIT() GC_init()
/* 1 once GC_init has run (explicitly or by the first allocation). */
WBRT_GC_API int GC_is_init_called(void);

/* Allocation.  GC_malloc memory is zeroed and scanned; GC_malloc_atomic memory is
 * neither; uncollectable memory is scanned and freed only by GC_free.  On failure the
 * out-of-memory function's result is returned (by default NULL). */
WBRT_GC_API void *GC_malloc(size_t n) __attribute__((malloc, alloc_size(1)));
WBRT_GC_API void *GC_malloc_atomic(size_t n) __attribute__((malloc, alloc_size(1)));
WBRT_GC_API void *GC_malloc_uncollectable(size_t n) __attribute__((malloc, alloc_size(1)));
WBRT_GC_API void *GC_realloc(void *p, size_t n) __attribute__((alloc_size(2)));
WBRT_GC_API void GC_free(void *p);
WBRT_GC_API char *GC_strdup(const char *s) __attribute__((malloc));
WBRT_GC_API char *GC_strndup(const char *s, size_t n) __attribute__((malloc));
#define GC_MALLOC(n) GC_malloc(n)
#define GC_MALLOC_ATOMIC(n) GC_malloc_atomic(n)
#define GC_MALLOC_UNCOLLECTABLE(n) GC_malloc_uncollectable(n)
#define GC_REALLOC(p, n) GC_realloc((p), (n))
#define GC_FREE(p) GC_free(p)
#define GC_STRDUP(s) GC_strdup(s)
#define GC_STRNDUP(s, n) GC_strndup((s), (n))
#define GC_NEW(t) ((t *)GC_MALLOC(sizeof(t)))
/* Uncollectable and neither zeroed nor scanned. */
WBRT_GC_API void *GC_malloc_atomic_uncollectable(size_t n) __attribute__((malloc, alloc_size(1)));
/* For large objects the program keeps a pointer to within their first page: with wbrt
 * the same as GC_malloc and GC_malloc_atomic (any pointer into an object keeps it, when
 * interior pointers count at all). */
WBRT_GC_API void *GC_malloc_ignore_off_page(size_t n) __attribute__((malloc, alloc_size(1)));
WBRT_GC_API void *GC_malloc_atomic_ignore_off_page(size_t n) __attribute__((malloc, alloc_size(1)));
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(n) GC_malloc_atomic_uncollectable(n)
#define GC_MALLOC_IGNORE_OFF_PAGE(n) GC_malloc_ignore_off_page(n)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n) GC_malloc_atomic_ignore_off_page(n)
/* Several GC_malloc(n) objects at once (about a page of them), linked through their
 * first words (GC_NEXT; the last one's is NULL), otherwise zeroed.  NULL if none could
 * be allocated. */
WBRT_GC_API void *GC_malloc_many(size_t n);
#define GC_NEXT(p) (*(void **)(p))

#define GC_NEW_ATOMIC(t) ((t *)GC_MALLOC_ATOMIC(sizeof(t)))

/* Start of the heap object containing p (interior pointers too), or NULL. */
WBRT_GC_API void *GC_base(void *p);
/* Usable size of the object starting at p (at least what was asked for). */
WBRT_GC_API size_t GC_size(const void *p);

/* Collection.  GC_gcollect is a full collection.  GC_enable_incremental turns on wbrt's
 * generational mode (young collections between full ones); without it every automatic
 * collection is full.  GC_collect_a_little collects if allocation has made one due;
 * it returns 0 (no collection is ever left in progress). */
WBRT_GC_API void GC_gcollect(void);
/* The same: wbrt returns freed pages to the kernel after every collection. */
WBRT_GC_API void GC_gcollect_and_unmap(void);
WBRT_GC_API int GC_collect_a_little(void);
WBRT_GC_API void GC_enable_incremental(void);
WBRT_GC_API int GC_is_incremental_mode(void);
/* Collections stop while GC_disable calls outnumber GC_enable calls (GC_gcollect too). */
WBRT_GC_API void GC_disable(void);
WBRT_GC_API void GC_enable(void);
/* The heap may not exceed n bytes of pages in use; beyond, allocation fails. */
WBRT_GC_API void GC_set_max_heap_size(GC_word n);
/* Heap growth.  GC_expand_hp: the heap may fill to n bytes more than its size before an
 * automatic collection is due (1; 0 if that passes the maximum heap size).  With
 * GC_set_dont_expand(1), an automatic collection comes before the heap grows beyond what
 * it holds (by more than a sixteenth of WBRT_YOUNG_BYTES).  Without incremental mode, at
 * least 2 * live / GC_free_space_divisor bytes (default 3) are allocated between
 * collections, and at least WBRT_YOUNG_BYTES. */
WBRT_GC_API int GC_expand_hp(size_t n);
WBRT_GC_API void GC_set_dont_expand(int on);
WBRT_GC_API int GC_get_dont_expand(void);
WBRT_GC_API extern GC_word GC_free_space_divisor;
WBRT_GC_API void GC_set_free_space_divisor(GC_word d);
WBRT_GC_API GC_word GC_get_free_space_divisor(void);

/* Interior pointers.  By default a pointer anywhere into an object keeps it.  After
 * GC_set_all_interior_pointers(0) (or GC_all_interior_pointers = 0 before GC_init) a word
 * in the heap, the data segments or registered roots keeps an object only if it points
 * at its start or at a displacement registered with GC_register_displacement (below 4096
 * bytes); stacks and registers still keep what they point into. */
WBRT_GC_API extern int GC_all_interior_pointers;
WBRT_GC_API void GC_set_all_interior_pointers(int on);
WBRT_GC_API int GC_get_all_interior_pointers(void);
WBRT_GC_API void GC_register_displacement(size_t offset);
#define GC_REGISTER_DISPLACEMENT(n) GC_register_displacement(n)
/* GC_set_no_dls(1) (or GC_no_dls = 1 before GC_init): no data segment is a root, the
 * main program's included (as with bdwgc on Linux): the program registers its roots. */
WBRT_GC_API extern int GC_no_dls;
WBRT_GC_API void GC_set_no_dls(int on);
WBRT_GC_API int GC_get_no_dls(void);
/* Every heap object lies in [least, greatest) (set by GC_init). */
WBRT_GC_API extern void *GC_least_plausible_heap_addr;
WBRT_GC_API extern void *GC_greatest_plausible_heap_addr;

/* Statistics: heap pages in use, the part of them not live after the last collection,
 * bytes allocated since start, collections so far. */
WBRT_GC_API size_t GC_get_heap_size(void);
WBRT_GC_API size_t GC_get_free_bytes(void);
WBRT_GC_API size_t GC_get_total_bytes(void);
WBRT_GC_API GC_word GC_get_gc_no(void);
/* The heap size (pages in use, or what GC_expand_hp asked for if more), its free part,
 * 0 unmapped bytes (wbrt's heap size leaves out decommitted pages), the bytes allocated
 * since the last collection and since start; any pointer may be NULL. */
WBRT_GC_API size_t GC_get_bytes_since_gc(void);
WBRT_GC_API void GC_get_heap_usage_safe(GC_word *heap_size, GC_word *free_bytes,
                                        GC_word *unmapped_bytes, GC_word *bytes_since_gc,
                                        GC_word *total_bytes);

/* Warnings go through the warn function (msg is a printf format taking arg). */
typedef void (*GC_warn_proc)(char *msg, GC_word arg);
WBRT_GC_API void GC_set_warn_proc(GC_warn_proc fn);
WBRT_GC_API void GC_ignore_warn_proc(char *msg, GC_word arg); /* a warn function: silence */
WBRT_GC_API GC_warn_proc GC_get_warn_proc(void);
/* Called with the size when an allocation fails; its result is returned instead. */
typedef void *(*GC_oom_func)(size_t bytes_requested);
WBRT_GC_API void GC_set_oom_fn(GC_oom_func fn);
WBRT_GC_API GC_oom_func GC_get_oom_fn(void);

/* Extra roots: the words in [low, high_plus_1) are scanned. */
WBRT_GC_API void GC_add_roots(void *low, void *high_plus_1);
WBRT_GC_API void GC_remove_roots(void *low, void *high_plus_1);
/* Removes every range GC_add_roots added. */
WBRT_GC_API void GC_clear_roots(void);
/* The globals' words in [start, finish) are no roots (memory that holds no heap pointer). */
WBRT_GC_API void GC_exclude_static_roots(void *start, void *finish);
/* Non-zero if p lies in a page of the collected heap (an object or not). */
WBRT_GC_API int GC_is_heap_ptr(const void *p);

/* Calls fn(cd) with the allocation lock held (no collection starts meanwhile; fn must
 * not allocate nor call GC_* functions) and returns its result. */
typedef void *(*GC_fn_type)(void *cd);
WBRT_GC_API void *GC_call_with_alloc_lock(GC_fn_type fn, void *cd);
/* Blocking regions: bdwgc stops scanning the part of the stack a thread uses inside
 * GC_do_blocking (and scans it again inside GC_call_with_gc_active).  wbrt stops a
 * thread with a signal wherever it is, blocked in a system call too, and scans its whole
 * stack: both just return fn(cd). */
WBRT_GC_API void *GC_do_blocking(GC_fn_type fn, void *cd);
WBRT_GC_API void *GC_call_with_gc_active(GC_fn_type fn, void *cd);
/* Prints "Insufficient memory for the allocation" and exits with status 1. */
WBRT_GC_API void GC_abort_on_oom(void);
/* bdwgc's incremental marking steps take at most this many ms (GC_TIME_UNLIMITED, the
 * default: no limit).  wbrt never splits a collection: the value is only kept. */
#define GC_TIME_UNLIMITED 999999
WBRT_GC_API void GC_set_time_limit(unsigned long ms);
WBRT_GC_API unsigned long GC_get_time_limit(void);
/* bdwgc's count of partial collections between full ones (19).  wbrt's full collections
 * come when the old generation has grown by WBRT_HEAP_GROWTH percent instead. */
WBRT_GC_API int GC_get_full_freq(void);
/* bdwgc: whether to handle fork.  wbrt always does (pthread_atfork): any value is taken. */
WBRT_GC_API void GC_set_handle_fork(int on);
/* The calling thread's stack base when GC_init ran.  wbrt finds each thread's stack
 * itself: a later change is not read. */
WBRT_GC_API extern char *GC_stackbottom;
/* Prints the heap's figures and the registered roots to stdout. */
WBRT_GC_API void GC_dump(void);
/* p, after checking that a pointer stored at p is seen by the collector: if p lies in
 * the heap, it must be inside an object whose words are scanned (else wbrt aborts,
 * saying so); outside the heap every address is taken. */
WBRT_GC_API void *GC_is_visible(void *p);
/* 0: a failed allocation fails after the one full collection it makes. */
WBRT_GC_API GC_word GC_get_max_retries(void);

struct GC_stack_base {
    void *mem_base; /* the stack's highest address */
};
WBRT_GC_API int GC_get_stack_base(struct GC_stack_base *sb);
/* Calls fn with the calling thread's stack base and arg; returns its result. */
typedef void *(*GC_stack_base_func)(struct GC_stack_base *sb, void *arg);
WBRT_GC_API void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg);

/* Finalization.  fn(obj, cd) runs once obj is unreachable; obj must be the start of a
 * collected object.  With GC_register_finalizer, an object reachable from another
 * unreachable finalizable object is finalized only after that one (a cycle of them never
 * is); the _no_order variant finalizes regardless.  fn NULL removes the finalizer; the
 * previous fn and cd are stored through ofn and ocd when not NULL.  Finalizers run after
 * the collection, on the thread that allocates or collects next, unless
 * GC_set_finalize_on_demand(1): then only in GC_invoke_finalizers. */
typedef void (*GC_finalization_proc)(void *obj, void *cd);
WBRT_GC_API void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                       GC_finalization_proc *ofn, void **ocd);
WBRT_GC_API void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                                GC_finalization_proc *ofn, void **ocd);
/* ..._ignore_self: as GC_register_finalizer, but obj's pointers into itself do not
 * count (an object that reaches itself only that way is finalized). */
WBRT_GC_API void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                                   GC_finalization_proc *ofn, void **ocd);
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_register_finalizer((p), (f), (d), (of), (od))
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_register_finalizer_ignore_self((p), (f), (d), (of), (od))
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_register_finalizer_no_order((p), (f), (d), (of), (od))
/* GC_invoke_finalizers runs the waiting finalizers and returns how many ran;
 * GC_should_invoke_finalizers is non-zero if some wait. */
WBRT_GC_API int GC_invoke_finalizers(void);
/* With finalize_on_demand: called (without locks, on the thread that allocates or
 * collects) once after each collection that left finalizers waiting. */
typedef void (*GC_finalizer_notifier_proc)(void);
WBRT_GC_API void GC_set_finalizer_notifier(GC_finalizer_notifier_proc fn);
WBRT_GC_API GC_finalizer_notifier_proc GC_get_finalizer_notifier(void);
/* bdwgc's Java-style finalization (on by default): what an object ready for finalization
 * reaches stays alive until its finalizer ran, whatever the order it was registered
 * with.  wbrt always does so; setting it to 0 (where bdwgc may free such objects
 * earlier) changes nothing. */
WBRT_GC_API extern int GC_java_finalization;
WBRT_GC_API void GC_set_java_finalization(int on);
WBRT_GC_API int GC_get_java_finalization(void);
WBRT_GC_API int GC_should_invoke_finalizers(void);
WBRT_GC_API void GC_set_finalize_on_demand(int on);
WBRT_GC_API int GC_get_finalize_on_demand(void);

/* Disappearing links: *link becomes NULL once obj is unreachable, before any finalizer
 * of obj runs.  The link does not keep obj alive only if the word is not itself scanned
 * (atomic memory, or a hidden pointer).  GC_SUCCESS, GC_DUPLICATE (link was registered:
 * now for obj) or GC_NO_MEMORY.  A link inside a heap object is forgotten when that
 * object is collected.  Unregister: 1 if link was registered, else 0. */
WBRT_GC_API int GC_general_register_disappearing_link(void **link, const void *obj);
WBRT_GC_API int GC_unregister_disappearing_link(void **link);
/* The registration of link moves to new_link (whose content stays as it is): GC_SUCCESS
 * (also if new_link is link, registered), GC_DUPLICATE if new_link is registered already,
 * GC_NOT_FOUND if link is not, GC_NO_MEMORY. */
WBRT_GC_API int GC_move_disappearing_link(void **link, void **new_link);
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) \
    GC_general_register_disappearing_link((link), (obj))
#define GC_HIDE_POINTER(p) (~(GC_word)(p))
/* The debugging allocator: bdwgc puts a header before each object; wbrt's objects have
 * none and every call checks what it always checks (GC_debug_free aborts on a pointer
 * that is not an object's start), so these are the plain calls.  s and i name the
 * caller's file and line. */
#define GC_EXTRAS __FILE__, __LINE__
#define GC_EXTRA_PARAMS const char *s, int i
WBRT_GC_API void *GC_debug_malloc(size_t n, GC_EXTRA_PARAMS) __attribute__((malloc, alloc_size(1)));
WBRT_GC_API void *GC_debug_malloc_atomic(size_t n, GC_EXTRA_PARAMS) __attribute__((malloc, alloc_size(1)));
WBRT_GC_API void *GC_debug_malloc_uncollectable(size_t n, GC_EXTRA_PARAMS)
    __attribute__((malloc, alloc_size(1)));
WBRT_GC_API void GC_debug_free(void *p);
WBRT_GC_API void GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                                         GC_finalization_proc *ofn, void **ocd);
#define GC_REVEAL_POINTER(p) ((void *)GC_HIDE_POINTER(p))

#ifdef GC_THREADS
#include <pthread.h>
/* Every thread wbrt sees is registered by itself (pthread_create is interposed, and a
 * thread that allocates is registered): these exist so that bdwgc programs build, and
 * report what bdwgc would. */
WBRT_GC_API void GC_allow_register_threads(void);
/* 0: no marker threads besides the collecting one. */
WBRT_GC_API int GC_get_parallel(void);
/* The signal that stops threads for a collection (WBRT_STOP_SIGNAL). */
WBRT_GC_API int GC_get_suspend_signal(void);
/* GC_SUCCESS, or GC_DUPLICATE if the thread was registered with the GC_* calls already
 * (made by GC_pthread_create, or the thread that called GC_init). */
WBRT_GC_API int GC_register_my_thread(const struct GC_stack_base *sb);
/* The thread's stack is no longer scanned (until it allocates again). */
WBRT_GC_API int GC_unregister_my_thread(void);
WBRT_GC_API int GC_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                                  void *(*start)(void *), void *arg);
WBRT_GC_API int GC_pthread_join(pthread_t t, void **ret);
WBRT_GC_API int GC_pthread_detach(pthread_t t);
WBRT_GC_API void GC_pthread_exit(void *ret) __attribute__((noreturn));
/* bdwgc's restart signal: wbrt's stopped threads wait for no signal but the stop one
 * (WBRT_STOP_SIGNAL), which this returns too. */
WBRT_GC_API int GC_get_thr_restart_signal(void);
#include <dlfcn.h>
/* dlopen, no collection starting meanwhile (it would see a half-loaded library). */
WBRT_GC_API void *GC_dlopen(const char *path, int mode);
#include <signal.h>
/* pthread_sigmask, except that wbrt's stop signal (WBRT_STOP_SIGNAL) stays unblocked. */
WBRT_GC_API int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
#ifndef GC_NO_THREAD_REDIRECTS
#define pthread_create GC_pthread_create
#define pthread_join GC_pthread_join
#define pthread_detach GC_pthread_detach
#define pthread_sigmask GC_pthread_sigmask
#define pthread_exit GC_pthread_exit
#define dlopen GC_dlopen
#endif
#endif

#ifdef __cplusplus
}
#endif
#endif
