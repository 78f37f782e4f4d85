;; Guile 3.0 on a Boehm collector: lists, vectors, strings, hash tables (weak ones
;; too), closures, guardians, threads.  Prints only what any correct collector gives:
;; results, and counts of what was reclaimed compared with bounds.
;; SPDX-License-Identifier: GPL-2.0-or-later
(use-modules (ice-9 threads) (ice-9 weak-vector) (srfi srfi-1))

(define (show label value) (display label) (display ": ") (write value) (newline))

;; Lists: build, sort, fold (about 40 MB allocated).
(define (iota-squares n) (map (lambda (i) (* i i)) (iota n)))
(show "list sum" (let loop ((round 0) (acc 0))
                   (if (= round 20) acc
                       (loop (+ round 1) (+ acc (fold + 0 (iota-squares 20000)))))))
(show "sorted head" (take (sort (map (lambda (i) (modulo (* i 7919) 10007)) (iota 50000)) <) 5))
(show "reversed" (list-head (reverse (iota 100000)) 3))

;; Vectors: many small ones and one big one.
(define big (make-vector 200000 0))
(do ((i 0 (+ i 1))) ((= i 200000)) (vector-set! big i (make-vector 3 i)))
(show "vector sum" (let loop ((i 0) (acc 0))
                     (if (= i 200000) acc (loop (+ i 1) (+ acc (vector-ref (vector-ref big i) 2))))))
(set! big #f)

;; Strings.
(define words (map (lambda (i) (string-append "w" (number->string i 16))) (iota 30000)))
(define joined (string-join words ","))
(show "string length" (string-length joined))
(show "string pieces" (length (string-split joined #\,)))
(show "string port" (string-length (call-with-output-string
                                     (lambda (port) (for-each (lambda (w) (display w port)) words)))))

;; Hash tables.
(define table (make-hash-table))
(for-each (lambda (w) (hash-set! table w (string-length w))) words)
(show "hash entries" (hash-count (const #t) table))
(show "hash lookup" (hash-ref table "w1f3f"))

;; Weak tables: entries whose keys (or values) died go; those kept stay.
(define (weak-count t) (hash-fold (lambda (k v n) (+ n 1)) 0 t))
(define kept (map (lambda (i) (list 'kept i)) (iota 100)))
(define weak-keys (make-weak-key-hash-table))
(define weak-values (make-weak-value-hash-table))
(for-each (lambda (k) (hash-set! weak-keys k #t) (hash-set! weak-values (cadr k) k)) kept)
(do ((i 0 (+ i 1))) ((= i 5000))
  (hash-set! weak-keys (list 'temp i) i)
  (hash-set! weak-values (+ 1000 i) (list 'temp i)))
(gc) (gc)
(show "weak keys kept" (= 100 (length (filter (lambda (k) (hash-ref weak-keys k)) kept))))
(show "weak keys reclaimed" (< (weak-count weak-keys) 500))
(show "weak values kept" (= 100 (length (filter (lambda (i) (hash-ref weak-values i)) (iota 100)))))
(show "weak values reclaimed" (< (weak-count weak-values) 500))
(define wv (make-weak-vector 1000 #f))
(do ((i 0 (+ i 1))) ((= i 1000)) (weak-vector-set! wv i (if (< i 10) (list-ref kept i) (list i))))
(gc) (gc)
(show "weak vector kept" (every (lambda (i) (weak-vector-ref wv i)) (iota 10)))
(show "weak vector reclaimed" (< (count (lambda (i) (weak-vector-ref wv i)) (iota 1000)) 100))

;; Closures.
(define (make-counter)
  (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
(define counters (map (lambda (i) (make-counter)) (iota 1000)))
(for-each (lambda (c) (c) (c)) counters)
(show "closures" (fold + 0 (map (lambda (c) (c)) counters)))
(define composed (fold (lambda (i f) (lambda (x) (f (+ x 1)))) identity (iota 10000)))
(show "composed" (composed 0))

;; Guardians: what was guarded and dropped comes back, once, after collections.
(define guardian (make-guardian))
(define (guard-some n) (do ((i 0 (+ i 1))) ((= i n)) (guardian (list 'guarded i))))
(guard-some 1000)
(define (drain g)
  (let loop ((n 0)) (if (g) (loop (+ n 1)) n)))
(define returned
  (let loop ((round 0) (n 0))
    (if (or (= round 100) (> n 900))
        n
        (begin (gc) (yield) (loop (+ round 1) (+ n (drain guardian)))))))
(show "guardian returned most" (> returned 900))
(show "guardian returned none twice" (<= returned 1000))

;; Threads: each allocates and computes; a mutex guards a shared counter.  Little
;; allocation: Guile may scan the stack of a thread that is exiting, in a collection,
;; after unmapping it (once seen on Debian's libgc: "madvise failed", then SIGSEGV).
(define total 0)
(define lock (make-mutex))
(define (worker k)
  (let ((sum (fold + 0 (map (lambda (i) (* i k)) (iota 3000)))))
    (with-mutex lock (set! total (+ total sum)))
    sum))
(define threads (map (lambda (k) (call-with-new-thread (lambda () (worker k)))) (iota 4 1)))
(show "thread results" (map join-thread threads))
(show "shared total" total)
(show "par-map" (par-map (lambda (k) (length (iota (* k 1000)))) (iota 4 1)))
