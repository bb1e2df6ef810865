/** @jsxImportSource preact */
import type { ComponentChildren, VNode } from 'preact';

/**
 * A small Markdown renderer for model cards that builds Preact elements, never HTML strings:
 * raw HTML in the card is shown as text (it is never parsed), so a card cannot inject markup or
 * scripts. Links keep only http(s), mailto and in-page targets (no javascript: URLs).
 * Covers what Hub cards use: headings, paragraphs, lists, code blocks, block quotes, tables,
 * rules, emphasis, inline code, links and images (shown as their alt text and link: no remote loads).
 */

/** Cards are at most 512 KiB (the registry's MAX_CARD_BYTES); lines rendered, to bound the DOM. */
const MAX_LINES = 20_000;

export function Markdown({ text }: { text: string }): VNode {
  return <div class="markdown">{renderBlocks(text.split(/\r?\n/).slice(0, MAX_LINES))}</div>;
}

export function safeHref(url: string): string | undefined {
  const trimmed = url.trim();
  if (/^(https?:|mailto:)/i.test(trimmed) || /^#/.test(trimmed)) return trimmed;
  return undefined;
}

function renderBlocks(lines: string[]): VNode[] {
  const out: VNode[] = [];
  let i = 0;
  let key = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^\s*$/.test(line)) {
      i++;
      continue;
    }
    const fence = /^\s*(```|~~~)(.*)$/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trim().startsWith(fence[1]!)) body.push(lines[i++]!);
      i++;
      out.push(
        <pre key={key++}>
          <code>{body.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1]!.length + 1); // the page title is the h1
      const Tag = `h${level}` as 'h2';
      out.push(<Tag key={key++}>{inline(heading[2]!)}</Tag>);
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push(<hr key={key++} />);
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i]!)) body.push(lines[i++]!.replace(/^\s*>\s?/, ''));
      out.push(<blockquote key={key++}>{renderBlocks(body)}</blockquote>);
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[i + 1]!)) {
      const cells = (row: string) =>
        row
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim());
      const head = cells(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i]!)) rows.push(cells(lines[i++]!));
      out.push(
        <div class="table-wrap" key={key++}>
          <table>
            <thead>
              <tr>
                {head.map((c, j) => (
                  <th key={j}>{inline(c)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r, j) => (
                <tr key={j}>
                  {r.map((c, k) => (
                    <td key={k}>{inline(c)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
      continue;
    }
    const item = /^\s*([-*+]|\d+[.)])\s+/;
    if (item.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: string[] = [];
      while (i < lines.length && (item.test(lines[i]!) || /^\s{2,}\S/.test(lines[i]!))) {
        if (item.test(lines[i]!)) items.push(lines[i]!.replace(item, ''));
        else items[items.length - 1] += ` ${lines[i]!.trim()}`;
        i++;
      }
      const children = items.map((t, j) => <li key={j}>{inline(t)}</li>);
      out.push(ordered ? <ol key={key++}>{children}</ol> : <ul key={key++}>{children}</ul>);
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      !/^\s*$/.test(lines[i]!) &&
      !/^(#{1,6}\s|\s*```|\s*~~~|\s*>|\s*([-*+]|\d+[.)])\s)/.test(lines[i]!)
    )
      para.push(lines[i++]!.trim());
    out.push(<p key={key++}>{inline(para.join(' '))}</p>);
  }
  return out;
}

/** Inline spans: `code`, **strong**, *em* / _em_, [text](url), ![alt](url). Everything else is text. */
export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const pattern =
    /(`+)([^`]+?)\1|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s][^*]*?)\*|\b_([^_\s][^_]*?)_\b|(!?)\[([^\]]*)\]\(([^)\s]*)(?:\s+"[^"]*")?\)/g;
  let last = 0;
  let key = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] !== undefined) out.push(<code key={key++}>{m[2]}</code>);
    else if (m[3] !== undefined || m[4] !== undefined)
      out.push(<strong key={key++}>{inline(m[3] ?? m[4]!)}</strong>);
    else if (m[5] !== undefined || m[6] !== undefined) out.push(<em key={key++}>{inline(m[5] ?? m[6]!)}</em>);
    else {
      const url = safeHref(m[9] ?? '');
      const label = m[7] === '!' ? `image: ${m[8] || m[9]}` : m[8]!;
      out.push(
        url ? (
          <a
            key={key++}
            href={url}
            rel="noopener noreferrer nofollow"
            target={url.startsWith('#') ? undefined : '_blank'}
          >
            {m[7] === '!' ? label : inline(label)}
          </a>
        ) : (
          <span key={key++}>{label}</span>
        ),
      );
    }
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
