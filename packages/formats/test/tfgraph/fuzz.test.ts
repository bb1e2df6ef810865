import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../../src/errors.js';
import type { Probe } from '../../src/model.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { graphConstants } from '../../src/tfgraph/constants.js';
import { decodeGraphDefBytes } from '../../src/tfgraph/decode.js';
import { looksLikeGraphDef } from '../../src/tfgraph/detect.js';
import { graphDefToOpened } from '../../src/tfgraph/handler.js';

// Mutated frozen graphs: detection answers true or false and never throws; a file that reads as a
// GraphDef opens, lists and reads its constants or fails with a FerryError, never another error.
const TFGRAPH = join(import.meta.dirname, '../../../../fixtures/tfgraph');
const graphs = ['regression_graphdef_frozen.pb', 'half_plus_two_frozen.pb'].map(
  (f) => new Uint8Array(readFileSync(join(TFGRAPH, f))),
);

const probeOf = (bytes: Uint8Array): Probe => ({
  path: 'fuzz.pb',
  isDirectory: false,
  size: bytes.length,
  head: bytes.subarray(0, 4096),
  entries: [],
  source: new BufferSource(bytes, 'fuzz.pb'),
});

async function exercise(bytes: Uint8Array): Promise<void> {
  const detected = await looksLikeGraphDef(probeOf(bytes));
  expect(typeof detected).toBe('boolean');
  try {
    const graph = decodeGraphDefBytes(bytes, 'fuzz.pb');
    const opened = graphDefToOpened('fuzz.pb', graph);
    for (const t of graphConstants(graph, 'fuzz.pb').tensors) await readTensorBytes(t);
    expect(opened.format).toBe('tfgraph');
  } catch (error) {
    if (!isFerryError(error)) throw error;
  }
}

const mutated = fc
  .tuple(
    fc.integer({ min: 0, max: graphs.length - 1 }),
    fc.nat(),
    fc.integer({ min: 0, max: 255 }),
    fc.boolean(),
  )
  .map(([which, at, value, truncate]) => {
    const source = graphs[which]!;
    const where = at % source.length;
    if (truncate) return source.slice(0, where);
    const copy = source.slice();
    copy[where] = value;
    return copy;
  });

describe('frozen GraphDef detection and reading under mutation', () => {
  it('every truncation of both fixtures: detected only where the cut falls between whole fields, and then it reads', async () => {
    // protobuf has no end marker: a cut after a whole node is a smaller valid GraphDef
    for (const bytes of graphs) {
      let detected = 0;
      for (let cut = 0; cut < bytes.length; cut++) {
        const part = bytes.subarray(0, cut);
        if (await looksLikeGraphDef(probeOf(part))) {
          detected++;
          expect(decodeGraphDefBytes(part, 'cut.pb').nodes.length).toBeGreaterThan(0);
        }
        await exercise(part);
      }
      // one cut per node boundary at most (8 nodes each), out of hundreds of cuts
      expect(detected).toBeLessThanOrEqual(8);
    }
  });

  it('random byte changes never throw anything but a FerryError', async () => {
    await fc.assert(fc.asyncProperty(mutated, exercise), { numRuns: 1500, seed: 18 });
  });
});
