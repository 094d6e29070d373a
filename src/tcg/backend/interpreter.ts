/**
 * The interpreter backend: runs the IR with the reference interpreter ({@link interpret}), so the
 * execution loop can run guest code on the oracle (slow; for differential testing and debugging).
 */
import type { IrFunction } from '../context.js';
import { interpret } from '../interp.js';
import type { Backend, CompiledTb, TbRuntime } from './backend.js';

/** A backend whose compiled TBs interpret the IR on every run. */
export const interpreterBackend: Backend = {
  name: 'interpreter',
  compile(fn: IrFunction): CompiledTb {
    return (rt: TbRuntime) => interpret(fn, rt);
  },
};
