import type { Command } from '../command.js';
import { aliasCommand } from './alias.js';
import { convertCommand } from './convert.js';
import { diffCommand } from './diff.js';
import { inspectCommand } from './inspect.js';
import { lineageCommand } from './lineage.js';
import { loginCommand } from './login.js';
import { modelsCommand } from './models.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { registryCommand } from './registry.js';
import { runsCommand } from './runs.js';

/** Every command, in the order `ferry --help` lists them. */
export const COMMANDS: readonly Command[] = [
  inspectCommand,
  // convert, diff
  convertCommand,
  diffCommand,

  // scan

  // serve

  // registry, push, pull, models, alias, runs, lineage, login
  registryCommand,
  pushCommand,
  pullCommand,
  modelsCommand,
  aliasCommand,
  runsCommand,
  lineageCommand,
  loginCommand,
];
