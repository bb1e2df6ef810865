import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServeMetrics } from '@ferry/serve';

/**
 * A real @ferry/serve metrics registry under steady load (4 successful requests, batch 4, every
 * 50 ms), exposed on loopback with CORS as a server's /metrics is: what the UI's live deployment
 * views read. `close` stops the load and the server.
 */
export async function loadedMetricsServer(): Promise<{ url: string; close: () => void }> {
  const metrics = new ServeMetrics();
  const observer = metrics.observer('vision/mnist', '1');
  const load = setInterval(() => {
    for (let i = 0; i < 4; i++) {
      metrics.succeeded('vision/mnist', '1');
      observer.queued(0.002);
    }
    observer.executed(4, 4, 0.004);
  }, 50);
  const server = createServer(async (_request, response) => {
    response.writeHead(200, {
      'content-type': metrics.registry.contentType,
      'access-control-allow-origin': '*',
    });
    response.end(await metrics.registry.metrics());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => {
      clearInterval(load);
      server.close();
    },
  };
}
