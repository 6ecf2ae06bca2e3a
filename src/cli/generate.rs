//! `sn-retarget completions` and `sn-retarget man`: shell completions and man pages made from
//! the command line's own definition, so that they say what `--help` says.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

/// Writes the completion script for `shell` to standard output.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "sn-retarget", &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the man page of `sn-retarget` to standard output or, with `dir`, one page per command
/// into it (`sn-retarget.1`, `sn-retarget-apply.1`, ...), all or none; an existing page is
/// replaced only with `force`.
pub fn man(dir: Option<&Path>, force: bool) -> anyhow::Result<ExitCode> {
    let pages = pages()?;
    match dir {
        None => std::io::stdout().write_all(&pages[0].1)?,
        Some(dir) => {
            let mut staged = sn_retarget::io::Staged::new(force);
            for (name, page) in &pages {
                staged.add_with(&dir.join(name), |w| w.write_all(page))?;
            }
            staged.commit()?;
            say!(
                "sn-retarget man: wrote {} pages to {}",
                pages.len(),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every man page, (file name, roff), the main page first.
fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    for page in std::iter::once(&cmd).chain(cmd.get_subcommands()) {
        let man = clap_mangen::Man::new(page.clone());
        let mut roff = Vec::new();
        man.render(&mut roff)?;
        pages.push((man.get_filename(), roff));
    }
    Ok(pages)
}
