#!/usr/bin/env node
import { main } from '../dist/main.js';

// `npx ferry serve ... &` (or an npm script) runs this file under `sh -c` under npm: a SIGTERM to
// that PID reaches npm, which passes it to the shell, which dies without passing it on, and the
// server would run on with no parent. Started by npm, losing the parent is taken as the SIGTERM it
// stands for.
if (process.env.npm_command !== undefined) {
  const parent = process.ppid;
  const watch = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch (error) {
      if (error.code !== 'ESRCH') return;
      clearInterval(watch);
      process.kill(process.pid, 'SIGTERM');
    }
  }, 250);
  watch.unref();
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
// Exit once the output is written, not when the event loop happens to empty: a server that failed
// to start or to close (a database pool, a socket, a log stream whose reader went away) must not
// keep the process alive after its command has finished.
const flushed = (stream) => new Promise((resolve) => stream.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
