//! The examples that end each command's help (and its man page): two or three commands each,
//! runnable from the project's folder on its fixtures where they read files. The tests parse
//! every one with the command line's own definition, and check that each help ends with them.

/// `sn-retarget --help`.
pub const MAIN: &str = "\
Examples:
  sn-retarget inspect fixtures/seed000_dev
  sn-retarget apply fixtures/seed000_dev --source dev12345 --target acme --sys-ids regenerate --out for-acme
  sn-retarget bundle fixtures/seed000_dev --target prod12345 --out for-prod";

/// `sn-retarget inspect --help`.
pub const INSPECT: &str = "\
Examples:
  sn-retarget inspect fixtures/seed000_dev
  sn-retarget inspect --json fixtures/update_set_escaped.xml > inventory.json";

/// `sn-retarget apply --help`.
pub const APPLY: &str = "\
Examples:
  sn-retarget apply fixtures/seed000_dev --source dev12345 --target acme --sys-ids regenerate --out for-acme --report report.json
  sn-retarget apply for-acme --map report.json --map-reverse --source acme --target dev12345 --out back
  sn-retarget apply fixtures/seed000_dev --plan plan.toml --dry-run";

/// `sn-retarget bundle --help`.
pub const BUNDLE: &str = "\
Examples:
  sn-retarget bundle fixtures/seed000_dev --target prod12345 --out for-prod
  sn-retarget bundle fixtures/seed001_third_party --intent move --host dev12345=acme --out for-acme.zip
  sn-retarget bundle fixtures/seed000_dev --target prod12345 --out for-prod --force --strict";

/// `sn-retarget check --help`.
pub const CHECK: &str = "\
Examples:
  sn-retarget check for-prod --target prod12345
  sn-retarget check fixtures/seed000_dev --format sarif > check.sarif
  sn-retarget check forked-app --namespace x_acme_app";

/// `sn-retarget order --help`.
pub const ORDER: &str = "\
Examples:
  sn-retarget order fixtures/seed000_dev
  sn-retarget order fixtures/seed000_dev --intent derive --host dev12345=prod12345 --label Dev=Prod --json";

/// `sn-retarget fork --help`.
pub const FORK: &str = "\
Examples:
  sn-retarget fork needit --scope x_acme_needit --name 'NeedIt Acme' --out needit-acme --report fork.json
  sn-retarget fork needit-acme --scope x_58872_needit --name NeedIt --map fork.json --map-reverse --out needit-again";

/// `sn-retarget plan --help`.
pub const PLAN: &str = "\
Examples:
  sn-retarget plan fixtures/seed000_dev --target acme -o plan.toml
  sn-retarget apply fixtures/seed000_dev --plan plan.toml --out for-acme";

/// `sn-retarget completions --help`.
pub const COMPLETIONS: &str = "\
Examples:
  sn-retarget completions bash > ~/.local/share/bash-completion/completions/sn-retarget
  sn-retarget completions zsh > ~/.zfunc/_sn-retarget
  sn-retarget completions fish > ~/.config/fish/completions/sn-retarget.fish";

/// `sn-retarget man --help`.
pub const MAN: &str = "\
Examples:
  sn-retarget man > sn-retarget.1 && man ./sn-retarget.1
  sn-retarget man --dir ~/.local/share/man/man1";

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::super::Cli;

    /// The words of an example, up to a redirection or a second command (`>`, `&&`), quotes
    /// taken away.
    fn words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut quote = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => word.get_or_insert_default().push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    word.get_or_insert_default();
                }
                (None, c) if c.is_whitespace() => words.extend(word.take()),
                (None, c) => word.get_or_insert_default().push(c),
            }
        }
        words.extend(word);
        let end = words.iter().position(|w| w == ">" || w == "&&");
        words.truncate(end.unwrap_or(words.len()));
        words
    }

    /// Every command's help, with the command's path (`["apply"]`).
    fn helps() -> Vec<(Vec<String>, String)> {
        let mut cmd = Cli::command();
        cmd.build();
        let mut out = vec![(Vec::new(), cmd.render_help().to_string())];
        for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            let help = sub.render_help().to_string();
            out.push((vec![sub.get_name().to_string()], help));
        }
        out
    }

    #[test]
    fn every_help_ends_with_two_or_three_examples_that_parse() {
        let helps = helps();
        assert_eq!(helps.len(), 10, "the main help and nine commands");
        for (path, help) in helps {
            let (_, examples) = help
                .rsplit_once("Examples:\n")
                .unwrap_or_else(|| panic!("{path:?}: no examples at the end:\n{help}"));
            let lines: Vec<&str> = examples.trim_end().lines().collect();
            assert!(
                (2..=3).contains(&lines.len()),
                "{path:?}: {} examples",
                lines.len()
            );
            for line in lines {
                let words = words(line.trim());
                assert_eq!(words[0], "sn-retarget", "{path:?}: {line}");
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("{path:?}: {line}\n{e}");
                }
                // A command's examples run that command (or show the next step).
                if let Some(command) = path.first() {
                    assert!(
                        words[1] == *command || words[1] == "apply",
                        "{path:?}: {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn example_words_follow_the_shell() {
        assert_eq!(
            words("sn-retarget fork a --name 'NeedIt Acme' --out \"b c\" > x.json"),
            [
                "sn-retarget",
                "fork",
                "a",
                "--name",
                "NeedIt Acme",
                "--out",
                "b c"
            ]
        );
        assert_eq!(
            words("sn-retarget man > a.1 && man ./a.1"),
            ["sn-retarget", "man"]
        );
    }
}
