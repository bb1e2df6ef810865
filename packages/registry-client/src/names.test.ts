import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRegistryError } from './errors.js';
import { checkFilePath, formatModelUri, parseModelName, parseModelUri } from './names.js';

describe('names, paths and model URIs', () => {
  it('parses models:/NAME@ALIAS, models:/NAME/VERSION and models:/NAME', () => {
    expect(parseModelUri('models:/team/mnist@prod')).toEqual({ model: 'team/mnist', alias: 'prod' });
    expect(parseModelUri('models:/team/mnist/3')).toEqual({ model: 'team/mnist', version: 3 });
    expect(parseModelUri('models:/mnist/12')).toEqual({ model: 'mnist', version: 12 });
    expect(parseModelUri('models:/mnist')).toEqual({ model: 'mnist' });
    expect(formatModelUri({ model: 'a/b', version: 2 })).toBe('models:/a/b/2');
    for (const bad of ['mnist', 'models:/', 'models:/a/b/c/1', 'models:/a@1x!', 'models:/a/0'])
      expect(() => parseModelUri(bad), bad).toThrow(/FERRY|model|URI|alias|version/);
  });

  it('refuses path traversal and odd paths', () => {
    expect(checkFilePath('weights/model.safetensors')).toBe('weights/model.safetensors');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', './a', 'a\\b', 'C:x', 'a\0b', ''])
      expect(() => checkFilePath(bad), JSON.stringify(bad)).toThrow(/file path/);
  });

  it('refuses control characters in file paths (newline, CR, NUL, every C0/C1 control, DEL)', () => {
    const controls = [
      ...Array.from({ length: 0x20 }, (_, i) => i),
      0x7f,
      ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
    ];
    for (const code of controls)
      expect(() => checkFilePath(`a${String.fromCodePoint(code)}b.bin`), code.toString(16)).toThrow(
        /must not contain control characters/,
      );
    expect(() => checkFilePath('evil\nOK model.safetensors')).toThrow(/U\+000A at character 4/);
    // Other Unicode stays allowed: file names in the wild are not ASCII-only.
    expect(checkFilePath('modèle/权重.safetensors')).toBe('modèle/权重.safetensors');
  });

  it('refuses oversized and malformed names', () => {
    expect(parseModelName('team/m-1.v2')).toMatchObject({ namespace: 'team', name: 'm-1.v2' });
    expect(() => parseModelName('x'.repeat(97))).toThrow(/1 to 96/);
    expect(() => parseModelName('a/b/c')).toThrow(/at most one/);
    expect(() => parseModelName('-a')).toThrow(/letters/);
  });

  it('only ever throws RegistryError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        for (const fn of [parseModelUri, checkFilePath, parseModelName]) {
          try {
            fn(text);
          } catch (error) {
            if (!isRegistryError(error)) throw error;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
