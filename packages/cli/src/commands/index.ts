import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { diffCommand } from './diff.js';
import { inspectCommand } from './inspect.js';
import { serveCommand } from './serve.js';
import { scanCommand } from './scan.js';

/** Every command, in the order `ferry --help` lists them. */
export const COMMANDS: readonly Command[] = [
  inspectCommand,
  // convert, diff
  convertCommand,
  diffCommand,

  // scan
  scanCommand,

  // serve
  serveCommand,

  // registry, push, pull, models, alias, runs, lineage, login
];
