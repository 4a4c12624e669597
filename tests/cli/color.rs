//! Colour (docs/src/conventions.md): only on a terminal, never with NO_COLOR.

use rexpect::session::spawn_command;

use crate::common::Env;

const ESC: char = '\u{1b}';

fn seeded() -> Env {
    let env = Env::new();
    env.create("on", &[]);
    let off = env.create("off", &[]);
    env.run(&["disable", &Env::id_of(&off)]).code(0);
    env
}

fn list_on_terminal(env: &Env, no_color: bool) -> String {
    let mut cmd = env.command();
    cmd.arg("list").env("TERM", "xterm-256color");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let mut p = spawn_command(cmd, Some(10_000)).unwrap();
    p.exp_eof().unwrap()
}

#[test]
fn no_colour_when_piped() {
    let env = seeded();
    for args in [
        &["list"][..],
        &["--json", "list"],
        &["disable", "on"],
        &["enable", "on"],
    ] {
        let run = env.run(args).code(0);
        assert!(
            !run.stdout.contains(ESC) && !run.stderr.contains(ESC),
            "{run:#?}"
        );
    }
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let env = seeded();
    let coloured = list_on_terminal(&env, false);
    assert!(
        coloured.contains(ESC),
        "a terminal gets colour: {coloured:?}"
    );
    let plain = list_on_terminal(&env, true);
    assert!(plain.contains("disabled"));
    assert!(!plain.contains(ESC), "NO_COLOR is obeyed: {plain:?}");
}
