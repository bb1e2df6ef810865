import { ferryError } from '../errors.js';
import type { FormatHandler, OpenedModel, Probe } from '../model.js';
import { zipFormat } from '../pickle/container.js';
import { flattenGraph } from '../pickle/flatten.js';
import { PickleInputSource } from '../pickle/input-source.js';
import { numpyTensorOf } from '../pickle/numpy-arrays.js';
import { openScanned } from '../pickle/open-scanned.js';
import { isUnsafe } from '../verdict.js';
import { renderGraph } from '../pickle/render.js';
import { isNode, type PickleValue } from '../pickle/values.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { dtypeSize } from '../tensor/dtype.js';
import { openMember, openZip, type ZipArchive, type ZipEntry } from '../zip/index.js';
import { parseStorageId, type Storage, type StorageId, TorchTensors } from './rebuild.js';

/** Text of extra/ files copied into metadata when small and UTF-8 (TorchScript _extra_files). */
const MAX_EXTRA_METADATA_BYTES = 64 * 1024;

/** The archive's record folder: torch writes `<root>/data.pkl`, root being any name. */
export function findRoot(zip: ZipArchive): { root: string; dataPkl: ZipEntry } | undefined {
  const candidates = zip.entries.filter((e) => /^([^/]+\/)?data\.pkl$/.test(e.name));
  const pick = candidates.find((e) => e.name.includes('/')) ?? candidates[0];
  if (!pick) return undefined;
  return { root: pick.name.slice(0, pick.name.length - 'data.pkl'.length), dataPkl: pick };
}

async function detectZip(probe: Probe, want: 'pytorch' | 'torchscript'): Promise<boolean> {
  if (probe.isDirectory || !probe.source) return false;
  const pk = probe.head[0] === 0x50 && probe.head[1] === 0x4b;
  if (!pk) return false;
  try {
    const zip = await openZip(probe.source);
    return zipFormat(zip) === want;
  } catch {
    return false;
  }
}

class StorageTable {
  private readonly cache = new Map<string, Promise<ByteSource>>();
  private readonly sources = new Map<string, ByteSource>();
  constructor(
    private readonly zip: ZipArchive,
    private readonly path: string,
    private readonly folder: string,
    private readonly byteOrder: 'little' | 'big',
  ) {}

  /** Opens every storage the pickle names (before the synchronous flatten). */
  async prepare(ids: Iterable<StorageId>): Promise<void> {
    for (const id of ids) {
      if (this.sources.has(id.key)) continue;
      const name = `${this.folder}${id.key}`;
      const entry = this.zip.entries.find((e) => e.name === name);
      if (!entry) {
        throw ferryError('FERRY_PICKLE_STRUCTURE', {
          path: this.path,
          what: `storage ${id.key}`,
          reason: `no member ${name}`,
        });
      }
      let pending = this.cache.get(id.key);
      if (!pending) {
        pending = openMember(this.zip, entry);
        this.cache.set(id.key, pending);
      }
      this.sources.set(id.key, await pending);
    }
  }

  resolve = (id: StorageId): Storage => {
    const source = this.sources.get(id.key)!;
    const size = id.dtype ? dtypeSize(id.dtype) : 1;
    const numel = Math.floor(source.size / size);
    if (id.dtype && numel < id.numel) {
      throw ferryError('FERRY_PICKLE_STRUCTURE', {
        path: this.path,
        what: `storage ${id.key}`,
        reason: `holds ${numel} elements, the pickle says ${id.numel}`,
      });
    }
    return {
      key: `${this.folder}${id.key}`,
      source,
      offset: 0,
      numel,
      dtype: id.dtype,
      typeName: id.typeName,
      byteOrder: this.byteOrder,
    };
  };
}

/** Every storage id under a value (persistent ids are only ever storages in torch files). */
export function storageIds(root: PickleValue, path: string): StorageId[] {
  const out: StorageId[] = [];
  const seen = new Set<object>();
  const todo: PickleValue[] = [root];
  while (todo.length > 0) {
    const value = todo.pop()!;
    if (!isNode(value) || seen.has(value)) continue;
    seen.add(value);
    if (value.kind === 'persid') {
      out.push(parseStorageId(value, path));
      continue;
    }
    switch (value.kind) {
      case 'tuple':
      case 'list':
      case 'set':
      case 'frozenset':
        todo.push(...value.items);
        break;
      case 'dict':
        for (const [k, v] of value.entries) todo.push(k, v);
        break;
      case 'call':
        todo.push(value.callee, ...value.args, ...value.states, ...value.listItems);
        if (value.kwargs !== undefined) todo.push(value.kwargs);
        for (const [k, v] of value.dictItems) todo.push(k, v);
        break;
      case 'setstate':
        todo.push(value.obj, value.state);
        break;
      default:
        break;
    }
  }
  return out;
}

