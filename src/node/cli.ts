#!/usr/bin/env node
/** The `softboard` command line, mirroring qemu-system-riscv64's flags. */
export {};
