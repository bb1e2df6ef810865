import { finding } from '../finding-kinds.js';
import { ferryError } from '../errors.js';
import type { Finding, FormatHandler, OpaqueTensor, OpenedModel } from '../model.js';
import { type ByteSource, FileSource } from '../tensor/byte-source.js';
import type { TensorRef } from '../tensor/tensor-ref.js';
import { archiveFindings, looksLikeZip, openMember, openZip, type ZipArchive } from '../zip/index.js';
import { DETECT_NPZ_MEMBERS } from './limits.js';
import { withObjectArrayFindings } from './object-array-findings.js';
import { hasNpyMagic, readNpyHeader } from './npy-header.js';
import { npyArray } from './npy-tensor.js';
import { memberPrefix } from './npz-member-prefix.js';

/** np.savez / np.savez_compressed output: a zip of `NAME.npy` members and nothing else. */
async function isNpz(source: ByteSource): Promise<boolean> {
  let zip: ZipArchive;
  try {
    zip = await openZip(source);
  } catch {
    return false;
  }
  // A PyTorch checkpoint is a zip too, but of data.pkl and data/N: never all *.npy.
  if (zip.entries.length === 0 || !zip.entries.every((e) => e.name.endsWith('.npy'))) return false;
  for (const entry of zip.entries.slice(0, DETECT_NPZ_MEMBERS)) {
    try {
      if (!hasNpyMagic(await memberPrefix(zip, entry, 6))) return false;
    } catch {
      return false;
    }
  }
  return true;
}

export const npzHandler: FormatHandler = {
  name: 'npz',
  detect: (probe) =>
    !probe.isDirectory && probe.source !== null && looksLikeZip(probe.head) && isNpz(probe.source),
  async open(path) {
    const source = await FileSource.open(path);
    try {
      return await openNpz(path, source);
    } catch (error) {
      await source.close();
      throw error;
    }
  },
};

/** Every member as a tensor named after it (`weight.npy` -> `weight`); data stays in the zip. */
export async function openNpz(path: string, source: ByteSource): Promise<OpenedModel> {
  // numpy.load opens .npz files with CPython's zipfile: read them as it does.
  const zip = await openZip(source, 'zipfile');
  const tensors: TensorRef[] = [];
  const opaque: OpaqueTensor[] = [];
  const findings: Finding[] = [];
  const names = new Set<string>();
  let compressed = 0;
  for (const entry of zip.entries) {
    const bad = (reason: string) => ferryError('FERRY_NPZ_MEMBER', { path, member: entry.name, reason });
    if (!entry.name.endsWith('.npy')) throw bad('is not a .npy member');
    const name = entry.name.slice(0, -'.npy'.length);
    if (names.has(name)) throw bad(`a second member named ${name}`);
    names.add(name);
    // Stored: a zero-copy window; deflated: inflated per read, bounded; other methods refused.
    const member: ByteSource = await openMember(zip, entry);
    if (entry.method === 8) compressed++;
    else if (entry.size !== entry.compressedSize) throw bad('stored member whose sizes disagree');
    const header = await readNpyHeader(member.name, member.size, (length) =>
      memberPrefix(zip, entry, length),
    );
    const array = npyArray(name, header, member);
    if (array.tensor) tensors.push(array.tensor);
    if (array.opaque) opaque.push(array.opaque);
    findings.push(...array.findings);
  }
  findings.push(...archiveFindings(zip, 'file'));
  if (zip.prefixBytes > 0) {
    findings.push(
      finding(
        'zip-prefix-data',
        `${zip.prefixBytes} bytes before the first zip member that numpy ignores`,
        'byte 0',
      ),
    );
  }
  const judged = opaque.length > 0 ? await withObjectArrayFindings(path, source, findings) : findings;
  return {
    format: 'npz',
    path,
    tensors,
    ...(opaque.length > 0 && { opaque }),
    metadata: {},
    details: { members: zip.entries.length, compressedMembers: compressed },
    ...(judged.length > 0 && { findings: judged }),
    close: () => source.close(),
  };
}
