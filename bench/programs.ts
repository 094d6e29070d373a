/**
 * The benchmark programs (bench/riscv/<name>.c), in table order; `rv32: false` where RV32IMAC makes no
 * sense (no FPU). Used by the harness (bench/run.ts) and by the test that proves the programs right.
 */
export const BENCH_PROGRAMS = [
  { name: 'intmix', rv32: true },
  { name: 'memsort', rv32: true },
  { name: 'interp', rv32: true },
  { name: 'muldiv64', rv32: true },
  { name: 'nbody', rv32: false },
] as const;
