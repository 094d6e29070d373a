/*
 * Start-up of the benchmark programs on the RISC-V virt board (-bios none: the reset stub jumps here in
 * M-mode). Parks every hart but 0, sets the stack and a trap vector, enables the FPU when there is one,
 * calls main, and stops the machine through sifive_test: 0x5555 (pass) if main returned 0, else
 * (status << 16) | 0x3333 (fail; QEMU exits with that status).
 */
#define TEST_BASE 0x100000

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  la sp, _stack_top
  la t0, trap_entry
  csrw mtvec, t0
#ifdef __riscv_flen
  li t0, (1 << 13)            /* mstatus.FS = Initial */
  csrs mstatus, t0
  fscsr zero
#endif
  call main
  /* fall through to bench_exit(a0) */
  .globl bench_exit
bench_exit:
  li t0, TEST_BASE
  li t1, 0x5555
  beqz a0, 1f
  slli t1, a0, 16
  li t2, 0x3333
  or t1, t1, t2
1:
  sw t1, 0(t0)
2:
  j 2b
park:
  wfi
  j park

/* Any trap: report it (bench_trap prints and never returns). */
  .align 2
trap_entry:
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  call bench_trap
  j park
