/*
 * intmix: a CoreMark-like integer mix (written for softboard, not CoreMark's code). Each iteration:
 * builds a 64-node linked list, finds keys in it, sorts it (merge sort) and reverses it; multiplies two
 * small int32 matrices; runs a number-recognising state machine over a string; and folds every result
 * into a CRC-16 (bitwise CCITT) and a CRC-32 (table-driven).
 */
#define ITERS_FULL 30000
#define ITERS_SMALL 300

#include "bench.h"

/* ---- CRCs ---- */

static uint32_t crc32_table[256];

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1u));
        crc32_table[i] = c;
    }
}

static uint32_t crc32_u32(uint32_t crc, uint32_t w)
{
    for (int k = 0; k < 4; k++) crc = (crc >> 8) ^ crc32_table[(crc ^ (w >> (8 * k))) & 0xff];
    return crc;
}

static uint16_t crc16_u8(uint16_t crc, uint8_t b)
{
    crc ^= (uint16_t)(b << 8);
    for (int k = 0; k < 8; k++) crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    return crc;
}

static uint16_t crc16_u16(uint16_t crc, uint16_t v)
{
    return crc16_u8(crc16_u8(crc, (uint8_t)v), (uint8_t)(v >> 8));
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

/* ---- linked list ---- */

#define LIST_N 64

struct node {
    struct node *next;
    uint16_t key;
    int16_t val;
};

static struct node pool[LIST_N];

static struct node *list_build(uint32_t seed)
{
    struct node *head = 0;
    for (int i = 0; i < LIST_N; i++) {
        pool[i].key = (uint16_t)((i * 37u + seed) & 0x3ff);
        pool[i].val = (int16_t)(lcg(&seed) >> 16);
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

/* Position of the first node with `key`, or -1. */
static int list_find(const struct node *n, uint16_t key)
{
    for (int pos = 0; n; n = n->next, pos++)
        if (n->key == key) return pos;
    return -1;
}

static struct node *list_reverse(struct node *n)
{
    struct node *prev = 0;
    while (n) {
        struct node *next = n->next;
        n->next = prev;
        prev = n;
        n = next;
    }
    return prev;
}

static int node_less(const struct node *a, const struct node *b)
{
    return a->val < b->val || (a->val == b->val && a->key < b->key);
}

/* Bottom-up merge sort of a singly linked list (stable), by (val, key). */
static struct node *list_sort(struct node *list)
{
    for (int width = 1;; width *= 2) {
        struct node *p = list, *tail = 0;
        int merges = 0;
        list = 0;
        while (p) {
            merges++;
            struct node *q = p;
            int psize = 0;
            for (int i = 0; i < width && q; i++) {
                psize++;
                q = q->next;
            }
            int qsize = width;
            while (psize > 0 || (qsize > 0 && q)) {
                struct node *e;
                if (psize == 0) {
                    e = q; q = q->next; qsize--;
                } else if (qsize == 0 || !q || !node_less(q, p)) {
                    e = p; p = p->next; psize--;
                } else {
                    e = q; q = q->next; qsize--;
                }
                if (tail) tail->next = e;
                else list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (merges <= 1) return list;
    }
}

static uint16_t bench_list(uint16_t crc, uint32_t iter)
{
    struct node *head = list_build(iter);
    for (uint32_t j = 0; j < 8; j++) crc = crc16_u16(crc, (uint16_t)list_find(head, (uint16_t)((j * 131u + iter * 7u) & 0x3ff)));
    head = list_sort(head);
    uint32_t pos = 0;
    for (const struct node *n = head; n; n = n->next) crc = crc16_u16(crc, (uint16_t)(n->val * 3 + n->key + pos++));
    head = list_reverse(head);
    crc = crc16_u16(crc, (uint16_t)list_find(head, pool[iter % LIST_N].key));
    crc = crc16_u16(crc, (uint16_t)head->val);
    return crc;
}

/* ---- matrix ---- */

#define MAT_N 10

static int32_t ma[MAT_N][MAT_N], mb[MAT_N][MAT_N], mc[MAT_N][MAT_N];

static uint32_t bench_matrix(uint32_t crc, uint32_t iter)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            ma[i][j] = (int32_t)((uint32_t)(i * 7 + j * 3) ^ iter) - 50;
            mb[i][j] = (int32_t)(iter * (uint32_t)(i + 1)) % 1000 - (j << 4);
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++) s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint32_t bits = 0;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) bits += (((uint32_t)mc[i][j] >> 2) & 0x5a5a) ^ ((uint32_t)mc[i][j] << 1);
    crc = crc32_u32(crc, bits);
    return crc32_u32(crc, (uint32_t)mc[iter % MAT_N][(iter / MAT_N) % MAT_N]);
}

/* ---- state machine: classify comma-separated tokens as int, float, scientific or invalid ---- */

enum { S_START, S_SIGN, S_INT, S_DOT, S_FRAC, S_EXP, S_EXPSIGN, S_SCI, S_INVALID, S_COUNT };

#define STR_LEN 192

static char text[STR_LEN + 1];

static void text_build(uint32_t seed)
{
    static const char alphabet[] = "0123456789012345678..ee+-,,,x";
    for (int i = 0; i < STR_LEN; i++) text[i] = alphabet[(lcg(&seed) >> 24) % (sizeof alphabet - 1)];
    text[STR_LEN] = 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int next_state(int s, char c)
{
    switch (s) {
    case S_START:
        if (is_digit(c)) return S_INT;
        if (c == '+' || c == '-') return S_SIGN;
        if (c == '.') return S_DOT;
        return S_INVALID;
    case S_SIGN:
        if (is_digit(c)) return S_INT;
        if (c == '.') return S_DOT;
        return S_INVALID;
    case S_INT:
        if (is_digit(c)) return S_INT;
        if (c == '.') return S_DOT;
        if (c == 'e') return S_EXP;
        return S_INVALID;
    case S_DOT:
    case S_FRAC:
        if (is_digit(c)) return S_FRAC;
        if (c == 'e' && s == S_FRAC) return S_EXP;
        return S_INVALID;
    case S_EXP:
        if (c == '+' || c == '-') return S_EXPSIGN;
        if (is_digit(c)) return S_SCI;
        return S_INVALID;
    case S_EXPSIGN:
    case S_SCI:
        return is_digit(c) ? S_SCI : S_INVALID;
    default:
        return S_INVALID;
    }
}

static uint32_t bench_state(uint32_t crc, uint32_t iter)
{
    uint32_t finals[S_COUNT] = {0};
    uint32_t transitions = 0;
    /* Mutate a few characters per iteration so each pass sees a different string. */
    text[iter % STR_LEN] = (char)('0' + iter % 10);
    text[(iter * 13) % STR_LEN] = ',';
    text[(iter * 29) % STR_LEN] = (iter & 1) ? 'e' : '.';
    int s = S_START;
    for (const char *p = text;; p++) {
        if (*p == ',' || *p == 0) {
            finals[s]++;
            s = S_START;
            if (*p == 0) break;
            continue;
        }
        int t = next_state(s, *p);
        transitions += (t != s);
        s = t;
    }
    for (int i = 0; i < S_COUNT; i++) crc = crc32_u32(crc, finals[i]);
    return crc32_u32(crc, transitions);
}

int main(void)
{
    uint32_t seed = bench_seed;
    crc32_init();
    text_build(seed);
    uint16_t crc16 = 0xffff;
    uint32_t crc32 = 0xffffffffu;
    for (uint32_t iter = 0; iter < ITERS; iter++) {
        crc16 = bench_list(crc16, iter ^ seed);
        crc32 = bench_matrix(crc32, iter);
        crc32 = bench_state(crc32, iter);
    }
    crc32 = crc32_u32(crc32, crc16);
    return bench_report("intmix", ~crc32);
}
