import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const EXPECTED = fileURLToPath(new URL('../../../fixtures/deploy/expected.json', import.meta.url));

interface Expected {
  input: { name: string; shape: number[]; data: number[] };
  outputs: Record<'v1' | 'v2', { name: string; shape: number[]; data: number[] }>;
}

export interface LoadResult {
  /** Answers per model_version. */
  readonly byVersion: Readonly<Record<string, number>>;
  /** Every request that failed, or whose answer was not wholly the named version's. */
  readonly failures: readonly string[];
}

/** Requests in flight at once: enough that some are always queued while an alias moves. */
const WORKERS = 3;
/** A pause between one worker's requests, so the load leaves the 2-core test machine some room. */
const PAUSE_MS = 20;
/** torch's float32 answers against onnxruntime's. */
const TOLERANCE = 1e-4;

/**
 * Constant inference load on a deployment of fixtures/deploy's classifier: the first input row,
 * over and over. Each answer must be whole from one version: `model_version` says which, and the
 * scores must be what torch computed for that version (fixtures/deploy/expected.json).
 */
export function inferenceLoad(url: string): { stop(): Promise<LoadResult> } {
  const byVersion: Record<string, number> = {};
  const failures: string[] = [];
  let running = true;
  const ready = readFile(EXPECTED, 'utf8').then((text) => JSON.parse(text) as Expected);

  const once = async (expected: Expected) => {
    const width = expected.input.shape[1]!;
    const body = {
      inputs: [
        {
          name: expected.input.name,
          datatype: 'FP32',
          shape: [1, width],
          data: expected.input.data.slice(0, width),
        },
      ],
    };
    const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
    const text = await response.text();
    if (response.status !== 200) return failures.push(`HTTP ${response.status}: ${text.slice(0, 200)}`);
    const answer = JSON.parse(text) as { model_version: string; outputs: { data: number[] }[] };
    const want = expected.outputs[`v${answer.model_version}` as 'v1' | 'v2'];
    const got = answer.outputs[0]?.data ?? [];
    const classes = want?.shape[1] ?? 0;
    const whole =
      want !== undefined &&
      got.length === classes &&
      got.every((x, i) => Math.abs(x - want.data[i]!) <= TOLERANCE);
    if (!whole) return failures.push(`version ${answer.model_version} answered ${JSON.stringify(got)}`);
    byVersion[answer.model_version] = (byVersion[answer.model_version] ?? 0) + 1;
  };

  const worker = async () => {
    const expected = await ready;
    while (running) {
      await once(expected).catch((error: Error) => failures.push(error.message));
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return { byVersion, failures };
    },
  };
}
