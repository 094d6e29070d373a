/*
 * memsort: memory-bound work on a 2 MiB array of uint32 (512 Ki elements). Each iteration fills it from
 * a xorshift generator, copies it (word loop) into two more arrays, sorts one with quicksort (median of
 * three, insertion sort below 16 elements) and the other with a bottom-up merge sort through a fourth
 * array, checks both are sorted and equal, and folds samples into a CRC-32.
 */
#define ITERS_FULL 2
#define ITERS_SMALL 1
#ifdef SMALL
#define N (16 * 1024)
#else
#define N (512 * 1024)
#endif

#include "bench.h"

static uint32_t src[N], qs[N], ms[N], tmp[N];

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void copy_words(uint32_t *dst, const uint32_t *from, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) dst[i] = from[i];
}

static void swap(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(uint32_t *a, int32_t n)
{
    for (int32_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        int32_t j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

/* Quicksort recursing into the smaller part (stack depth O(log n)). */
static void quick_sort(uint32_t *a, int32_t n)
{
    while (n > 16) {
        int32_t mid = n / 2;
        if (a[mid] < a[0]) swap(&a[mid], &a[0]);
        if (a[n - 1] < a[0]) swap(&a[n - 1], &a[0]);
        if (a[n - 1] < a[mid]) swap(&a[n - 1], &a[mid]);
        uint32_t pivot = a[mid];
        int32_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            swap(&a[i], &a[j]);
            i++;
            j--;
        }
        int32_t left = j + 1;
        if (left < n - left) {
            quick_sort(a, left);
            a += left;
            n -= left;
        } else {
            quick_sort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

/* Bottom-up merge sort of a[0..n) using t as scratch; returns the array holding the result. */
static uint32_t *merge_sort(uint32_t *a, uint32_t *t, uint32_t n)
{
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) t[k++] = a[j] < a[i] ? a[j++] : a[i++];
            while (i < mid) t[k++] = a[i++];
            while (j < hi) t[k++] = a[j++];
        }
        uint32_t *x = a;
        a = t;
        t = x;
    }
    return a;
}

int main(void)
{
    uint32_t seed = bench_seed;
    uint32_t crc = 0xffffffffu;
    for (uint32_t iter = 0; iter < ITERS; iter++) {
        for (uint32_t i = 0; i < N; i++) src[i] = xorshift32(&seed) >> (iter & 7);
        copy_words(qs, src, N);
        copy_words(ms, src, N);
        quick_sort(qs, N);
        const uint32_t *m = merge_sort(ms, tmp, N);
        uint32_t bad = 0, sum = 0;
        for (uint32_t i = 0; i < N; i++) {
            bad += qs[i] != m[i];
            if (i > 0) bad += qs[i - 1] > qs[i];
            sum += qs[i] ^ (i * 2654435761u);
        }
        crc = bench_crc32_word(crc, bad);
        crc = bench_crc32_word(crc, sum);
        for (uint32_t i = 0; i < N; i += N / 64) crc = bench_crc32_word(crc, m[i] + src[i]);
    }
    return bench_report("memsort", ~crc);
}
