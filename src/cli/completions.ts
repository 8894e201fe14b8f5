/**
 * `capibara completions`: shell completion scripts for bash, zsh and fish.
 *
 * @module
 */
import { Argument, Command } from "npm:@commander-js/extra-typings@^15.1.0";

/** What completion needs of a subcommand. */
export interface CompletableCommand {
  name(): string;
  description(): string;
  readonly options: readonly { long?: string; short?: string }[];
  /** Its own subcommands (`runner start`): their names and options complete after it. */
  readonly commands?: readonly CompletableCommand[];
}

/** The shells {@linkcode completionScript} writes for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** A subcommand's name and its long and short options, for completion. */
interface Words {
  name: string;
  description: string;
  options: string[];
}

function wordsOf(commands: readonly CompletableCommand[]): Words[] {
  return commands.map((c) => ({
    name: c.name(),
    description: c.description().split("\n")[0]!.replace(/[:'"`$\\]/g, " ").slice(0, 60),
    options: [
      ...(c.commands ?? []).map((sub) => sub.name()),
      ...[c, ...(c.commands ?? [])].flatMap((command) =>
        command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f))
      ),
    ].filter((word, i, all) => all.indexOf(word) === i),
  }));
}

/** The completion script of `shell` for the program's subcommands and their options. */
export function completionScript(
  shell: typeof SHELLS[number],
  subcommands: readonly CompletableCommand[],
): string {
  const commands = wordsOf(subcommands);
  const names = commands.map((c) => c.name).join(" ");
  switch (shell) {
    case "bash":
      return [
        '# capibara completion for bash: eval "$(capibara completions bash)"',
        "_capibara() {",
        '  local cur="${COMP_WORDS[COMP_CWORD]}"',
        '  if [ "$COMP_CWORD" -eq 1 ]; then',
        `    COMPREPLY=($(compgen -W "${names} --help --version --json" -- "$cur"))`,
        "    return",
        "  fi",
        '  case "${COMP_WORDS[1]}" in',
        ...commands.map((c) =>
          `    ${c.name}) COMPREPLY=($(compgen -W "${c.options.join(" ")} --help" -- "$cur")) ;;`
        ),
        "  esac",
        "}",
        "complete -o default -F _capibara capibara",
        "",
      ].join("\n");
    case "zsh":
      return [
        "#compdef capibara",
        '# capibara completion for zsh: capibara completions zsh > "${fpath[1]}/_capibara"',
        "_capibara() {",
        "  if (( CURRENT == 2 )); then",
        "    local -a commands",
        `    commands=(${commands.map((c) => `'${c.name}:${c.description}'`).join(" ")})`,
        "    _describe command commands",
        "    return",
        "  fi",
        "  case $words[2] in",
        ...commands.map((c) =>
          `    ${c.name}) _arguments '*:file:_files' ${c.options.map((o) => `'${o}'`).join(" ")} ;;`
        ),
        "  esac",
        "}",
        "compdef _capibara capibara",
        "",
      ].join("\n");
    case "fish":
      return [
        "# capibara completion for fish: capibara completions fish | source",
        ...commands.map((c) =>
          `complete -c capibara -n __fish_use_subcommand -a ${c.name} -d '${c.description}'`
        ),
        ...commands.flatMap((c) =>
          c.options.filter((o) => o.startsWith("--")).map((o) =>
            `complete -c capibara -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`
          )
        ),
        "",
      ].join("\n");
  }
}

/** The `completions` subcommand; `subcommands` is read when it runs, once all are added. */
export function completionsCommand(subcommands: () => readonly CompletableCommand[]) {
  return new Command("completions")
    .description("Print a shell completion script (bash, zsh or fish)")
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .addHelpText(
      "after",
      `
Examples:
  eval "$(capibara completions bash)"                  # in ~/.bashrc
  capibara completions zsh > "\${fpath[1]}/_capibara"   # then restart zsh
  capibara completions fish > ~/.config/fish/completions/capibara.fish`,
    )
    .action((shell) => {
      console.log(completionScript(shell, subcommands()));
    });
}
