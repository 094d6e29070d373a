/*
 * interp: a branchy bytecode interpreter. A small register VM (8 registers, 256 words of memory, a call
 * stack) dispatches with a switch; each iteration runs three bytecode programs on an input derived from
 * the iteration (a sieve of primes in VM memory, Collatz step counting, a call-heavy mixing loop) and
 * folds their results into a CRC-32.
 */
#define ITERS_FULL 3000
#define ITERS_SMALL 30

#include "bench.h"

enum op {
    HALT, LI, MOV, ADD, SUB, MUL, AND, XOR, SHL, SHR, ADDI, LD, ST, JMP, BEQZ, BNEZ, BLT, CALL, RET,
};

struct insn {
    uint8_t op, a, b, c;
    int32_t imm;
};

#define MEM_WORDS 256
#define STACK_DEPTH 16

struct vm {
    uint32_t r[8];
    uint32_t mem[MEM_WORDS];
    uint32_t stack[STACK_DEPTH];
    uint32_t steps;
};

/* Runs `code` from 0 until HALT (or a bad operation); returns r0. */
static uint32_t run(struct vm *vm, const struct insn *code)
{
    uint32_t pc = 0, sp = 0;
    uint32_t *r = vm->r;
    for (;;) {
        const struct insn *i = &code[pc++];
        vm->steps++;
        switch (i->op) {
        case HALT: return r[0];
        case LI: r[i->a] = (uint32_t)i->imm; break;
        case MOV: r[i->a] = r[i->b]; break;
        case ADD: r[i->a] = r[i->b] + r[i->c]; break;
        case SUB: r[i->a] = r[i->b] - r[i->c]; break;
        case MUL: r[i->a] = r[i->b] * r[i->c]; break;
        case AND: r[i->a] = r[i->b] & r[i->c]; break;
        case XOR: r[i->a] = r[i->b] ^ r[i->c]; break;
        case SHL: r[i->a] = r[i->b] << (r[i->c] & 31); break;
        case SHR: r[i->a] = r[i->b] >> (r[i->c] & 31); break;
        case ADDI: r[i->a] = r[i->b] + (uint32_t)i->imm; break;
        case LD: r[i->a] = vm->mem[(r[i->b] + (uint32_t)i->imm) % MEM_WORDS]; break;
        case ST: vm->mem[(r[i->b] + (uint32_t)i->imm) % MEM_WORDS] = r[i->a]; break;
        case JMP: pc = (uint32_t)i->imm; break;
        case BEQZ: if (r[i->a] == 0) pc = (uint32_t)i->imm; break;
        case BNEZ: if (r[i->a] != 0) pc = (uint32_t)i->imm; break;
        case BLT: if (r[i->a] < r[i->b]) pc = (uint32_t)i->imm; break;
        case CALL:
            if (sp == STACK_DEPTH) return 0xdeadbeefu;
            vm->stack[sp++] = pc;
            pc = (uint32_t)i->imm;
            break;
        case RET:
            if (sp == 0) return 0xdeadbeefu;
            pc = vm->stack[--sp];
            break;
        default: return 0xbadc0deu;
        }
    }
}

#define I(op, a, b, c, imm) { op, a, b, c, imm }

/* Sieve of Eratosthenes over mem[0..r0) (r0 <= 256): r0 = number of primes, r7 = sum of primes. */
static const struct insn sieve[] = {
    /* 0 */ I(MOV, 6, 0, 0, 0),      /* r6 = n */
    /* 1 */ I(LI, 1, 0, 0, 0),       /* i = 0: clear mem[0..n) */
    /* 2 */ I(LI, 2, 0, 0, 1),
    /* 3 */ I(ST, 2, 1, 0, 0),       /* mem[i] = 1 */
    /* 4 */ I(ADDI, 1, 1, 0, 1),
    /* 5 */ I(BLT, 1, 6, 0, 3),
    /* 6 */ I(LI, 1, 0, 0, 2),       /* p = 2 */
    /* 7 */ I(MUL, 3, 1, 1, 0),      /* q = p*p */
    /* 8 */ I(BLT, 3, 6, 0, 10),
    /* 9 */ I(JMP, 0, 0, 0, 18),
    /* 10 */ I(LD, 4, 1, 0, 0),
    /* 11 */ I(BEQZ, 4, 0, 0, 16),
    /* 12 */ I(LI, 5, 0, 0, 0),
    /* 13 */ I(ST, 5, 3, 0, 0),      /* mem[q] = 0 */
    /* 14 */ I(ADD, 3, 3, 1, 0),     /* q += p */
    /* 15 */ I(BLT, 3, 6, 0, 13),
    /* 16 */ I(ADDI, 1, 1, 0, 1),
    /* 17 */ I(JMP, 0, 0, 0, 7),
    /* 18 */ I(LI, 0, 0, 0, 0),      /* count */
    /* 19 */ I(LI, 7, 0, 0, 0),      /* sum */
    /* 20 */ I(LI, 1, 0, 0, 2),
    /* 21 */ I(BLT, 1, 6, 0, 23),
    /* 22 */ I(HALT, 0, 0, 0, 0),
    /* 23 */ I(LD, 4, 1, 0, 0),
    /* 24 */ I(BEQZ, 4, 0, 0, 27),
    /* 25 */ I(ADDI, 0, 0, 0, 1),
    /* 26 */ I(ADD, 7, 7, 1, 0),
    /* 27 */ I(ADDI, 1, 1, 0, 1),
    /* 28 */ I(JMP, 0, 0, 0, 21),
};

