import type { CompletionSpec } from './spec.js';

/** Single-quoted for zsh. */
const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
/** Text inside an _arguments `[description]` or a _describe `name:description`. */
const bracketed = (text: string) => text.replace(/[[\]:\\]/g, (c) => `\\${c}`);

/**
 * A zsh completion script (`#compdef`): commands with their summaries, then per command its
 * options with descriptions and files. Loaded with `source <(ferry completion zsh)` after
 * compinit, or saved as _ferry in a folder of $fpath.
 */
export function zshCompletion(specs: readonly CompletionSpec[], builtins: readonly string[]): string {
  const commands = [
    ...specs.map((s) => quote(`${s.name}:${bracketed(s.summary)}`)),
    ...builtins.map((b) => quote(`${b}:ferry ${b}`)),
  ];
  const cases = specs.map((s) => {
    const options = s.options.map((o) => {
      const names = o.short ? `{-${o.short},--${o.long}}` : `--${o.long}`;
      return `${o.short ? `'(-${o.short} --${o.long})'` : ''}${names}${quote(`[${bracketed(o.description)}]${o.takesValue ? ':value:_files' : ''}`)}`;
    });
    const words = s.subcommands.length ? quote(`1:subcommand:(${s.subcommands.join(' ')})`) : '';
    return `    ${s.name}) _arguments -s ${[...options, words].filter(Boolean).join(' ')} '*:file:_files' ;;`;
  });
  return `#compdef ferry
# ferry completion for zsh: source <(ferry completion zsh) after compinit, or save it as _ferry
# in a folder of $fpath (generated from ferry's command table)
_ferry() {
  local -a commands
  commands=(${commands.join(' ')})
  if (( CURRENT == 2 )); then
    _describe 'ferry command' commands
    return
  fi
  local command=$words[2]
  shift words
  (( CURRENT-- ))
  case $command in
${cases.join('\n')}
    completion) _arguments '1:shell:(bash zsh fish)' ;;
    help) _describe 'ferry command' commands ;;
  esac
}
if [ "$funcstack[1]" = "_ferry" ]; then _ferry "$@"; else compdef _ferry ferry; fi
`;
}
