import type { Command } from '../command.js';
import { inspectCommand } from './inspect.js';
import { optimizeCommand } from './optimize.js';
import { quantizeCommand } from './quantize.js';

/** Every command, in the order `ferry --help` lists them. */
export const COMMANDS: readonly Command[] = [
  inspectCommand,
  // convert, diff

  // scan

  // serve
  optimizeCommand,
  quantizeCommand,

  // registry, push, pull, models, alias, runs, lineage, login
];