/* Collatz: r0 = total steps for the 8 starting values r0 .. r0+7. */
static const struct insn collatz[] = {
    /* 0 */ I(MOV, 5, 0, 0, 0),      /* start */
    /* 1 */ I(ADDI, 6, 0, 0, 8),     /* end */
    /* 2 */ I(LI, 0, 0, 0, 0),       /* steps */
    /* 3 */ I(LI, 4, 0, 0, 1),
    /* 4 */ I(LI, 3, 0, 0, 1),       /* constant 1 (shift amount, comparison) */
    /* 5 */ I(MOV, 1, 5, 0, 0),      /* x = start */
    /* 6 */ I(BLT, 3, 1, 0, 8),      /* while 1 < x */
    /* 7 */ I(JMP, 0, 0, 0, 17),
    /* 8 */ I(AND, 2, 1, 3, 0),
    /* 9 */ I(BNEZ, 2, 0, 0, 12),
    /* 10 */ I(SHR, 1, 1, 3, 0),     /* x >>= 1 */
    /* 11 */ I(JMP, 0, 0, 0, 15),
    /* 12 */ I(ADD, 2, 1, 1, 0),     /* x = 3x + 1 */
    /* 13 */ I(ADD, 1, 2, 1, 0),
    /* 14 */ I(ADDI, 1, 1, 0, 1),
    /* 15 */ I(ADDI, 0, 0, 0, 1),
    /* 16 */ I(JMP, 0, 0, 0, 6),
    /* 17 */ I(ADDI, 5, 5, 0, 1),
    /* 18 */ I(BLT, 5, 6, 0, 5),
    /* 19 */ I(HALT, 0, 0, 0, 0),
};

/* A mixing loop of r0 rounds, each calling a subroutine: r0 = the final hash. */
static const struct insn mixer[] = {
    /* 0 */ I(MOV, 6, 0, 0, 0),      /* rounds */
    /* 1 */ I(LI, 0, 0, 0, 0x3c6ef372),
    /* 2 */ I(LI, 5, 0, 0, 0),       /* i */
    /* 3 */ I(LI, 4, 0, 0, 5),
    /* 4 */ I(BLT, 5, 6, 0, 6),
    /* 5 */ I(HALT, 0, 0, 0, 0),
    /* 6 */ I(CALL, 0, 0, 0, 10),
    /* 7 */ I(ST, 0, 5, 0, 64),      /* mem[64 + i] = h */
    /* 8 */ I(ADDI, 5, 5, 0, 1),
    /* 9 */ I(JMP, 0, 0, 0, 4),
    /* 10 */ I(SHL, 1, 0, 4, 0),     /* h = (h << 5) ^ (h >> 5) ^ (h * 0x9e3779b1 + i) */
    /* 11 */ I(SHR, 2, 0, 4, 0),
    /* 12 */ I(XOR, 1, 1, 2, 0),
    /* 13 */ I(LI, 2, 0, 0, (int32_t)0x9e3779b1),
    /* 14 */ I(MUL, 2, 0, 2, 0),
    /* 15 */ I(ADD, 2, 2, 5, 0),
    /* 16 */ I(XOR, 0, 1, 2, 0),
    /* 17 */ I(LD, 3, 5, 0, 63),     /* h += mem[63 + i] (the previous round's) */
    /* 18 */ I(ADD, 0, 0, 3, 0),
    /* 19 */ I(RET, 0, 0, 0, 0),
};

int main(void)
{
    static struct vm vm;
    uint32_t seed = bench_seed;
    uint32_t crc = 0xffffffffu;
    for (uint32_t iter = 0; iter < ITERS; iter++) {
        vm.r[0] = 64 + (iter + seed) % 192;
        crc = bench_crc32_word(crc, run(&vm, sieve));
        crc = bench_crc32_word(crc, vm.r[7]);
        vm.r[0] = 1 + (iter * 7919u + seed) % 100000u;
        crc = bench_crc32_word(crc, run(&vm, collatz));
        vm.r[0] = 16 + iter % 48;
        crc = bench_crc32_word(crc, run(&vm, mixer));
    }
    crc = bench_crc32_word(crc, vm.steps);
    return bench_report("interp", ~crc);
}
