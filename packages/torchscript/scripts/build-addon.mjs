#!/usr/bin/env node
// Builds the native addon (node-gyp) where Debian's libtorch-dev is installed; elsewhere prints one
// line and exits 0, so `npm ci` works on a machine without libtorch (ferry then runs without the
// TorchScript backend, and loading a TorchScript model says how to get it).
// Run from the root `prepare` script (npm runs a workspace package's own install scripts only when
// the package is approved in "allowScripts"), or by hand: `npm run build:torchscript`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const HEADERS = ['/usr/include/torch/script.h', '/usr/include/torch/csrc/api/include/torch/script.h'];
const ADDON = join(pkg, 'build', 'Release', 'ferry_torchscript.node');
const force = process.argv.includes('--force');

if (!HEADERS.some((h) => existsSync(h))) {
  console.log(
    '@ferry/torchscript: libtorch-dev not found (/usr/include/torch/script.h): TorchScript backend not built; install it with `sudo scripts/install-system-deps.sh` then `npm run build:torchscript`',
  );
  process.exit(0);
}

// Up to date: the addon is newer than every source (prepare runs on every npm install).
const sources = [
  join(pkg, 'binding.gyp'),
  ...readdirSync(join(pkg, 'native')).map((f) => join(pkg, 'native', f)),
];
if (!force && existsSync(ADDON)) {
  const built = statSync(ADDON).mtimeMs;
  if (sources.every((s) => statSync(s).mtimeMs <= built)) process.exit(0);
}

// npm bundles node-gyp; npm sets npm_config_node_gyp inside scripts, else find it beside npm.
const nodeGyp = [
  process.env.npm_config_node_gyp,
  join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  ),
].find((p) => p && existsSync(p));
if (!nodeGyp) {
  console.error('@ferry/torchscript: cannot find node-gyp (it comes with npm); the addon was not built');
  process.exit(1);
}
// Node's own headers: installed beside the binary (Debian/NodeSource put them in /usr/include/node),
// so node-gyp does not try to download them.
const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
console.log('@ferry/torchscript: building the libtorch addon (node-gyp, about a minute)');
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodedir, '-j', 'max', '--loglevel=warn'], {
  cwd: pkg,
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error(
    '@ferry/torchscript: the addon build failed (libtorch-dev is installed, so this is an error)',
  );
  process.exit(result.status ?? 1);
}
