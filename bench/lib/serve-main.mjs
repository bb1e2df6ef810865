/**
 * ferry serve in a process of its own for the pinned serve benchmark, started under `taskset -c`:
 *   node bench/lib/serve-main.mjs REPO [SERVE_MODULE]
 * SERVE_MODULE (default @ferry/serve) is the module whose startServer runs: another build of
 * packages/serve (a copied dist/index.js) for an A/B run of two builds on the same machine.
 * Prints {"httpPort","grpcPort"} on stdout once ready; SIGTERM closes the server and exits (with
 * --cpu-prof, node writes the profile then). Plain JavaScript, so no TypeScript loader sits in
 * the measured process: it is what `ferry serve REPO --grpc-port 0 --log-level warn` runs.
 */
const [repo, module = '@ferry/serve'] = process.argv.slice(2);
const { startServer } = await import(module);
const server = await startServer({ path: repo, httpPort: 0, grpcPort: 0, logLevel: 'warn' });
process.stdout.write(`${JSON.stringify({ httpPort: server.httpPort, grpcPort: server.grpcPort })}\n`);
process.once('SIGTERM', () => {
  server.close().finally(() => process.exit(0));
});
