/**
 * Backward liveness (QEMU tcg/tcg.c liveness_pass_1, as a proper data-flow over the TB's blocks so
 * that backward branches are handled too).
 *
 * It deletes ops whose outputs are all dead and that have no side effect (pure ops, env loads, calls
 * flagged CALL_NO_SIDE_EFFECTS), turns a double-width multiply whose high half is dead into `mul`,
 * makes `P t,…; mov d,t` (t dead after) into `P d,…`,
 * drops `discard` and `nop`, and so removes stores to globals that are overwritten before being read.
 * Globals are treated as memory that must be exact whenever the TB can be observed: at every exit
 * (exit_tb, lookup_and_goto_ptr, falling off the end), before every guest memory access (it may
 * fault), before every helper call that may read globals (any call without CALL_NO_READ_GLOBALS;
 * QEMU's flag also promises the helper does not throw), and for env loads that overlap them.
 * TB temps are dead at every exit.
 */
import type { IrFunction } from './context.js';
import {
  CALL_NO_READ_GLOBALS, CALL_NO_RETURN, CALL_NO_SIDE_EFFECTS, MO_SIZE, type Op, type Opcode, type Temp,
} from './ir.js';
import { isPureOpcode } from './interp.js';

function endsBlock(op: Op): boolean {
  switch (op.opc) {
    case 'br': case 'brcond_i32': case 'brcond_i64': case 'exit_tb': case 'lookup_and_goto_ptr':
      return true;
    case 'call':
      return ((op.helper?.flags ?? 0) & CALL_NO_RETURN) !== 0;
    default:
      return false;
  }
}

interface Block {
  start: number;
  end: number;
  succs: number[];
  /** Falls off the end of the TB (an implicit plain exit). */
  exits: boolean;
}

/** Ops whose single output may be renamed (they read all inputs before writing the output). */
function canRetarget(op: Op): boolean {
  switch (op.opc) {
    case 'ld_i32': case 'ld_i64': case 'qemu_ld_i32': case 'qemu_ld_i64': case 'call':
      return true;
    default:
      return isPureOpcode(op.opc);
  }
}

