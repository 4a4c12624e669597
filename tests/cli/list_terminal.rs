//! `list` at a terminal (docs/src/commands/list.md), through a pseudo-terminal of a set
//! width: no row wider than the terminal, the masked key whole, long names
//! shortened with `…`, a footer; piped, nothing shortened; and memory that
//! does not grow with the store.

use std::time::{Duration, Instant};

use rexpect::session::spawn_command;
use unicode_width::UnicodeWidthStr;

use crate::common::Env;

/// 100 keys, a tenth with long, Unicode or emoji names; some disabled.
fn hundred_keys(env: &Env) -> Vec<serde_json::Value> {
    let names = [
        "Billing webhook for the nightly reconciliation job of the EU region",
        "日本語のキー名前はとても長いです、本当に長い",
        "🔑🚀 deploy bot 🤖 with emoji everywhere 🎉🎉🎉",
        "zapier",
    ];
    let mut lines = String::new();
    for i in 0..100 {
        let name = if i % 10 == 0 {
            names[(i / 10) % names.len()].to_owned()
        } else {
            format!("key {i}")
        };
        let service = if i % 3 == 0 {
            ", \"service\": \"sms\""
        } else {
            ""
        };
        lines.push_str(&format!(
            "{{\"name\": {}{service}}}\n",
            serde_json::json!(name)
        ));
    }
    let run = env.run_stdin(&["create", "--from", "-"], &lines).code(0);
    let made: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for key in made.iter().take(7) {
        env.run(&["disable", key["id"].as_str().unwrap()]).code(0);
    }
    made
}

/// What `keysmith ARGS` shows on a terminal `cols` wide, lines without `\r`.
fn at_width(env: &Env, cols: u16, args: &str) -> Vec<String> {
    let mut cmd = env.shell(&format!("stty cols {cols} rows 50; exec \"$0\" {args}"));
    cmd.env("TERM", "dumb").env("NO_COLOR", "1");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    // rexpect hands back each byte as a char: the UTF-8 is rebuilt.
    let bytes: Vec<u8> = p
        .exp_eof()
        .expect("the command ends")
        .chars()
        .map(|c| c as u8)
        .collect();
    let all = String::from_utf8(bytes).expect("UTF-8 on the terminal");
    all.lines()
        .map(|l| l.trim_end_matches('\r').to_owned())
        .collect()
}

#[test]
fn no_row_is_wider_than_the_terminal_and_names_are_shortened() {
    let env = Env::new();
    let keys = hundred_keys(&env);
    for cols in [80u16, 100, 200] {
        let lines = at_width(&env, cols, "list");
        let header = &lines[0];
        for column in ["KEY", "NAME", "SERVICE", "STATUS", "CREATED", "LAST USED"] {
            assert!(header.contains(column), "{cols}: {header}");
        }
        assert!(
            !header.contains("ID "),
            "the masked key holds the id: {header}"
        );
        for line in &lines {
            assert!(
                line.width() <= usize::from(cols),
                "{cols} columns: {} wide: {line}",
                line.width()
            );
        }
        // Every key's masked form is there whole.
        for key in &keys {
            let masked = key["masked"].as_str().unwrap();
            assert!(
                lines.iter().any(|l| l.contains(masked)),
                "{cols}: {masked} missing"
            );
        }
        let footer = lines.last().unwrap();
        assert_eq!(
            footer, "100 keys: 93 enabled, 7 disabled, 0 expired",
            "{cols}"
        );
        let shortened = lines.iter().filter(|l| l.contains('…')).count();
        if cols == 80 {
            assert!(shortened >= 8, "long names shortened at 80: {lines:#?}");
        }
        if cols == 200 {
            assert_eq!(shortened, 0, "room for every name at 200: {lines:#?}");
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("🔑🚀 deploy bot 🤖 with emoji everywhere 🎉🎉🎉"))
            );
        }
    }
    // --wide adds the other fields.
    let wide = at_width(&env, 200, "list --wide");
    for column in [
        "DESCRIPTION",
        "USES",
        "EXPIRES",
        "REPLACED BY",
        "SCOPES",
        "USES LEFT",
        "RATE",
    ] {
        assert!(wide[0].contains(column), "{}", wide[0]);
    }
}

#[test]
fn piped_output_is_never_shortened() {
    let env = Env::new();
    hundred_keys(&env);
    let run = env.run(&["list"]).code(0);
    assert!(!run.stdout.contains('…'), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Billing webhook for the nightly reconciliation job of the EU region")
    );
    assert!(
        run.stdout
            .contains("日本語のキー名前はとても長いです、本当に長い")
    );
    assert_eq!(run.stdout.lines().count(), 101);
    // No footer when stdout is not a terminal: the data stays alone.
    assert!(!run.stderr.contains("100 keys"), "{}", run.stderr);
}

/// Peak resident memory of a run, in MiB, read from /proc while it runs.
fn peak_mib(env: &Env, args: &[&str]) -> u64 {
    let mut cmd = env.command();
    cmd.args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn keysmith");
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok());
            peak_kib = peak_kib.max(hwm.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(child.wait().unwrap().success());
    peak_kib / 1024
}

#[test]
fn the_table_of_100000_keys_is_drawn_in_bounded_memory() {
    let env = Env::new();
    let lines: String = (0..100_000)
        .map(|i| format!("{{\"name\": \"key number {i}\"}}\n"))
        .collect();
    env.run_stdin(&["create", "--from", "-"], &lines).code(0);
    let peak = peak_mib(&env, &["list", "--limit", "100000"]);
    assert!(peak < 64, "{peak} MiB resident drawing 100,000 rows");
    let run = env.run(&["list", "--limit", "100000"]).code(0);
    assert_eq!(run.stdout.lines().count(), 100_001);
}
