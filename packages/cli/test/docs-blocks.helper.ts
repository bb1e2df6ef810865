/**
 * The shell sessions of README.md and docs/*.md, as docs-commands.test.ts runs them.
 *
 * A fenced block with `$ ` lines is a session: each `$ ` line (with its `\` continuation lines) is
 * a command, the lines after it until the next `$ ` are what it prints. Markers, HTML comments on
 * the line just before a block (invisible when rendered):
 *   <!-- illustrative: WHY -->     not run (WHY says what it needs: a remote database, a file
 *                                  made by hand, ...); its ferry flags and repo paths are still checked
 *   <!-- background: COMMAND -->   the doc says to start COMMAND in another terminal first: the
 *                                  test starts it before this block (and waits until the ports it
 *                                  names, `--port N`, `--serve-port N` or `127.0.0.1:N`, accept
 *                                  connections) and stops it after the document
 *   <!-- cwd: DIR -->              the doc says to run the block from DIR of the clone
 * In expected output a line `...` stands for any number of lines, and `...` inside a line for any
 * text; durations (`in 0.26 s`) are compared as `in <t> s`, and column padding as one gap.
 */

export interface DocCommand {
  readonly command: string;
  readonly expected: readonly string[];
  /** Line of the `$ ` in the document (1-based), for messages. */
  readonly line: number;
}

export interface DocBlock {
  readonly doc: string;
  readonly line: number;
  readonly body: string;
  readonly illustrative?: string;
  readonly background?: string;
  readonly cwd?: string;
  readonly commands: readonly DocCommand[];
}

const FENCE = /^(`{3,})[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm;

export function docBlocks(doc: string, text: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  for (const m of text.matchAll(FENCE)) {
    const start = text.slice(0, m.index).split('\n').length;
    const before = text.slice(0, m.index).trimEnd().split('\n').at(-1) ?? '';
    const illustrative = /^<!-- illustrative: (.+) -->$/.exec(before)?.[1];
    const background = /^<!-- background: (.+) -->$/.exec(before)?.[1];
    const cwd = /^<!-- cwd: (\S+) -->$/.exec(before)?.[1];
    const body = m[2]!;
    blocks.push({
      doc,
      line: start,
      body,
      ...(illustrative !== undefined && { illustrative }),
      ...(background !== undefined && { background }),
      ...(cwd !== undefined && { cwd }),
      commands: sessionCommands(body, start + 1),
    });
  }
  return blocks;
}

function sessionCommands(body: string, firstLine: number): DocCommand[] {
  const lines = body.replace(/\n$/, '').split('\n');
  const out: { command: string; expected: string[]; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('$ ')) {
      let command = line.slice(2);
      const at = firstLine + i;
      while (command.endsWith('\\') && i + 1 < lines.length) command += `\n${lines[++i]}`;
      out.push({ command, expected: [], line: at });
    } else if (out.length > 0) out.at(-1)!.expected.push(line);
  }
  return out;
}

/** The `ferry SUBCOMMAND ...` invocations in a command line or a synopsis line. */
export function ferryInvocations(text: string): { sub: string; flags: string[] }[] {
  const found: { sub: string; flags: string[] }[] = [];
  // one invocation runs to the next shell separator
  for (const part of text.replace(/\\\n/g, ' ').split(/&&|\|\||;|\||\n/)) {
    const m = /(?:^|\s|\()(?:npx )?ferry ([a-z][a-z-]*)(.*)$/.exec(part);
    if (!m) continue;
    // flags are words that start with - outside quotes and [brackets] (synopsis syntax)
    const words = m[2]!
      .replace(/'[^']*'|"[^"]*"/g, ' ')
      .replace(/#.*$/, '')
      .split(/[\s[\]|]+/);
    found.push({
      sub: m[1]!,
      flags: words.filter((w) => /^--?[a-zA-Z]/.test(w)).map((w) => w.split('=')[0]!),
    });
  }
  return found;
}

/** Paths a user is told to use that must exist in a clone: repo folders and anything outside it. */
export function repoPaths(command: string): string[] {
  return [
    ...command.matchAll(/(?:^|[\s=])((?:\.\.\/|fixtures\/|docs\/|scripts\/|docker\/|packages\/)[^\s'"`)]*)/g),
  ].map((m) => m[1]!.replace(/[,.:;]+$/, ''));
}

/**
 * Trailing blanks dropped; runs of blanks are one column gap (a table's padding follows its widest
 * cell, and a port here may have another number of digits than the doc's); durations vary.
 */
const normalise = (line: string) =>
  line
    .replace(/\s+$/, '')
    .replace(/ {2,}/g, '  ')
    .replace(/\bin \d+(\.\d+)? s\b/g, 'in <t> s');

/** Does `actual` (what the command printed) match the lines the doc shows? */
export function outputMatches(expected: readonly string[], actual: string): boolean {
  const want = trimEnd(expected.map(normalise));
  const got = trimEnd(actual.replace(/\n$/, '').split('\n').map(normalise));
  if (want.length === 0) return true; // the doc shows no output: only that it ran
  return match(want, 0, got, 0);
}

function trimEnd(lines: string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && out.at(-1) === '') out.pop();
  return out;
}

function match(want: readonly string[], i: number, got: readonly string[], j: number): boolean {
  if (i === want.length) return j === got.length;
  if (want[i]!.trim() === '...') {
    for (let k = j; k <= got.length; k++) if (match(want, i + 1, got, k)) return true;
    return false;
  }
  return j < got.length && lineMatches(want[i]!, got[j]!) && match(want, i + 1, got, j + 1);
}

function lineMatches(want: string, got: string): boolean {
  if (!want.includes('...')) return want === got;
  const pattern = want
    .split('...')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(got);
}
