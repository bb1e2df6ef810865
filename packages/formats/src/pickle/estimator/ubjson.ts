import { ferryError } from '../../errors.js';

/** Containers nested deeper than this are hostile; XGBoost models nest 6 deep (CWE-674). */
export const MAX_UBJSON_DEPTH = 64;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Universal Binary JSON (ubjson.org draft 12), as XGBoost writes it (src/common/json.cc,
 * UBJWriter): big-endian numbers, objects whose keys carry a length but no 'S' marker, and
 * optimised typed arrays (`[$d#L<count>` + raw values). Every length is checked against the
 * bytes left before anything is allocated (CWE-789).
 */
export function parseUbjson(bytes: Uint8Array, path: string): Json {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const fail = (reason: string): never => {
    throw ferryError('FERRY_XGBOOST_MODEL', { path, what: `UBJSON at byte ${at}`, reason });
  };
  const need = (n: number) => {
    if (n < 0 || at + n > bytes.length) fail(`needs ${n} bytes, ${bytes.length - at} remain`);
  };
  const text = new TextDecoder('utf-8', { fatal: false });
  const scalar = (type: number): Json => {
    switch (type) {
      case 0x69: // i int8
        need(1);
        return view.getInt8(at++);
      case 0x55: // U uint8
        need(1);
        return view.getUint8(at++);
      case 0x49: // I int16
        need(2);
        at += 2;
        return view.getInt16(at - 2);
      case 0x6c: // l int32
        need(4);
        at += 4;
        return view.getInt32(at - 4);
      case 0x4c: {
        // L int64
        need(8);
        at += 8;
        const v = view.getBigInt64(at - 8);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
          fail('int64 beyond 2^53');
        return Number(v);
      }
      case 0x64: // d float32
        need(4);
        at += 4;
        return view.getFloat32(at - 4);
      case 0x44: // D float64
        need(8);
        at += 8;
        return view.getFloat64(at - 8);
      case 0x54: // T
        return true;
      case 0x46: // F
        return false;
      case 0x5a: // Z
        return null;
      case 0x43: // C char
        need(1);
        return String.fromCharCode(bytes[at++]!);
      case 0x53: // S string
        return str();
      default:
        return fail(`unknown type marker 0x${type.toString(16)}`);
    }
  };
  const length = (): number => {
    need(1);
    const n = scalar(bytes[at++]!);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail('a length that is not a count');
    return n as number;
  };
  const str = (): string => {
    const n = length();
    need(n);
    at += n;
    return text.decode(bytes.subarray(at - n, at));
  };
  const value = (depth: number): Json => {
    need(1);
    const type = bytes[at++]!;
    if (type !== 0x5b && type !== 0x7b) return scalar(type);
    if (depth >= MAX_UBJSON_DEPTH) fail(`containers nested over ${MAX_UBJSON_DEPTH} deep (CWE-674)`);
    let elementType: number | undefined;
    let count: number | undefined;
    if (bytes[at] === 0x24) {
      at++;
      need(1);
      elementType = bytes[at++]!;
      need(1);
      if (bytes[at] !== 0x23) fail('a typed container without a count');
    }
    if (bytes[at] === 0x23) {
      at++;
      count = length();
      // Every element takes at least one byte (or none for T/F/Z typed arrays: bound those too).
      if (
        count > bytes.length - at &&
        !(elementType === 0x54 || elementType === 0x46 || elementType === 0x5a)
      )
        fail(`a count of ${count} with ${bytes.length - at} bytes left`);
      if (count > bytes.length) fail(`a count of ${count} beyond the file`);
    }
    const element = () => (elementType !== undefined ? scalar(elementType) : value(depth + 1));
    if (type === 0x5b) {
      const out: Json[] = [];
      if (count !== undefined) for (let i = 0; i < count; i++) out.push(element());
      else {
        for (;;) {
          need(1);
          if (bytes[at] === 0x5d) {
            at++;
            break;
          }
          if (bytes[at] === 0x4e) {
            at++;
            continue;
          }
          out.push(value(depth + 1));
        }
      }
      return out;
    }
    const obj: { [key: string]: Json } = Object.create(null);
    if (count !== undefined) {
      for (let i = 0; i < count; i++) {
        const key = str();
        obj[key] = element();
      }
    } else {
      for (;;) {
        need(1);
        if (bytes[at] === 0x7d) {
          at++;
          break;
        }
        if (bytes[at] === 0x4e) {
          at++;
          continue;
        }
        const key = str();
        obj[key] = value(depth + 1);
      }
    }
    return obj;
  };
  return value(0);
}
