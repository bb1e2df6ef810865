import { finding } from '../finding-kinds.js';
import { type FerryError, ferryError, isFerryError } from '../errors.js';
import type { Finding } from '../model.js';
import { FileInput } from '../pickle/input.js';
import { type PickleResult, runPickle } from '../pickle/machine.js';
import { judgePickles } from '../pickle/policy.js';
import { isNode, type PickleValue } from '../pickle/values.js';
import { FileSource } from '../tensor/byte-source.js';
import { MAX_LEGACY_TAR_MEMBERS, MAX_LEGACY_TAR_RECORDS } from './limits.js';

/**
 * PyTorch's oldest checkpoint layout (torch < 0.4 `_save`): a POSIX tar whose members `sys_info`,
 * `pickle`, `storages` and `tensors` torch 1.x still reads in serialization.py `legacy_load`
 * (tried first on any seekable file). `storages` and `tensors` interleave pickles with raw data,
 * so each pickle's end is found by running it, and the data between is stepped over by the sizes
 * legacy_load reads.
 */
const BLOCK = 512;
const LEGACY_MEMBERS = ['sys_info', 'pickle', 'storages', 'tensors'];

/** tar(5): "ustar" at byte 257 of the first header (POSIX and GNU). */
export function isTar(head: Uint8Array): boolean {
  return head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar';
}

/** Element sizes of the storage classes legacy_load may meet (torch/_utils._element_size). */
const ELEMENT_SIZE: Readonly<Record<string, number>> = {
  DoubleStorage: 8,
  FloatStorage: 4,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  BoolStorage: 1,
  ComplexDoubleStorage: 16,
  ComplexFloatStorage: 8,
};

interface Member {
  readonly name: string;
  readonly type: string;
  readonly start: number;
  readonly size: number;
}

export interface LegacyTarScan {
  readonly findings: Finding[];
  /** The file could not be read to its end: an error, with what ran before it judged. */
  readonly error?: FerryError;
}

/** A copy of `length` bytes at `at`, checked against the member's end first. */
function readAt(input: FileInput, at: number, length: number, end: number): Uint8Array {
  if (at + length > end)
    throw ferryError('FERRY_TRUNCATED', {
      path: input.name,
      what: 'a legacy tar record',
      offset: at,
      size: end,
    });
  return input.read(at, length).slice();
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder('utf-8').decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(path: string, bytes: Uint8Array, offset: number, what: string): number {
  const field = text(bytes).trim();
  if (!/^[0-7]+$/.test(field) || field.length > 11) {
    throw ferryError('FERRY_UNSUPPORTED', {
      path,
      what: `tar ${what} ${JSON.stringify(field)} at byte ${offset}`,
      reason: 'only octal sizes of POSIX tar (under 8 GiB) are read',
    });
  }
  return Number.parseInt(field, 8);
}

/** The members of a tar, PAX `path` records applied; checksums checked so a pickle is not read as tar. */
async function members(path: string, source: FileSource): Promise<Member[]> {
  const out: Member[] = [];
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + BLOCK <= source.size) {
    const header = await source.read(offset, BLOCK);
    if (header.every((b) => b === 0)) return out;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (octal(path, header.subarray(148, 156), offset + 148, 'checksum') !== sum) {
      throw ferryError('FERRY_UNSUPPORTED', {
        path,
        what: `tar header at byte ${offset}`,
        reason: 'its checksum does not match (tar(5))',
      });
    }
    const size = octal(path, header.subarray(124, 136), offset + 124, 'size');
    const type = String.fromCharCode(header[156]!) || '0';
    const start = offset + BLOCK;
    if (start + size > source.size) {
      throw ferryError('FERRY_TRUNCATED', {
        path,
        what: `tar member at byte ${offset}`,
        offset: start,
        size: source.size,
      });
    }
    const prefix = text(header.subarray(345, 500));
    let name =
      paxPath ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
    paxPath = undefined;
    if (type === 'x') {
      // PAX extended header: "LEN path=VALUE\n" records for the next member (POSIX.1-2001).
      const records = new TextDecoder('utf-8').decode(await source.read(start, size));
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(records)?.[1];
    } else if (type !== 'g') {
      name = name.replace(/^\.\//, '');
      out.push({ name, type: type === '\0' ? '0' : type, start, size });
      if (out.length > MAX_LEGACY_TAR_MEMBERS) {
        throw ferryError('FERRY_LIMIT', {
          path,
          what: 'tar members',
          value: out.length,
          limit: MAX_LEGACY_TAR_MEMBERS,
          reason: 'CWE-770',
        });
      }
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw ferryError('FERRY_TRUNCATED', { path, what: 'tar end-of-archive blocks', offset, size: source.size });
}

function storageName(value: PickleValue): string | undefined {
  if (!isNode(value) || value.kind !== 'tuple') return undefined;
  const type = value.items[2];
  if (
    type === undefined ||
    !isNode(type) ||
    type.kind !== 'global' ||
    type.module !== 'torch' ||
    type.name === null
  )
    return undefined;
  return type.name;
}

function count(path: string, member: string, value: PickleValue): number {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : -1;
  if (!Number.isInteger(n) || n < 0 || n > MAX_LEGACY_TAR_RECORDS) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: `the record count of tar member ${member}`,
      value: String(value),
      limit: MAX_LEGACY_TAR_RECORDS,
      reason: 'CWE-770',
    });
  }
  return n;
}