/** Runs liveness on `fn` and returns a new function without the dead ops. */
export function liveness(fn: IrFunction): IrFunction {
  const ops = fn.ops;
  const n = fn.temps.length;
  const globals = fn.temps.filter((t) => t.kind === 'global');

  // ---- blocks --------------------------------------------------------------------------------------
  const starts: number[] = [0];
  ops.forEach((op, k) => {
    if (op.opc === 'set_label' && k !== starts[starts.length - 1]) starts.push(k);
    if (endsBlock(op) && k + 1 < ops.length) starts.push(k + 1);
  });
  const uniq = [...new Set(starts)].sort((a, b) => a - b);
  const blockAt = new Map<number, number>();
  uniq.forEach((s, b) => blockAt.set(s, b));
  const labelBlock = new Int32Array(fn.nbLabels).fill(-1);
  ops.forEach((op, k) => {
    if (op.opc === 'set_label' && op.label) labelBlock[op.label.id] = blockAt.get(k)!;
  });
  const blocks: Block[] = uniq.map((start, b) => {
    const end = uniq[b + 1] ?? ops.length;
    const last = end > start ? ops[end - 1]! : undefined;
    const succs: number[] = [];
    let exits = false;
    const fallthrough = (): void => { if (b + 1 < uniq.length) succs.push(b + 1); else exits = true; };
    if (!last) fallthrough();
    else if (last.opc === 'br') succs.push(labelBlock[last.label!.id]!);
    else if (last.opc === 'brcond_i32' || last.opc === 'brcond_i64') { succs.push(labelBlock[last.label!.id]!); fallthrough(); }
    else if (!endsBlock(last)) fallthrough();
    return { start, end, succs, exits };
  });

  // ---- transfer function -----------------------------------------------------------------------------
  const isTracked = (t: Temp): boolean => t.kind !== 'const';
  const genGlobals = (live: Uint8Array): void => { for (const g of globals) live[g.id] = 1; };
  const gen = (live: Uint8Array, ts: readonly Temp[]): void => { for (const t of ts) if (isTracked(t)) live[t.id] = 1; };
  const kill = (live: Uint8Array, ts: readonly Temp[]): void => { for (const t of ts) if (isTracked(t)) live[t.id] = 0; };
  const anyLive = (live: Uint8Array, ts: readonly Temp[]): boolean => ts.some((t) => live[t.id] === 1);

  /**
   * Walks a block backwards from `live` (live after the block, modified in place to live before it).
   * With `keep`, records the ops to keep (possibly rewritten), in reverse order.
   */
  const walk = (blk: Block, live: Uint8Array, keep: Op[] | null): void => {
    /** Output to give to the op before the current one (see the mov case). */
    let retarget: Temp | null = null;
    for (let k = blk.end - 1; k >= blk.start; k--) {
      let op = ops[k]!;
      if (retarget) {
        op = { ...op, o: [retarget] };
        retarget = null;
      }
      let out: Op | null = op;
      if ((op.opc === 'mov_i32' || op.opc === 'mov_i64') && anyLive(live, op.o)) {
        // `P t, …; mov d, t` with t dead afterwards: P writes d directly (a register-allocation-like
        // coalescing; it saves one closure dispatch per guest instruction that computes into a temp).
        const t = op.i[0]!, prev = k - 1 >= blk.start ? ops[k - 1]! : undefined;
        if (t.kind === 'temp' && live[t.id] === 0 && prev && prev.o.length === 1 && prev.o[0] === t && canRetarget(prev)) {
          retarget = op.o[0]!;
          continue;
        }
      }
      switch (op.opc) {
        case 'nop': out = null; break;
        case 'discard': kill(live, op.o); out = null; break;
        case 'insn_start': case 'set_label': case 'mb': case 'goto_tb': case 'br': break;
        case 'exit_tb': case 'lookup_and_goto_ptr': live.fill(0); genGlobals(live); break;
        case 'brcond_i32': case 'brcond_i64': gen(live, op.i); break;
        case 'qemu_ld_i32': case 'qemu_ld_i64': case 'qemu_st_i32': case 'qemu_st_i64':
          kill(live, op.o); genGlobals(live); gen(live, op.i);
          break;
        case 'st_i32': case 'st_i64': gen(live, op.i); break;
        case 'ld_i32': case 'ld_i64': {
          if (!anyLive(live, op.o)) { out = null; break; }
          kill(live, op.o);
          const ofs = op.c[0]!, end = ofs + (1 << (op.c[1]! & MO_SIZE));
          for (const g of globals) if (g.offset < end && ofs < g.offset + (g.type === 'i32' ? 4 : 8)) live[g.id] = 1;
          break;
        }
        case 'call': {
          const flags = op.helper?.flags ?? 0;
          if ((flags & CALL_NO_SIDE_EFFECTS) && !anyLive(live, op.o)) { out = null; break; }
          kill(live, op.o);
          if (!(flags & CALL_NO_READ_GLOBALS)) genGlobals(live);
          gen(live, op.i);
          break;
        }
        default: {
          if (!isPureOpcode(op.opc)) {
            kill(live, op.o); genGlobals(live); gen(live, op.i);
            break;
          }
          if (!anyLive(live, op.o)) { out = null; break; }
          if (op.o.length === 2 && live[op.o[1]!.id] === 0) {
            // Only the low half is used: a plain multiply gives it (QEMU liveness does the same).
            out = { opc: `mul_${op.o[0]!.type}` as Opcode, o: [op.o[0]!], i: [...op.i], c: [] };
          }
          kill(live, op.o);
          gen(live, op.i);
          break;
        }
      }
      if (keep && out) keep.push(out);
    }
  };

  // ---- fixpoint over blocks ------------------------------------------------------------------------
  const liveIn: Uint8Array[] = blocks.map(() => new Uint8Array(n));
  const liveOut = (b: number): Uint8Array => {
    const blk = blocks[b]!;
    const live = new Uint8Array(n);
    if (blk.exits) genGlobals(live);
    for (const s of blk.succs) {
      const li = liveIn[s]!;
      for (let t = 0; t < n; t++) live[t] = live[t]! | li[t]!;
    }
    return live;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (let b = blocks.length - 1; b >= 0; b--) {
      const live = liveOut(b);
      walk(blocks[b]!, live, null);
      const old = liveIn[b]!;
      for (let t = 0; t < n; t++) {
        if (old[t] !== live[t]) { changed = true; liveIn[b] = live; break; }
      }
    }
  }

  const result: Op[] = [];
  blocks.forEach((blk, b) => {
    const kept: Op[] = [];
    walk(blk, liveOut(b), kept);
    for (let k = kept.length - 1; k >= 0; k--) result.push(kept[k]!);
  });
  return { ...fn, ops: result };
}
