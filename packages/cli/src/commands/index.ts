import type { Command } from '../command.js';
import { aliasCommand } from './alias.js';
import { cacheCommand } from './cache.js';
import { containerizeCommand } from './containerize.js';
import { convertCommand } from './convert.js';
import { deployCommand } from './deploy.js';
import { diffCommand } from './diff.js';
import { inspectCommand } from './inspect.js';
import { keygenCommand } from './keygen.js';
import { lineageCommand } from './lineage.js';
import { loginCommand } from './login.js';
import { modelsCommand } from './models.js';
import { optimizeCommand } from './optimize.js';
import { packCommand } from './pack.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { quantizeCommand } from './quantize.js';
import { registryCommand } from './registry.js';
import { runsCommand } from './runs.js';
import { scanCommand } from './scan.js';
import { serveCommand } from './serve.js';
import { signCommand } from './sign.js';
import { unpackCommand } from './unpack.js';
import { upCommand } from './up.js';
import { verifyCommand } from './verify.js';

/** Every command, in the order `ferry --help` lists them. */
export const COMMANDS: readonly Command[] = [
  // read, check and convert model files
  inspectCommand,
  scanCommand,
  convertCommand,
  diffCommand,
  optimizeCommand,
  quantizeCommand,

  // serve, deploy, and everything at once
  serveCommand,
  deployCommand,
  upCommand,

  // registry, push, pull, models, alias, runs, lineage, login
  registryCommand,
  pushCommand,
  pullCommand,
  modelsCommand,
  aliasCommand,
  runsCommand,
  lineageCommand,
  loginCommand,
  cacheCommand,

  // bundle: pack, keygen, sign, verify, unpack, containerize
  packCommand,
  keygenCommand,
  signCommand,
  verifyCommand,
  unpackCommand,
  containerizeCommand,
];
