//! The committed scripts under completions/ must match what the CLI generates.
//! Refresh them with: for s in bash zsh fish powershell elvish; do ... (see README).

use std::path::Path;

use crate::common::Env;

pub const SCRIPTS: [(&str, &str); 5] = [
    ("bash", "keysmith.bash"),
    ("zsh", "_keysmith"),
    ("fish", "keysmith.fish"),
    ("powershell", "_keysmith.ps1"),
    ("elvish", "keysmith.elv"),
];

#[test]
fn committed_scripts_match_the_cli() {
    let env = Env::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in SCRIPTS {
        let generated = env.run(&["completions", shell]).code(0).stdout;
        assert!(
            generated.contains("keysmith"),
            "{shell} script names the binary"
        );
        let committed = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert!(
            committed == generated,
            "completions/{file} is out of date: run `cargo run -- completions {shell} > completions/{file}`"
        );
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    Env::new().run(&["completions", "tcsh"]).code(2);
}
