//! What every subcommand's help ends with: its examples.

/// A subcommand's `Examples:`, the end of its help: command lines that work
/// as they stand. The heading is styled as clap styles `Options:` (clap
/// drops the styling where it prints no colour); `keysmith man` prints the
/// lines as the page's EXAMPLES. They sit on the subcommand's `Args` struct,
/// so that like its flags they are made only when that subcommand is built
/// (`Deferred`; 9,000 instructions at every start otherwise); on the
/// variant where subcommands share a struct.
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("\x1b[1m\x1b[4mExamples:\x1b[0m", $("\n  ", $line),+)
    };
}
pub(crate) use examples;
