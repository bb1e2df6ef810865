import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS, torchMessageLine } from './torch-message.js';

describe('torchMessageLine', () => {
  it('takes the cause (last line) of a TorchScript interpreter failure', () => {
    // the shape of libtorch 1.13's message for a shape mismatch inside forward (abridged)
    const text = [
      'The following operation failed in the TorchScript interpreter.',
      'Traceback of TorchScript, serialized code (most recent call last):',
      '  File "code/__torch__.py", line 14, in forward',
      '    return torch.linear(x, weight, bias)',
      '           ~~~~~~~~~~~~ <--- HERE',
      'RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 8x16)',
      '',
    ].join('\n');
    expect(torchMessageLine(text)).toBe(
      'RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 8x16)',
    );
  });

  it('takes the first line of any other libtorch error', () => {
    expect(
      torchMessageLine('PytorchStreamReader failed reading zip archive: failed finding central directory'),
    ).toBe('PytorchStreamReader failed reading zip archive: failed finding central directory');
    expect(torchMessageLine("\n  forward() is missing value for argument 'steps'.\nDeclaration: ...")).toBe(
      "forward() is missing value for argument 'steps'.",
    );
  });

  it('says so when libtorch gave no text, and bounds a huge line', () => {
    expect(torchMessageLine('')).toBe('libtorch gave no message');
    const line = torchMessageLine('x'.repeat(MAX_MESSAGE_CHARS * 3));
    expect(line.length).toBe(MAX_MESSAGE_CHARS + 3);
    expect(line).not.toContain('\n');
  });
});
