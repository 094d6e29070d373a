/* empty: does nothing but print and exit; the harness times it to subtract QEMU's start-up cost. */
#include "bench.h"

int main(void)
{
    bench_puts("empty: OK\n");
    return 0;
}
