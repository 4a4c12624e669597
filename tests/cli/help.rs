//! Every subcommand's help: its own options first, the global ones after
//! them under their own heading, and an `Examples:` section at the end whose
//! lines work as they stand.

use std::path::Path;

use crate::common::{BIN, Env};

/// The subcommands `keysmith --help` lists, the main ones among them.
fn subcommands(env: &Env) -> Vec<String> {
    let listed = env.subcommands();
    for known in [
        "create", "list", "verify", "show", "rotate", "history", "man",
    ] {
        assert!(listed.iter().any(|s| s == known), "{known}: {listed:?}");
    }
    listed
}

/// The lines of the help's `Examples:` section, which must end it.
fn examples(help: &str) -> Vec<&str> {
    let lines: Vec<&str> = help.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "Examples:")
        .unwrap_or_else(|| panic!("no Examples: section in\n{help}"));
    let tail: Vec<&str> = lines[at + 1..]
        .iter()
        .copied()
        .filter(|l| !l.is_empty())
        .collect();
    for line in &tail {
        assert!(
            line.starts_with("  ") && !line.ends_with(':'),
            "Examples: must end the help, but {line:?} follows it in\n{help}"
        );
    }
    tail.iter().map(|l| l.trim()).collect()
}

/// The flags listed under `heading`, in order: the lines that start with
/// a flag (`  -y, --yes`, `      --name <NAME>`), not the wrapped text
/// of a description, which is indented further.
fn flags_under<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| {
            let text = l.trim_start();
            l.len() - text.len() <= 6 && text.starts_with('-')
        })
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("--"))
                .map(|w| w.trim_end_matches(','))
        })
        .collect()
}

#[test]
fn every_subcommand_s_help_ends_with_examples_and_lists_its_own_options_first() {
    let env = Env::new();
    for sub in subcommands(&env) {
        for flag in ["--help", "-h"] {
            let run = env.run(&[&sub, flag]).code(0);
            let help = &run.stdout;
            let examples = examples(help);
            let commands = examples
                .iter()
                .filter(|l| l.starts_with("keysmith ") || l.starts_with("KEY=$(keysmith "))
                .count();
            assert!(commands >= 2, "{sub} {flag}: {examples:?}");
            for line in &examples {
                assert!(
                    line.contains("keysmith"),
                    "{sub}: an example runs keysmith: {line}"
                );
                // Two columns of indent: an 80-column terminal wraps none.
                assert!(line.chars().count() + 2 <= 80, "{sub}: too wide: {line}");
            }
            let own = flags_under(help, "Options:");
            assert!(
                own.first().is_some_and(|f| *f != "--db" && *f != "--json"),
                "{sub} {flag}: the first option is the subcommand's own: {own:?}"
            );
            assert!(
                !own.contains(&"--db") && !own.contains(&"--json"),
                "{sub}: {own:?}"
            );
            assert_eq!(
                flags_under(help, "Global options:"),
                ["--db", "--json", "--no-pager"],
                "{sub} {flag}:\n{help}"
            );
            let options = help.find("\nOptions:").unwrap();
            let global = help.find("\nGlobal options:").unwrap();
            assert!(options < global, "{sub}: global options come last:\n{help}");
        }
    }
}

#[test]
fn the_top_level_help_puts_the_global_options_last_too() {
    let env = Env::new();
    let help = env.run(&["--help"]).code(0).stdout;
    assert_eq!(
        flags_under(&help, "Global options:"),
        ["--db", "--json", "--no-pager"]
    );
    assert!(!flags_under(&help, "Options:").contains(&"--db"));
}

/// The help of `sub` quotes `line` among its examples.
#[track_caller]
fn quoted(env: &Env, sub: &str, line: &str) -> String {
    let help = env.run(&[sub, "--help"]).code(0).stdout;
    assert!(
        examples(&help).contains(&line),
        "{sub} --help lacks the example {line:?}"
    );
    line.to_owned()
}

/// Runs an example as it stands in a shell, in the test's folder, with this
/// build first on PATH (a pipe into `xargs keysmith` finds it too).
#[track_caller]
fn run_example(env: &Env, line: &str) -> crate::common::Run {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = env.shell(line);
    cmd.env("PATH", path).current_dir(env.dir.path());
    let run = env.run_with(cmd, &[], None);
    assert_eq!(run.code, 0, "`{line}` failed: {run:#?}");
    run
}