/**
 * Judges every pickle torch.load would run in a legacy tar checkpoint: all of `sys_info` and
 * `pickle`, and the record pickles of `storages` and `tensors`. A member that is missing or whose
 * records do not add up makes the file an error (what ran before is judged); one that is not a
 * regular file is a finding (tarfile would extract a link: CWE-59).
 */
export async function scanLegacyTorchTar(path: string): Promise<LegacyTarScan> {
  const findings: Finding[] = [];
  const source = await FileSource.open(path);
  let list: Member[];
  try {
    list = await members(path, source);
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return { findings, error };
  } finally {
    await source.close();
  }
  const byName = new Map<string, Member>();
  for (const m of list) byName.set(m.name, m);
  for (const name of LEGACY_MEMBERS) {
    const member = byName.get(name);
    if (!member) {
      return {
        findings,
        error: ferryError('FERRY_UNSUPPORTED', {
          path,
          what: `a tar without a ${name} member`,
          reason:
            'only PyTorch legacy tar checkpoints are read (legacy_load: sys_info, pickle, storages, tensors)',
        }),
      };
    }
    if (member.type !== '0') {
      findings.push(
        finding(
          'tar-link',
          `member ${name} is tar type '${member.type}', not a file: tarfile.extract would write a link or device`,
          name,
        ),
      );
    }
  }
  for (const m of list) {
    if (!LEGACY_MEMBERS.includes(m.name)) {
      findings.push(finding('tar-extra-member', `member ${m.name} is not read by torch.load`, m.name));
    }
  }
  for (const name of LEGACY_MEMBERS) {
    const member = byName.get(name)!;
    if (member.type !== '0') continue;
    const input = new FileInput(path, member.start, member.start + member.size);
    const results: PickleResult[] = [];
    const judge = () =>
      findings.push(
        ...judgePickles(results, { locate: (offset) => `${name} byte ${offset - member.start}` }),
      );
    try {
      const next = (at: number): PickleResult => {
        const result = runPickle(input, at);
        results.push(result);
        return result;
      };
      let at = member.start;
      const end = member.start + member.size;
      if (name === 'sys_info' || name === 'pickle') {
        at = next(at).end;
      } else {
        const first = next(at);
        at = first.end;
        const records = count(path, name, first.value);
        for (let i = 0; i < records; i++) {
          const record = next(at);
          at = record.end;
          if (name === 'storages') {
            const type = storageName(record.value);
            const element = type === undefined ? undefined : ELEMENT_SIZE[type];
            if (element === undefined) {
              throw ferryError('FERRY_UNSUPPORTED', {
                path,
                what: `storage record ${i} at ${name} byte ${record.start - member.start}`,
                reason: 'its type is not a torch.*Storage class, so its data length is unknown',
              });
            }
            // THPStorage_readFileRaw: an int64 element count, then the elements
            const length = new DataView(readAt(input, at, 8, end).buffer).getBigInt64(0, true);
            const bytes = length * BigInt(element);
            if (length < 0n || BigInt(at + 8) + bytes > BigInt(end)) {
              throw ferryError('FERRY_TRUNCATED', {
                path,
                what: `storage ${i} data`,
                offset: at - member.start,
                size: member.size,
              });
            }
            at += 8 + Number(bytes);
          } else {
            // ndim (int32), 4 skipped bytes, sizes and strides (int64 each), storage offset (int64)
            const ndim = new DataView(readAt(input, at, 4, end).buffer).getInt32(0, true);
            const skip = 8 + 16 * ndim + 8;
            if (ndim < 0 || at + skip > end) {
              throw ferryError('FERRY_TRUNCATED', {
                path,
                what: `tensor record ${i}`,
                offset: at - member.start,
                size: member.size,
              });
            }
            at += skip;
          }
        }
        if (name === 'storages') at = next(at).end; // storage views
      }
      if (at !== end) {
        findings.push(
          finding(
            'tar-trailing-data',
            `${end - at} bytes after what torch.load reads: another loader may read them`,
            `${name} byte ${at - member.start}`,
          ),
        );
      }
    } catch (error) {
      if (!isFerryError(error)) throw error;
      judge();
      return { findings, error };
    } finally {
      input.close();
    }
    judge();
  }
  return { findings };
}