async function openTorchZip(
  path: string,
  unsafeInspect: boolean | undefined,
  format: 'pytorch' | 'torchscript',
): Promise<OpenedModel> {
  const { scan, close } = await openScanned(path, unsafeInspect);
  try {
    const zip = scan.zip;
    const found = zip && findRoot(zip);
    if (!zip || !found)
      throw ferryError('FERRY_PICKLE_STRUCTURE', { path, what: 'archive', reason: 'no data.pkl record' });
    const { root } = found;
    const member = async (name: string) => {
      const entry = zip.entries.find((e) => e.name === `${root}${name}`);
      if (!entry) return undefined;
      const source = await openMember(zip, entry);
      return source.read(0, source.size);
    };
    const orderBytes = await member('byteorder');
    const orderText = orderBytes ? new TextDecoder().decode(orderBytes).trim() : 'little';
    if (orderText !== 'little' && orderText !== 'big') {
      throw ferryError('FERRY_PICKLE_STRUCTURE', {
        path,
        what: 'byteorder record',
        reason: `${JSON.stringify(orderText)} is not little or big`,
      });
    }
    const streamOf = (name: string) =>
      scan.streams.find((s) => s.member === `${root}${name}`)?.stream.pickles[0]?.value;
    let table = new StorageTable(zip, path, `${root}data/`, orderText);
    const tensors = new TorchTensors(path, (id) => table.resolve(id));

    const data = streamOf('data.pkl');
    if (data === undefined)
      throw ferryError('FERRY_PICKLE_STRUCTURE', { path, what: 'data.pkl', reason: 'was not read' });
    await table.prepare(storageIds(data, path));
    // NumPy arrays pickled into the checkpoint (a Trainer's rng_state.pth) are tensors too.
    const dataInput = scan.streams.find((s) => s.member === `${root}data.pkl`)!.input;
    const numpy = numpyTensorOf(new PickleInputSource(dataInput), []);
    const main = flattenGraph(data, (v, n) => tensors.tensorOf(v, n) ?? numpy(v, n), path);
    const all = { tensors: [...main.tensors], opaque: [...main.opaque] };
    const details: Record<string, unknown> = {};
    const metadata: Record<string, string> = {};
    if (format === 'torchscript') {
      const constants = streamOf('constants.pkl');
      if (constants !== undefined) {
        table = new StorageTable(zip, path, `${root}constants/`, orderText);
        await table.prepare(storageIds(constants, path));
        const items = isNode(constants) && constants.kind === 'tuple' ? constants.items : [constants];
        items.forEach((item, i) => {
          const flat = flattenGraph(item, tensors.tensorOf, path, `CONSTANTS.c${i}`);
          all.tensors.push(...flat.tensors);
          all.opaque.push(...flat.opaque);
        });
      }
      details.code = zip.entries
        .filter((e) => e.name.startsWith(`${root}code/`) && !e.name.endsWith('.debug_pkl'))
        .map((e) => e.name.slice(root.length));
      const extra = zip.entries.filter((e) => e.name.startsWith(`${root}extra/`));
      details.extra = extra.map((e) => `${e.name.slice(root.length)} (${e.size} bytes)`);
      for (const e of extra) {
        if (e.size > MAX_EXTRA_METADATA_BYTES) continue;
        const bytes = await member(e.name.slice(root.length));
        try {
          metadata[e.name.slice(`${root}extra/`.length)] = new TextDecoder('utf-8', { fatal: true }).decode(
            bytes,
          );
        } catch {
          // Binary extra files are listed, not copied.
        }
      }
    }
    const version = await member('version');
    if (version) details.version = new TextDecoder().decode(version).trim();
    details.root = root.replace(/\/$/, '');
    if (isUnsafe(scan.findings)) details.graph = [renderGraph(data)];
    details.byteorder = orderText;
    if (Object.keys(tensors.tied).length > 0) details.tied = tensors.tied;
    if (main.leafCount > 0) details.values = main.values;
    if (main.objects.length > 0) details.objects = main.objects.map((o) => `${o.name}: ${o.class}`);
    return {
      format,
      path,
      tensors: all.tensors,
      ...(all.opaque.length > 0 && { opaque: all.opaque }),
      metadata,
      details,
      findings: scan.findings,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** PyTorch's zip checkpoints (torch.save since 1.6): `<root>/data.pkl` + `<root>/data/<key>`. */
export const pytorchZipHandler: FormatHandler = {
  name: 'pytorch',
  detect: (probe) => detectZip(probe, 'pytorch'),
  open: (path, options) => openTorchZip(path, options.unsafeInspect, 'pytorch'),
};

/** TorchScript archives (torch.jit.save): data.pkl, constants.pkl, code/, extra/. */
export const torchscriptHandler: FormatHandler = {
  name: 'torchscript',
  detect: (probe) => detectZip(probe, 'torchscript'),
  open: (path, options) => openTorchZip(path, options.unsafeInspect, 'torchscript'),
};