#[test]
fn the_examples_work_as_they_stand() {
    let env = Env::new();
    std::fs::write(
        env.dir.path().join("keys.jsonl"),
        "{\"name\": \"acme\", \"service\": \"sms\"}\n{\"name\": \"zapier\"}\n",
    )
    .unwrap();
    let lines = [
        (
            "create",
            r#"keysmith create --name "billing webhook" --service billing --expires-in 90d"#,
        ),
        (
            "create",
            "keysmith create --from keys.jsonl > created.jsonl",
        ),
        ("show", r#"keysmith show "billing webhook""#),
        (
            "edit",
            r#"keysmith edit "billing webhook" --service billing-eu --expires-in 30d"#,
        ),
        ("disable", r#"keysmith disable "billing webhook""#),
        ("enable", r#"keysmith enable "billing webhook""#),
        (
            "list",
            "keysmith list --search zapier -q | xargs -n1 keysmith disable",
        ),
        (
            "list",
            r#"keysmith list --expiring-within 7d --exit-code || echo "keys expire soon""#,
        ),
        ("history", "keysmith history --limit 20"),
        ("history", r#"keysmith history "billing webhook""#),
        // By id, as after a rotation the name selects two keys: the
        // example's id stands for the key made above.
        ("rotate", "keysmith rotate OKnjlCW3ValJ --grace 24h --yes"),
        ("man", "keysmith man --dir ~/.local/share/man/man1"),
    ];
    for (sub, line) in lines {
        let mut line = quoted(&env, sub, line);
        if line.contains("OKnjlCW3ValJ") {
            let billing =
                env.query_strings("SELECT id FROM keys WHERE name = 'billing webhook'", &[]);
            line = line.replace("OKnjlCW3ValJ", &billing[0]);
        }
        run_example(&env, &line);
    }
    let created = std::fs::read_to_string(env.dir.path().join("created.jsonl")).unwrap();
    assert_eq!(created.lines().count(), 2);
    let zapier = env.query_strings("SELECT id FROM keys WHERE name = 'zapier'", &[]);
    let disabled = env.run(&["--json", "show", &zapier[0]]).code(0).json();
    assert_eq!(disabled["status"], "disabled");
    let billing = env
        .run(&["--json", "list", "--service", "billing-eu"])
        .code(0);
    assert_eq!(
        billing.json().as_array().unwrap().len(),
        2,
        "rotated: two keys"
    );
    // `list ... || echo`: the old key expires within a week now.
    let soon = run_example(
        &env,
        r#"keysmith list --expiring-within 7d --exit-code || echo "keys expire soon""#,
    );
    assert!(soon.stdout.contains("keys expire soon"), "{soon:#?}");
    assert!(
        env.dir
            .path()
            .join(".local/share/man/man1/keysmith-create.1")
            .is_file()
    );

    // The captured key verifies.
    let captured = run_example(
        &env,
        &format!(
            r#"{} && echo "$KEY" | keysmith verify"#,
            quoted(
                &env,
                "create",
                "KEY=$(keysmith create --name ci --expires-in 30d)"
            )
        ),
    );
    assert!(captured.stdout.starts_with("valid "), "{captured:#?}");
}

/// What the help says is so: a variable shown without a dangling `=` (clap
/// prints `NAME=` and the value, empty when unset), `edit` described by
/// everything it changes, and no example passes a flag its command ignores.
#[test]
fn the_help_describes_what_the_commands_do() {
    let env = Env::new();
    for sub in env.subcommands() {
        let help = env.run(&[&sub, "--help"]).code(0).stdout;
        assert!(!help.contains("=]"), "{sub}: a dangling `=`:\n{help}");
    }
    let create = env.run(&["create", "--help"]).code(0).stdout;
    assert!(create.contains("[env: KEYSMITH_PREFIX]"), "{create}");
    // --yes skips the prompted flow's confirmation: --name asks none.
    for line in examples(&create) {
        assert!(
            !(line.contains("--name") && line.contains("--yes")),
            "{line}"
        );
    }

    let top = env.run(&["--help"]).code(0).stdout;
    let edit = top
        .lines()
        .find(|l| l.trim_start().starts_with("edit "))
        .expect("edit is listed");
    for field in [
        "name",
        "description",
        "service",
        "expiry",
        "scopes",
        "uses",
        "rate",
    ] {
        assert!(edit.contains(field), "edit changes {field}: {edit}");
    }
    let edit_help = env.run(&["edit", "--help"]).code(0).stdout;
    for flag in ["--scope", "--uses", "--rate"] {
        assert!(edit_help.contains(flag), "{flag}");
    }
}
