import { ferryError } from '../errors.js';
import type { FormatHandler, OpenedModel } from '../model.js';
import { LEGACY_TORCH_MAGIC, sniffContainer } from '../pickle/container.js';
import { flattenGraph } from '../pickle/flatten.js';
import { numpyTensorOf } from '../pickle/numpy-arrays.js';
import { openScanned } from '../pickle/open-scanned.js';
import { isUnsafe } from '../verdict.js';
import { renderGraph } from '../pickle/render.js';
import { dictGet, isNode, type PickleValue } from '../pickle/values.js';
import { dtypeSize } from '../tensor/dtype.js';
import { type Storage, TorchTensors } from './rebuild.js';
import { storageIds } from './zip-checkpoint.js';

/** torch/serialization.py: PROTOCOL_VERSION of the pre-1.6 format. */
const LEGACY_PROTOCOL = 1001;
/** Storages in one legacy file (each is a count + raw bytes after the pickles) (CWE-770). */
export const MAX_LEGACY_STORAGES = 1_000_000;

/**
 * The legacy format (torch.save with _use_new_zipfile_serialization=False, and every file from
 * torch < 1.6): five pickles (magic, protocol 1001, sys_info, the object, the storage keys),
 * then each storage in key order as an int64 element count and its raw bytes.
 */
async function openLegacy(path: string, unsafeInspect: boolean | undefined): Promise<OpenedModel> {
  const { source, scan, close } = await openScanned(path, unsafeInspect);
  try {
    const bad = (what: string, reason: string) =>
      ferryError('FERRY_PICKLE_STRUCTURE', { path, what, reason });
    const stream = scan.streams[0]?.stream;
    if (!stream || stream.pickles.length < 5) throw bad('legacy torch file', 'fewer than five pickles');
    const [magic, protocol, sysInfo, main, keys] = stream.pickles.map((p) => p.value) as [
      PickleValue,
      PickleValue,
      PickleValue,
      PickleValue,
      PickleValue,
    ];
    if (magic !== LEGACY_TORCH_MAGIC) throw bad('magic number', `${String(magic)} is not torch's`);
    if (protocol !== LEGACY_PROTOCOL)
      throw bad('protocol version', `${String(protocol)} is not ${LEGACY_PROTOCOL}`);
    let byteOrder: 'little' | 'big' = 'little';
    if (isNode(sysInfo) && sysInfo.kind === 'dict' && dictGet(sysInfo, 'little_endian') === false)
      byteOrder = 'big';
    if (!isNode(keys) || keys.kind !== 'list') throw bad('storage keys', 'not a list');
    if (keys.items.length > MAX_LEGACY_STORAGES) {
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'storage count',
        value: keys.items.length,
        limit: MAX_LEGACY_STORAGES,
        reason: 'CWE-770',
      });
    }
    const ids = storageIds(main, path);
    const typeOf = new Map<string, (typeof ids)[number]>();
    for (const id of ids) if (!typeOf.has(id.key)) typeOf.set(id.key, id);
    // Storages follow the last pickle back to back: int64 element count, then the elements.
    const storages = new Map<string, Storage>();
    let at = stream.pickles[4]!.end;
    for (const keyValue of keys.items) {
      const key = String(keyValue);
      const id = typeOf.get(key);
      if (!id) throw bad(`storage ${key}`, 'listed but no tensor uses it');
      const head = await source.read(at, 8);
      const count = new DataView(head.buffer, head.byteOffset, 8).getBigInt64(0, byteOrder === 'little');
      const size = id.dtype ? dtypeSize(id.dtype) : 1;
      const bytes = count * BigInt(size);
      if (count < 0n || bytes > BigInt(source.size - at - 8)) {
        throw ferryError('FERRY_TRUNCATED', {
          path,
          what: `storage ${key} (${count} elements)`,
          offset: at,
          size: source.size,
        });
      }
      storages.set(key, {
        key,
        source,
        offset: at + 8,
        numel: Number(count),
        dtype: id.dtype,
        typeName: id.typeName,
        byteOrder,
      });
      at += 8 + Number(bytes);
    }
    const tensors = new TorchTensors(path, (id) => {
      const root = storages.get(id.key);
      if (!root) throw bad(`storage ${id.key}`, 'not in the storage key list');
      if (!id.view) return root;
      // Pre-1.0 storage views: a slice of the root storage (torch/serialization.py persistent_load).
      if (id.view.offset + id.view.numel > root.numel)
        throw bad(`storage view ${id.view.key}`, 'runs past its root storage');
      const size = root.dtype ? dtypeSize(root.dtype) : 1;
      return { ...root, key: id.view.key, offset: root.offset + id.view.offset * size, numel: id.view.numel };
    });
    // NumPy arrays pickled into the checkpoint (a Trainer's rng_state.pth) are tensors too.
    const numpy = numpyTensorOf(source, []);
    const flat = flattenGraph(main, (v, n) => tensors.tensorOf(v, n) ?? numpy(v, n), path);
    const details: Record<string, unknown> = { byteorder: byteOrder, storages: keys.items.length };
    if (at !== source.size) details.trailingBytes = source.size - at;
    if (isUnsafe(scan.findings)) details.graph = [renderGraph(main)];
    if (Object.keys(tensors.tied).length > 0) details.tied = tensors.tied;
    if (flat.leafCount > 0) details.values = flat.values;
    if (flat.objects.length > 0) details.objects = flat.objects.map((o) => `${o.name}: ${o.class}`);
    return {
      format: 'pytorch-legacy',
      path,
      tensors: flat.tensors,
      ...(flat.opaque.length > 0 && { opaque: flat.opaque }),
      metadata: {},
      details,
      findings: scan.findings,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export const pytorchLegacyHandler: FormatHandler = {
  name: 'pytorch-legacy',
  detect: (probe) => !probe.isDirectory && sniffContainer(probe.head) === 'pytorch-legacy',
  open: (path, options) => openLegacy(path, options.unsafeInspect),
};
