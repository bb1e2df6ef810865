import type { CompletionSpec } from './spec.js';

/** Single-quoted for bash: a quote ends the string, an escaped one, and a new string. */
const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * A bash completion script: command names first, then per command its subcommand words and
 * options (after `-`), files otherwise. Loaded with `source <(ferry completion bash)`.
 */
export function bashCompletion(specs: readonly CompletionSpec[], builtins: readonly string[]): string {
  const names = [...specs.map((s) => s.name), ...builtins].join(' ');
  const cases = specs.map((s) => {
    const options = s.options.flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]).join(' ');
    return `    ${s.name}) words=${quote(s.subcommands.join(' '))}; options=${quote(options)} ;;`;
  });
  return `# ferry completion for bash: source <(ferry completion bash), or save it as
# /etc/bash_completion.d/ferry (generated from ferry's command table)
_ferry() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words='' options=''
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${quote(names)} -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    completion) words='bash zsh fish' ;;
    help) words=${quote(specs.map((s) => s.name).join(' '))} ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  elif [ "$COMP_CWORD" -eq 2 ] && [ -n "$words" ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _ferry ferry
`;
}
