/*
 * Shared by every softboard benchmark program, built twice from the same C: for the guest (RISC-V virt
 * board, bare metal: output on the NS16550A, exit through sifive_test, see bench-rt.c and crt.S) and for
 * the host (-DBENCH_HOST: stdio), whose checksum is the expected value baked into the guest build
 * (-DEXPECTED=0x...) by build.sh.
 *
 * A program defines ITERS_FULL and ITERS_SMALL (and may define ITERS_FULL_RV32 / ITERS_SMALL_RV32 for
 * its -DBENCH_RV32 builds) before including this file. ITERS, the work size, is ITERS_FULL, or
 * ITERS_SMALL with -DSMALL; -DITERS=N overrides both. Every computed value uses fixed-width types, so
 * RV32, RV64 and x86-64 agree.
 */
#ifndef SOFTBOARD_BENCH_H
#define SOFTBOARD_BENCH_H

#include <stdint.h>

#if defined(BENCH_RV32) && defined(ITERS_FULL_RV32)
#undef ITERS_FULL
#define ITERS_FULL ITERS_FULL_RV32
#endif
#if defined(BENCH_RV32) && defined(ITERS_SMALL_RV32)
#undef ITERS_SMALL
#define ITERS_SMALL ITERS_SMALL_RV32
#endif
#ifndef ITERS
#ifdef SMALL
#define ITERS ITERS_SMALL
#else
#define ITERS ITERS_FULL
#endif
#endif

#ifdef BENCH_HOST
#include <stdio.h>
static inline void bench_puts(const char *s) { fputs(s, stdout); }
#else
void bench_puts(const char *s);
#endif

/* A seed the compiler cannot see through, so no run is folded to a constant at build time. */
static volatile uint32_t bench_seed = 0x2545f491u;

static inline void bench_puthex32(uint32_t v)
{
    char buf[11];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    buf[10] = 0;
    bench_puts(buf);
}

/*
 * Prints "<name>: checksum 0x<8 hex> OK" (or FAIL with the expected value) and returns main's status:
 * 0 if the checksum is the host's, 1 if not. The host build prints "native" instead of checking.
 */
static inline int bench_report(const char *name, uint32_t sum)
{
    bench_puts(name);
    bench_puts(": checksum ");
    bench_puthex32(sum);
#if defined(BENCH_HOST)
    bench_puts(" native\n");
    return 0;
#elif defined(EXPECTED)
    if (sum == (uint32_t)(EXPECTED)) {
        bench_puts(" OK\n");
        return 0;
    }
    bench_puts(" FAIL expected ");
    bench_puthex32((uint32_t)(EXPECTED));
    bench_puts("\n");
    return 1;
#else
#error "guest builds need -DEXPECTED=<the host build's checksum> (see build.sh)"
#endif
}

/* CRC-32 (IEEE 802.3, reflected, poly 0xedb88320) of one byte, bitwise: used to fold results. */
static inline uint32_t bench_crc32_byte(uint32_t crc, uint8_t b)
{
    crc ^= b;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
    return crc;
}

static inline uint32_t bench_crc32_word(uint32_t crc, uint32_t w)
{
    for (int k = 0; k < 4; k++) crc = bench_crc32_byte(crc, (uint8_t)(w >> (8 * k)));
    return crc;
}

#endif
