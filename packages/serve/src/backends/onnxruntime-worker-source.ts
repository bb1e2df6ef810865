/**
 * The body of one onnxruntime instance's worker thread, as CommonJS source for
 * `new Worker(source, { eval: true })`. onnxruntime-node's session.run() computes synchronously
 * on the calling thread (its binding wraps a blocking call in setImmediate), so a session on
 * the main thread would stop the server from reading requests while a batch runs. Each
 * instance therefore owns a thread; the main thread only parses, batches and answers.
 * Kept as a string so it runs the same from src/ under vitest and from dist/ under node.
 */
export const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const message = (e) => String((e && e.message) || e).split('\\n')[0];
(async () => {
  let session;
  try {
    session = await ort.InferenceSession.create(new Uint8Array(workerData.model), workerData.options);
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: message(e) });
    return;
  }
  parentPort.postMessage({ type: 'ready', inputs: session.inputMetadata, outputs: session.outputMetadata });
  parentPort.on('message', async (msg) => {
    if (msg.type === 'close') {
      await session.release();
      parentPort.close();
      return;
    }
    try {
      const feeds = {};
      for (const f of msg.feeds) feeds[f.name] = new ort.Tensor(f.type, f.data, f.dims);
      const out = await session.run(feeds, msg.outputs);
      const results = [];
      const transfer = [];
      for (const name of msg.outputs) {
        const t = out[name];
        results.push({ name, type: t.type, dims: t.dims, data: t.data });
        if (t.type !== 'string' && !transfer.includes(t.data.buffer)) transfer.push(t.data.buffer);
      }
      // the inputs go back to the main thread, which joins its next batch into them (batch-buffers.ts)
      const inputs = [];
      for (const f of msg.feeds)
        if (f.type !== 'string' && !transfer.includes(f.data.buffer) && !inputs.includes(f.data.buffer))
          inputs.push(f.data.buffer);
      try {
        parentPort.postMessage({ type: 'result', id: msg.id, results, inputs }, [...transfer, ...inputs]);
      } catch {
        parentPort.postMessage({ type: 'result', id: msg.id, results }); // a buffer that cannot move is copied
      }
    } catch (e) {
      parentPort.postMessage({ type: 'failed', id: msg.id, message: message(e) });
    }
  });
})();
`;
