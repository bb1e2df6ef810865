import type { CompletionSpec } from './spec.js';

/** Single-quoted for fish (backslash and quote escaped). */
const quote = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/**
 * A fish completion script: `complete -c ferry` lines, commands with their summaries while no
 * command is given, then each command's subcommand words and options. Loaded with
 * `ferry completion fish | source`, or saved as ~/.config/fish/completions/ferry.fish.
 */
export function fishCompletion(specs: readonly CompletionSpec[], builtins: readonly string[]): string {
  const names = [...specs.map((s) => s.name), ...builtins].join(' ');
  const lines = [
    '# ferry completion for fish: ferry completion fish | source, or save it as',
    "# ~/.config/fish/completions/ferry.fish (generated from ferry's command table)",
  ];
  for (const s of specs) {
    lines.push(
      `complete -c ferry -f -n ${quote(`not __fish_seen_subcommand_from ${names}`)} -a ${s.name} -d ${quote(s.summary)}`,
    );
    const when = quote(`__fish_seen_subcommand_from ${s.name}`);
    if (s.subcommands.length) lines.push(`complete -c ferry -n ${when} -a ${quote(s.subcommands.join(' '))}`);
    for (const o of s.options)
      lines.push(
        `complete -c ferry -n ${when} -l ${o.long}${o.short ? ` -s ${o.short}` : ''}${o.takesValue ? ' -r' : ''} -d ${quote(o.description)}`,
      );
  }
  for (const b of builtins)
    lines.push(`complete -c ferry -f -n ${quote(`not __fish_seen_subcommand_from ${names}`)} -a ${b}`);
  lines.push(
    `complete -c ferry -n ${quote('__fish_seen_subcommand_from completion')} -f -a ${quote('bash zsh fish')}`,
    `complete -c ferry -n ${quote('__fish_seen_subcommand_from help')} -f -a ${quote(specs.map((s) => s.name).join(' '))}`,
  );
  return `${lines.join('\n')}\n`;
}
