//! `list` at a terminal (docs/src/commands/list.md), through a pseudo-terminal of a set
//! width: no row wider than the terminal, the key whole (at 80 columns its
//! id, to leave the name 20), long names shortened with `…`, a footer;
//! `list --wide` and `history` fitted too; long output paged; piped,
//! nothing shortened or paged; and memory that does not grow with the
//! store.

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

/// All that `cmd` prints on a pseudo-terminal, uncoloured, until it ends.
fn terminal_text(mut cmd: std::process::Command) -> String {
    cmd.env("TERM", "dumb").env("NO_COLOR", "1");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    // rexpect hands back each byte as a char: the UTF-8 is rebuilt.
    let bytes: Vec<u8> = p
        .exp_eof()
        .expect("the command ends")
        .chars()
        .map(|c| c as u8)
        .collect();
    String::from_utf8(bytes).expect("UTF-8 on the terminal")
}

/// What `keysmith ARGS` shows on a terminal `cols` wide, lines without `\r`.
fn at_width(env: &Env, cols: u16, args: &str) -> Vec<String> {
    let mut cmd = env.shell(&format!("stty cols {cols} rows 50; exec \"$0\" {args}"));
    // The lines as printed, not a pager's screen (`cat` is no pager).
    cmd.env("KEYSMITH_PAGER", "cat");
    terminal_text(cmd)
        .lines()
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
        // Every key's masked form is there whole; at 80 columns, its
        // `ks_<id>` or its id, to leave the name room.
        for key in &keys {
            let shown = match cols {
                80 => key["id"].as_str().unwrap(),
                _ => key["masked"].as_str().unwrap(),
            };
            assert!(
                lines.iter().any(|l| l.contains(shown)),
                "{cols}: {shown} missing"
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
fn at_80_columns_the_name_keeps_20_and_wide_tables_and_history_fit() {
    let env = Env::new();
    let keys = hundred_keys(&env);
    for name in [
        "partner: acme (prod) webhook",
        "partner: globex (staging) webhook",
    ] {
        env.create(name, &["--description", &"a long description ".repeat(4)]);
    }
    // Events with long details: rotations name the replacement.
    for key in keys.iter().skip(10).take(3) {
        env.run(&["rotate", key["id"].as_str().unwrap(), "--yes"])
            .code(0);
    }
    let list = at_width(&env, 80, "list");
    for name in ["partner: acme (prod)", "partner: globex (sta"] {
        assert!(
            list.iter().any(|l| l.contains(name)),
            "20 columns of {name:?}: {list:#?}"
        );
    }
    for args in ["list --wide", "history", "list --wide --limit 3"] {
        let lines = at_width(&env, 80, args);
        assert!(lines.len() > 3, "{args}: {lines:#?}");
        for line in &lines {
            assert!(line.width() <= 80, "{args}: {} wide: {line}", line.width());
        }
        // Something was cut to fit: DETAIL, a long DESCRIPTION. (The first
        // three keys, shown as records, have nothing too long to cut.)
        if args != "list --wide --limit 3" {
            assert!(lines.iter().any(|l| l.contains('…')), "{args}: {lines:#?}");
        }
    }
    let history = at_width(&env, 80, "history");
    for column in ["WHEN", "ACTION", "KEY", "NAME", "ACTOR", "DETAIL"] {
        assert!(history[0].contains(column), "{}", history[0]);
    }
}

/// `list --wide` at 80 columns shows each key as a record, a line a field,
/// every value whole that fits the line (docs/src/conventions.md, "Tables"),
/// instead of thirteen columns cut to three characters; at 200, a table.
#[test]
fn list_wide_at_80_columns_shows_records_with_whole_values() {
    let env = Env::new();
    let key = env.create(
        "partner: globex (staging) webhook",
        &["--service", "billing", "--scope", "read:*", "--uses", "100"],
    );
    env.create("ci", &["--description", &"a long description ".repeat(5)]);
    let lines = at_width(&env, 80, "list --wide");
    for line in &lines {
        assert!(line.width() <= 80, "{} wide: {line}", line.width());
    }
    let id = Env::id_of(&key);
    for field in [
        format!("KEY          ks_{id}_********"),
        "NAME         partner: globex (staging) webhook".to_owned(),
        "SERVICE      billing".to_owned(),
        "SCOPES       read:*".to_owned(),
        "USES LEFT    100".to_owned(),
    ] {
        assert!(lines.contains(&field), "{field:?} in {lines:#?}");
    }
    // A value longer than the line is cut at its edge, not before.
    let description = lines
        .iter()
        .find(|l| l.starts_with("DESCRIPTION  a long"))
        .expect("the long description");
    assert!(
        description.ends_with('…') && description.width() == 80,
        "{description}"
    );
    // Two records, apart; the footer after them.
    assert_eq!(lines.iter().filter(|l| l.starts_with("KEY ")).count(), 2);
    assert!(lines.iter().any(|l| l.is_empty()), "{lines:#?}");
    assert_eq!(
        lines.last().unwrap(),
        "2 keys: 2 enabled, 0 disabled, 0 expired"
    );
    let wide = at_width(&env, 200, "list --wide");
    assert!(
        wide[0].starts_with("KEY ") && wide[0].contains("RATE"),
        "{}",
        wide[0]
    );
}

/// What `keysmith ARGS` shows on a terminal 80 wide and `rows` high, with
/// `KEYSMITH_PAGER` a script that marks what it was given; and the exit code.
fn paged(env: &Env, rows: u16, args: &str, pager: &str) -> (String, String) {
    let script = env.dir.path().join("pager");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'PAGER START'\ncat\necho 'PAGER END'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let pager = pager.replace("SCRIPT", script.to_str().unwrap());
    let mut cmd = env.shell(&format!(
        "stty cols 80 rows {rows}; \"$0\" {args}; echo \"EXIT $?\""
    ));
    cmd.env("KEYSMITH_PAGER", &pager);
    let all = terminal_text(cmd);
    let code = all
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("EXIT "))
        .expect("an exit code")
        .to_owned();
    (all, code)
}

#[test]
fn long_output_at_a_terminal_is_paged_unless_no_pager_or_piped() {
    let env = Env::new();
    let keys = hundred_keys(&env);
    let id = keys[0]["id"].as_str().unwrap();
    for args in ["list", "history", "list --wide"] {
        let (screen, code) = paged(&env, 30, args, "SCRIPT");
        assert_eq!(code, "0", "{args}: {screen}");
        assert!(screen.contains("PAGER START"), "{args}: paged: {screen}");
        // What the pager was given is the table, whole.
        let start = screen.find("PAGER START").unwrap();
        let end = screen.find("PAGER END").unwrap();
        assert!(screen[start..end].contains(id), "{args}: {screen}");
        let (screen, code) = paged(&env, 30, &format!("--no-pager {args}"), "SCRIPT");
        assert_eq!(code, "0");
        assert!(!screen.contains("PAGER"), "{args} --no-pager: {screen}");
        assert!(screen.contains(id), "{args} --no-pager: {screen}");
    }
    // Through a pager the footer comes after the table, once the pager ends.
    let (screen, _) = paged(&env, 30, "list", "SCRIPT");
    let footer = screen.find("100 keys: 93 enabled").expect("a footer");
    assert!(footer > screen.find("PAGER END").unwrap(), "{screen}");
    // Output that fits the screen is printed as it is.
    let (screen, _) = paged(&env, 30, "list --limit 5", "SCRIPT");
    assert!(!screen.contains("PAGER"), "{screen}");
    let (screen, _) = paged(&env, 30, &format!("show {id}"), "SCRIPT");
    assert!(!screen.contains("PAGER"), "{screen}");
    // A pager that cannot start: the output is printed directly.
    let (screen, code) = paged(&env, 30, "list", "/nonexistent/pager -R");
    assert_eq!(code, "0", "{screen}");
    assert!(screen.contains(id) && !screen.contains("error"), "{screen}");
    // A pager closed before the end (`q`), with more left than a pipe
    // holds: a quiet exit 0.
    let big = Env::new();
    let lines: String = (0..3_000)
        .map(|i| format!("{{\"name\": \"key number {i}\"}}\n"))
        .collect();
    big.run_stdin(&["create", "--from", "-"], &lines).code(0);
    let (screen, code) = paged(&big, 30, "list", "head -n 3");
    assert_eq!(code, "0", "{screen}");
    assert!(!screen.contains("error"), "{screen}");
    assert!(screen.lines().count() < 10, "{screen}");
    // PAGER is the fallback; piped, there is no pager at all.
    let mut cmd = env.command();
    cmd.env("PAGER", "/bin/false");
    let run = env.run_with(cmd, &["list"], None).code(0);
    assert_eq!(run.stdout.lines().count(), 101);
    let mut cmd = env.command();
    cmd.env("KEYSMITH_PAGER", "/bin/false");
    env.run_with(cmd, &["history"], None).code(0);
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
