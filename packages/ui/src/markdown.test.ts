import fc from 'fast-check';
import type { VNode } from 'preact';
import { describe, expect, it } from 'vitest';
import { allows } from './access.js';
import { inline, Markdown, safeHref } from './markdown.js';

type Node = VNode<{ children?: unknown; href?: string }> | string | number | null | undefined | Node[];

/** Walks the element tree the renderer builds (no DOM needed): element types and hrefs. */
function walk(node: Node | unknown, seen: { types: string[]; hrefs: string[] }): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, seen);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const vnode = node as VNode<{ children?: unknown; href?: string }>;
  if (typeof vnode.type === 'string') seen.types.push(vnode.type);
  if (vnode.props?.href !== undefined) seen.hrefs.push(vnode.props.href);
  walk(vnode.props?.children, seen);
}

const render = (text: string) => {
  const seen = { types: [] as string[], hrefs: [] as string[] };
  walk(Markdown({ text }), seen);
  return seen;
};

describe('model card markdown', () => {
  it('builds elements for the usual card syntax', () => {
    const seen = render(
      '# T\n\nsome **bold** and `code` [x](https://a.example/)\n\n- a\n- b\n\n```\nx\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n',
    );
    expect(seen.types).toEqual(
      expect.arrayContaining(['h2', 'p', 'strong', 'code', 'a', 'ul', 'li', 'pre', 'table', 'td']),
    );
    expect(seen.hrefs).toEqual(['https://a.example/']);
  });

  it('never produces script, img, iframe or javascript: links, whatever the card holds', () => {
    const hostile = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[a](javascript:alert(1))',
      '[a]( JaVaScRiPt:alert(1))',
      '![i](https://evil.example/x.png)',
      '[a](data:text/html,<script>alert(1)</script>)',
      '<iframe src="https://evil.example"></iframe>',
    ].join('\n\n');
    const seen = render(hostile);
    expect(seen.types.filter((t) => ['script', 'img', 'iframe', 'style', 'object'].includes(t))).toEqual([]);
    expect(seen.hrefs).toEqual(['https://evil.example/x.png']); // the image is a plain link, never loaded
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('mailto:a@b.c')).toBe('mailto:a@b.c');
  });

  it('renders any text without throwing and only with safe element types and links', () => {
    const allowed = new Set([
      'div',
      'p',
      'h2',
      'h3',
      'h4',
      'h5',
      'h6',
      'pre',
      'code',
      'blockquote',
      'hr',
      'ul',
      'ol',
      'li',
      'table',
      'thead',
      'tbody',
      'tr',
      'th',
      'td',
      'strong',
      'em',
      'a',
      'span',
    ]);
    const piece = fc.constantFrom(
      '#',
      '*',
      '_',
      '`',
      '```',
      '[',
      ']',
      '(',
      ')',
      '!',
      '|',
      '>',
      '-',
      '\n',
      ' ',
      'javascript:',
      'https://x',
      '<script>',
      '1.',
      '---',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 8 })), { maxLength: 60 }), (parts) => {
        const seen = render(parts.join(''));
        for (const type of seen.types) expect(allowed.has(type)).toBe(true);
        for (const href of seen.hrefs) expect(/^(https?:|mailto:|#)/i.test(href)).toBe(true);
        inline(parts.join(''));
      }),
      { numRuns: 400 },
    );
  });
});

describe('grants (same rule as the registry)', () => {
  it('ranks scopes and matches namespaces', () => {
    expect(allows(['write:vision/*'], 'write', 'vision/mnist')).toBe(true);
    expect(allows(['write:vision/*'], 'admin', 'vision/mnist')).toBe(false);
    expect(allows(['write:vision/*'], 'write', 'team/x')).toBe(false);
    expect(allows(['admin:*'], 'write', null)).toBe(true);
    expect(allows(['read:*'], 'write', 'vision/mnist')).toBe(false);
    expect(allows(['admin:vision/mnist'], 'admin', null)).toBe(false);
  });
});
