/**
 * One reference server (bench/lib/reference-servers.ts) in a process of its own, so the pinned
 * serve benchmark can pin it to a core as it pins ferry serve:
 *   node --import tsx bench/lib/reference-server-main.ts naive MODEL.onnx
 *   node --import tsx bench/lib/reference-server-main.ts floor FEATURES
 *   node --import tsx bench/lib/reference-server-main.ts grpc-floor FEATURES
 * prints {"port": N} on stdout once listening and serves until SIGTERM.
 */
import { echoServer, grpcEchoServer, naiveServer } from './reference-servers.js';

const [kind, arg] = process.argv.slice(2);
let close: () => Promise<unknown>;
if (kind === 'naive') {
  const naive = await naiveServer(arg!);
  close = () => naive.app.close();
  process.stdout.write(`${JSON.stringify({ port: naive.port })}\n`);
} else if (kind === 'floor') {
  const floor = await echoServer(Number(arg));
  close = () => new Promise((resolve) => floor.server.close(resolve));
  process.stdout.write(`${JSON.stringify({ port: floor.port })}\n`);
} else if (kind === 'grpc-floor') {
  const floor = await grpcEchoServer(Number(arg));
  close = () => new Promise((resolve) => floor.server.close(resolve));
  process.stdout.write(`${JSON.stringify({ port: floor.port })}\n`);
} else {
  process.stderr.write(
    'usage: reference-server-main.ts naive MODEL.onnx | floor FEATURES | grpc-floor FEATURES\n',
  );
  process.exit(2);
}
process.once('SIGTERM', () => {
  void close().finally(() => process.exit(0));
});
