/**
 * Where a server's main thread spent its CPU, from a V8 .cpuprofile (`node --cpu-prof`), summed by
 * category: what the pinned serve benchmark prints when a goal is not met. Each sample is charged
 * to a category by its stack: the innermost frame in ferry's own serve code, in a library the
 * request passes through, or in node's socket and HTTP code decides (so a Buffer copy called from
 * the binary parser is parsing, and a socket write under fastify's reply is transport).
 * Samples with no such frame go to GC, native code or other JavaScript; idle time is left out.
 *
 * Each sample counts the same, whatever its time delta: V8 samples by a timer signal, and while
 * the thread is off its core (another thread of the server, such as ONNX Runtime's, running on
 * the same pinned core) the signals wait and merge into one sample taken where it resumes, whose
 * delta holds the whole wait. Weighting by delta would charge the other thread's time to whatever
 * the main thread was doing when it was preempted (a postMessage that woke ONNX Runtime's
 * thread); counting samples follows the thread's own CPU time.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  /** µs on the monotonic clock (process.hrtime's) of the first sample's time base. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Categories of ferry's own code, by the file (under packages/serve/) a frame belongs to. */
const FERRY_FILES: readonly [RegExp, string][] = [
  [/\/protocol\/(inference|request-rules|rest-body-guard|inflight-budget)\.js$/, 'validation'],
  [
    /\/protocol\/(rest-infer|rest-json|json-data|json-sliced|binary-data|grpc|grpc-infer|grpc-infer-codec)\.js$/,
    'parsing and encoding',
  ],
  [/\/scheduler\//, 'batching'],
  [/\/backends\//, 'hand-off to ONNX Runtime'],
  [/\/metrics\.js$|\/statistics\.js$/, 'metrics'],
  [/\/protocol\/rest\.js$/, 'REST route'],
  [/\/protocol\/grpc-direct-infer\.js$/, 'gRPC route (direct HTTP/2)'],
  // ferry's own transports on the raw sockets (their callers' node:net frames are transport too)
  [/\/protocol\/lean-http-(transport|head)\.js$/, "transport (ferry's lean HTTP/1.1)"],
  [/\/protocol\/(lean-h2-[a-z-]+|h2-frames|hpack|hpack-huffman)\.js$/, "transport (ferry's lean HTTP/2)"],
];

/** Libraries a request passes through, by their node_modules folder. */
const LIBRARIES: readonly [RegExp, string][] = [
  [
    /node_modules\/(fastify|@fastify|find-my-way|light-my-request|avvio|fast-json-stringify|toad-cache)\//,
    'fastify',
  ],
  [/node_modules\/@grpc\//, 'gRPC library (grpc-js)'],
  [/node_modules\/(protobufjs|@protobufjs)\//, 'protobuf (protobufjs)'],
  [/node_modules\/(prom-client|tdigest|bintrees)\//, 'metrics'],
  [/node_modules\/(pino|sonic-boom|thread-stream)\//, 'logging'],
  [/node_modules\/onnxruntime-(node|common)\//, 'ONNX Runtime (on this thread)'],
];

/** node's own transport code: time spent here is moving bytes, whoever asked for it. */
const TRANSPORT =
  /^node:(_http_|net$|internal\/(stream_base_commons|net|streams|http|http2|js_stream)|http2?$|stream$)/;

function categoryOf(url: string): string | undefined {
  if (url.includes('/packages/serve/'))
    for (const [pattern, name] of FERRY_FILES) if (pattern.test(url)) return name;
  for (const [pattern, name] of LIBRARIES) if (pattern.test(url)) return name;
  return undefined;
}

/**
 * Samples per category, most first, and the share of the non-idle samples each is; with a window,
 * only the samples taken in it (µs on the same clock as startTime).
 */
export function summariseProfile(
  profile: CpuProfile,
  window?: { fromUs: number; toUs: number },
): { category: string; samples: number; share: number }[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const chargeOf = new Map<number, string | undefined>();
  const charge = (id: number): string | undefined => {
    if (chargeOf.has(id)) return chargeOf.get(id);
    const { functionName } = byId.get(id)!.callFrame;
    let result: string | undefined;
    if (functionName === '(idle)') result = undefined;
    else if (functionName === '(garbage collector)') result = 'GC';
    else if (functionName === '(program)') result = 'native (outside JavaScript)';
    else {
      // the innermost frame that names a category, past node's other internals and native frames
      for (let at: number | undefined = id; at !== undefined && !result; at = parent.get(at)) {
        const frameUrl = byId.get(at)!.callFrame.url;
        if (TRANSPORT.test(frameUrl))
          result = frameUrl.includes('http2') ? 'transport (node:http2)' : 'transport (node:http, net)';
        else result = categoryOf(frameUrl);
      }
      result ??= 'other JavaScript (promises, timers, node internals)';
    }
    chargeOf.set(id, result);
    return result;
  };
  const counts = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0; // the sample's time: the deltas add up from startTime
    if (window && (at < window.fromUs || at > window.toUs)) return;
    const category = charge(id);
    if (category === undefined) return;
    counts.set(category, (counts.get(category) ?? 0) + 1);
    total++;
  });
  return [...counts]
    .map(([category, samples]) => ({ category, samples, share: samples / total }))
    .sort((a, b) => b.samples - a.samples);
}
