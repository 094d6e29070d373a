/*
 * muldiv64: a 64-bit multiply/divide loop. Each iteration draws two 64-bit values from xorshift64 (the
 * divisor shifted right by a varying amount, so quotients of every width occur), and accumulates
 * unsigned and signed quotients and remainders, the low product and the high half of the 128-bit
 * product. RV64 does these with M instructions; RV32 through libgcc's __udivdi3 & co.
 */
#define ITERS_FULL 40000000
#define ITERS_SMALL 20000
/* RV32 divides through libgcc, about ten times slower: a tenth of the work. */
#define ITERS_FULL_RV32 4000000
#define ITERS_SMALL_RV32 2000

#include "bench.h"

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* High 64 bits of the unsigned 128-bit product (mulhu). */
static uint64_t mulhu64(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
#else
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

int main(void)
{
    uint64_t s = 0x9e3779b97f4a7c15ull ^ bench_seed;
    uint64_t acc = 0, acc2 = 0;
    for (uint32_t i = 0; i < ITERS; i++) {
        uint64_t a = xorshift64(&s);
        uint64_t b = xorshift64(&s) >> (i % 61);
        if (b == 0) b = 1;
        uint64_t q = a / b, r = a % b;
        /* Signed operands never INT64_MIN / -1: the divisor is at most 62 bits wide and nonzero. */
        int64_t sa = (int64_t)a, sb = (int64_t)(b >> 1 | 1) * ((i & 1) ? -1 : 1);
        int64_t sq = sa / sb, sr = sa % sb;
        acc += q ^ (r * 3);
        acc2 ^= (uint64_t)sq + ((uint64_t)sr << 1);
        acc = acc * 0x5851f42d4c957f2dull + mulhu64(a, b | 1);
        acc2 += a * b;
    }
    uint32_t crc = 0xffffffffu;
    crc = bench_crc32_word(crc, (uint32_t)acc);
    crc = bench_crc32_word(crc, (uint32_t)(acc >> 32));
    crc = bench_crc32_word(crc, (uint32_t)acc2);
    crc = bench_crc32_word(crc, (uint32_t)(acc2 >> 32));
    return bench_report("muldiv64", ~crc);
}
