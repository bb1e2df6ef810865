/**
 * The body of one handler worker thread, as CommonJS source for `new Worker(source, { eval: true })`
 * (kept as a string so it runs the same from src/ under vitest and from dist/ under node). It
 * imports the bundle's handler module once and runs `preprocess` / `postprocess` on request, so a
 * slow or CPU-bound handler (tokenizing, image decoding) never blocks the server's event loop.
 * A handler error goes back as a message; the thread stays up for the next request.
 */
export const HANDLER_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const message = (e) => String((e && e.message) || e).split('\\n')[0].slice(0, 1000);
(async () => {
  let mod;
  try {
    mod = await import(workerData.url);
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: message(e) });
    return;
  }
  const has = (name) => typeof mod[name] === 'function';
  parentPort.postMessage({ type: 'ready', preprocess: has('preprocess'), postprocess: has('postprocess') });
  parentPort.on('message', async (msg) => {
    if (msg.type === 'close') {
      parentPort.close();
      return;
    }
    try {
      const result = await mod[msg.stage](...msg.args);
      parentPort.postMessage({ type: 'result', id: msg.id, result });
    } catch (e) {
      parentPort.postMessage({ type: 'failed', id: msg.id, message: message(e) });
    }
  });
})();
`;
