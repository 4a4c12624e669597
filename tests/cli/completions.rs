//! The committed scripts under completions/ must match what the CLI generates.
//! Refresh them with: for s in bash zsh fish powershell elvish; do ... (see docs/src/commands/completions.md).

use std::path::Path;

use crate::common::{BIN, Env, Run};

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
        assert!(
            !generated.contains("clipboard-keeper"),
            "{shell} script offers a hidden subcommand"
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

// Dynamic completion: the shell runs `COMPLETE=SHELL keysmith -- WORDS...`
// (clap_complete's protocol: bash and zsh also pass the index of the word
// being completed in _CLAP_COMPLETE_INDEX, and the separator of candidates
// in _CLAP_IFS; fish completes the last word and prints `value\thelp`).

/// `COMPLETE=fish keysmith -- keysmith WORDS...`: the candidates as
/// (value, help) pairs.
fn fish(env: &Env, words: &[&str], extra: &[(&str, &str)]) -> (Run, Vec<(String, String)>) {
    let mut cmd = env.command();
    cmd.env("COMPLETE", "fish");
    for (name, value) in extra {
        cmd.env(name, value);
    }
    let mut args = vec!["--", "keysmith"];
    args.extend_from_slice(words);
    let run = env.run_with(cmd, &args, None).code(0);
    assert_eq!(run.stderr, "", "a completion prints no message: {run:#?}");
    let candidates = run
        .stdout
        .lines()
        .map(|line| {
            let (value, help) = line.split_once('\t').unwrap_or((line, ""));
            (value.to_owned(), help.to_owned())
        })
        .collect();
    (run, candidates)
}

/// The values of the candidates that are not flags.
fn values(candidates: &[(String, String)]) -> Vec<&str> {
    candidates
        .iter()
        .map(|(value, _)| value.as_str())
        .filter(|value| !value.starts_with('-'))
        .collect()
}

/// Two keys, newest last: their (id, full key).
fn two_keys(env: &Env) -> [(String, String); 2] {
    let billing = env.create("billing webhook", &["--service", "billing"]);
    let ci = env.create("ci", &["--service", "ci"]);
    [billing, ci].map(|key| (Env::id_of(&key), key))
}

#[test]
fn key_ids_with_names_come_from_the_db_on_the_line() {
    let env = Env::new();
    let [(billing, billing_key), (ci, ci_key)] = two_keys(&env);
    env.run(&["disable", &ci]).code(0);
    let elsewhere = env.dir.path().join("elsewhere.db");
    let elsewhere = elsewhere.to_str().unwrap();
    let db = env.store();
    let db_eq = format!("--db={db}");
    let lines: [&[&str]; 4] = [
        &["--db", &db, "show", ""],
        &["show", "--db", &db, ""],
        &["show", &db_eq, ""],
        &["--db", elsewhere, "delete", "--db", &db, ""],
    ];
    for words in lines {
        // KEYSMITH_DB names another store: the line's --db wins.
        let (run, candidates) = fish(&env, words, &[("KEYSMITH_DB", elsewhere)]);
        assert_eq!(
            values(&candidates),
            [ci.as_str(), billing.as_str()],
            "{words:?}"
        );
        assert!(candidates.contains(&(ci.clone(), "ci (disabled)".into())));
        assert!(candidates.contains(&(billing.clone(), "billing webhook (enabled)".into())));
        // The flags are offered as well, by clap's engine.
        assert!(candidates.iter().any(|(value, _)| value == "--json"));
        for secret in [&billing_key, &ci_key] {
            assert!(!run.stdout.contains(secret.as_str()));
        }
    }
    // What was typed of the id narrows the candidates.
    let (_, candidates) = fish(&env, &["--db", &db, "rotate", &ci[..6]], &[]);
    assert_eq!(values(&candidates), [ci.as_str()]);
    assert!(!std::path::Path::new(elsewhere).exists());
}

#[test]
fn every_key_selector_offers_the_keys_that_fit_and_verify_none() {
    let env = Env::new();
    let [(billing, _), (ci, _)] = two_keys(&env);
    env.run(&["disable", &ci]).code(0);
    // The store from KEYSMITH_DB, as the harness sets it.
    for sub in ["show", "edit", "rotate", "delete", "history"] {
        let (_, candidates) = fish(&env, &[sub, ""], &[]);
        assert_eq!(
            values(&candidates),
            [ci.as_str(), billing.as_str()],
            "{sub}"
        );
    }
    // Only what the verb can act on: enabled keys to disable, disabled
    // ones to enable, by id and by name.
    for (sub, fits, other) in [("disable", &billing, &ci), ("enable", &ci, &billing)] {
        let (_, candidates) = fish(&env, &[sub, ""], &[]);
        assert_eq!(values(&candidates), [fits.as_str()], "{sub}");
        for (typed, name) in [("b", "billing webhook"), ("c", "ci")] {
            let (_, candidates) = fish(&env, &[sub, typed], &[]);
            let offered = values(&candidates).contains(&name);
            let name_fits = (name == "ci") == (fits == &ci);
            assert_eq!(offered, name_fits, "{sub} {typed}: {candidates:?}");
        }
        let (_, candidates) = fish(&env, &[sub, &other[..4]], &[]);
        assert!(!values(&candidates).contains(&other.as_str()), "{sub}");
    }
    // verify takes a full key, which no store holds.
    let (_, candidates) = fish(&env, &["verify", ""], &[]);
    assert!(values(&candidates).is_empty(), "{candidates:?}");
}

#[test]
fn services_complete_for_every_service_flag() {
    let env = Env::new();
    two_keys(&env);
    env.create("no service", &[]);
    env.create("second billing", &["--service", "billing"]);
    for sub in ["create", "list", "edit", "verify"] {
        let mut words = vec![sub];
        if sub == "edit" {
            words.push("ci");
        }
        words.extend(["--service", ""]);
        let (_, candidates) = fish(&env, &words, &[]);
        assert_eq!(values(&candidates), ["billing", "ci"], "{sub}");
        words.truncate(words.len() - 2);
        words.push("--service=b");
        let (_, candidates) = fish(&env, &words, &[]);
        let offered: Vec<&str> = candidates.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(offered, ["--service=billing"], "{sub}");
    }
}

/// `COMPLETE=SHELL keysmith -- keysmith WORDS...` as bash and zsh call it:
/// the candidates that are not flags, one per line.
fn bash_or_zsh(env: &Env, shell: &str, words: &[&str], quote: &str) -> Vec<String> {
    let mut cmd = env.command();
    cmd.env("COMPLETE", shell)
        .env("_CLAP_COMPLETE_INDEX", words.len().to_string())
        .env("_CLAP_IFS", "\n")
        .env("_KEYSMITH_QUOTE", quote);
    let mut args = vec!["--", "keysmith"];
    args.extend_from_slice(words);
    let run = env.run_with(cmd, &args, None).code(0);
    assert_eq!(run.stderr, "");
    run.stdout
        .lines()
        .filter(|l| !l.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_gets_names_zsh_gets_ids_described_by_name() {
    let env = Env::new();
    let [(billing, _), (ci, _)] = two_keys(&env);
    let db = env.store();
    // zsh: `value:description`.
    assert_eq!(
        bash_or_zsh(&env, "zsh", &["--db", &db, "show", ""], ""),
        [
            format!("{ci}:ci (enabled)"),
            format!("{billing}:billing webhook (enabled)"),
        ]
    );
    // bash shows no description: names, as bash reads them back.
    assert_eq!(
        bash_or_zsh(&env, "bash", &["--db", &db, "show", ""], ""),
        ["ci", r"billing\ webhook"]
    );
    // A typed start of an id still completes the id.
    assert_eq!(
        bash_or_zsh(&env, "bash", &["show", &billing[..5]], ""),
        [billing.as_str()]
    );
}

/// Leaves out the ids among `candidates` (a typed `du` may start an id too).
fn names<T: AsRef<str>>(candidates: impl IntoIterator<Item = T>) -> Vec<String> {
    candidates
        .into_iter()
        .map(|c| c.as_ref().to_owned())
        .filter(|c| !keysmith::key_format::is_id_shaped(c.split(':').next().unwrap_or(c)))
        .collect()
}

#[test]
fn a_typed_start_of_a_name_completes_to_the_name_quoted_for_the_shell() {
    let env = Env::new();
    let [(billing, _), _] = two_keys(&env);
    let odd = Env::id_of(&env.create("it's $HOME & \"more\"", &[]));
    env.create("dup", &[]);
    env.create("dup", &[]);
    // fish and zsh quote what they insert: the name itself, described by
    // its key.
    let (_, candidates) = fish(&env, &["show", "bil"], &[]);
    assert!(
        candidates.contains(&("billing webhook".to_owned(), format!("{billing} (enabled)"))),
        "{candidates:?}"
    );
    assert_eq!(names(values(&candidates)), ["billing webhook"]);
    assert_eq!(
        names(bash_or_zsh(&env, "zsh", &["show", "bil"], "")),
        [format!("billing webhook:{billing} (enabled)")]
    );
    // What was typed is read as the shell reads it.
    let (_, candidates) = fish(&env, &["show", "'billing w"], &[]);
    assert_eq!(values(&candidates), ["billing webhook"]);
    // A name borne by several keys is offered once.
    let (_, candidates) = fish(&env, &["show", "du"], &[]);
    assert!(
        candidates.contains(&("dup".to_owned(), "2 keys: pick one by id".to_owned())),
        "{candidates:?}"
    );
    assert_eq!(names(values(&candidates)), ["dup"]);

    // Bash inserts a candidate as it stands: escaped outside quotes, and
    // inside the quote the word opened (bash passes the text after it).
    for (quote, typed, expected) in [
        ("", "bil", r"billing\ webhook"),
        ("", r"billing\ w", r"billing\ webhook"),
        ("'", "billing w", "billing webhook"),
        ("\"", "bil", "billing webhook"),
        ("", "it", r#"it\'s\ \$HOME\ \&\ \"more\""#),
        ("\"", "it", r#"it's \$HOME & \"more\""#),
    ] {
        assert_eq!(
            names(bash_or_zsh(&env, "bash", &["show", typed], quote)),
            [expected],
            "{quote}{typed}"
        );
    }
    // No way to write a `'` within single quotes: not offered there.
    assert!(names(bash_or_zsh(&env, "bash", &["show", "it"], "'")).is_empty());
    // Each completed name selects its key.
    let shown = env
        .run(&["--json", "show", "it's $HOME & \"more\""])
        .code(0);
    assert_eq!(shown.json()["id"], odd.as_str());
}

#[test]
fn a_missing_or_broken_store_offers_nothing_and_is_left_as_it_was() {
    let env = Env::new();
    let missing = env.dir.path().join("missing").join("keys.db");
    let missing = missing.to_str().unwrap();
    let (_, candidates) = fish(&env, &["--db", missing, "show", ""], &[]);
    assert!(values(&candidates).is_empty());
    let (_, candidates) = fish(
        &env,
        &["list", "--service", ""],
        &[("KEYSMITH_DB", missing)],
    );
    assert!(values(&candidates).is_empty());
    assert!(!std::path::Path::new(missing).exists());
    assert!(!std::path::Path::new(missing).parent().unwrap().exists());

    // Neither --db nor KEYSMITH_DB: the default location, not made either.
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB").env("COMPLETE", "fish");
    let run = env
        .run_with(cmd, &["--", "keysmith", "show", ""], None)
        .code(0);
    assert_eq!(run.stderr, "");
    assert!(!env.dir.path().join("xdg").exists(), "{run:#?}");

    // Not a store: nothing offered, nothing said, not a byte changed.
    let junk = env.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a keysmith store\n").unwrap();
    let (_, candidates) = fish(&env, &["--db", junk.to_str().unwrap(), "show", ""], &[]);
    assert!(values(&candidates).is_empty());
    assert_eq!(std::fs::read(&junk).unwrap(), b"not a keysmith store\n");
}

#[test]
fn names_reach_the_shell_escaped_and_without_a_key() {
    let env = Env::new();
    let [(billing, _), (ci, ci_key)] = two_keys(&env);
    let hostile = format!("evil\u{1b}[2J\tname\nwith {ci_key} inside");
    env.exec(
        "UPDATE keys SET name = $1 WHERE id = $2",
        &[&hostile, &billing],
    );
    let (run, candidates) = fish(&env, &["show", ""], &[]);
    assert!(!run.stdout.contains('\u{1b}'), "{run:#?}");
    assert!(!run.stdout.contains(&ci_key), "{run:#?}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&billing))
        .unwrap();
    assert!(line.contains(r"evil\u{1b}[2J\tname\nwith"), "{line}");
    assert!(line.contains(&format!("ks_{ci}_********")), "{line}");
    assert_eq!(values(&candidates), [ci.as_str(), billing.as_str()]);
    // As a value a name is inserted as it stands: one with a key or a
    // control character in it is not offered, in any shell.
    assert_eq!(bash_or_zsh(&env, "bash", &["show", ""], ""), ["ci"]);
    let (run, candidates) = fish(&env, &["show", "evil"], &[]);
    assert!(values(&candidates).is_empty(), "{run:#?}");
}

#[test]
fn at_most_200_candidates_are_offered_the_newest_first() {
    let env = Env::new();
    let ids = env.create_named((0..1005).map(|i| format!("k-{i}")));
    let (_, candidates) = fish(&env, &["show", ""], &[]);
    let offered = values(&candidates);
    // `create --from` makes its keys at one instant: the newest by insertion.
    let newest: Vec<&str> = ids.iter().rev().take(200).map(String::as_str).collect();
    assert_eq!(offered, newest);
    // Names too (no id has a `-`): k-1, k-10..k-19, k-100..k-199 and
    // k-1000..k-1004 start with "k-1".
    let (_, candidates) = fish(&env, &["show", "k-1"], &[]);
    let offered = values(&candidates);
    assert_eq!(offered.len(), 116, "{offered:?}");
    assert_eq!(offered[..3], ["k-1004", "k-1003", "k-1002"]);
    let (_, candidates) = fish(&env, &["show", "k-"], &[]);
    assert_eq!(values(&candidates).len(), 200);
}

#[test]
fn the_registration_script_and_its_errors() {
    let env = Env::new();
    for (shell, marker) in [
        (
            "bash",
            "_KEYSMITH_QUOTE=\"${COMP_WORDS[COMP_CWORD]:0:1}\" \\\n",
        ),
        ("zsh", "compdef"),
        ("fish", "complete --keep-order"),
        ("elvish", "edit:completion"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let mut cmd = env.command();
        cmd.env("COMPLETE", shell);
        let run = env.run_with(cmd, &[], None).code(0);
        assert!(run.stdout.contains(marker), "{shell}: {run:#?}");
        // The script calls this very binary back.
        assert!(run.stdout.contains(BIN), "{shell}: {run:#?}");
        assert_eq!(run.stderr, "");
    }
    // COMPLETE set to anything but a shell's name (another tool's use of
    // that generic name) is no request: keysmith runs as ever.
    let mut cmd = env.command();
    cmd.env("COMPLETE", "tcsh");
    env.run(&["init"]).code(0);
    let run = env.run_with(cmd, &["list"], None).code(0);
    assert!(run.stderr.contains("No keys yet"), "{run:#?}");
    for off in ["", "0", "1", "true"] {
        let mut cmd = env.command();
        cmd.env("COMPLETE", off);
        let run = env.run_with(cmd, &["--version"], None).code(0);
        assert!(run.stdout.starts_with("keysmith "), "{run:#?}");
    }
}

/// The whole thing in a real bash at a terminal: the registration sourced,
/// Tab Tab lists the names in the store the line names, and Tab completes
/// a unique id or name (in the quotes it was begun with), which then runs.
#[test]
fn bash_lists_names_and_completes_ids_and_names_at_a_terminal() {
    use rexpect::session::spawn_command;
    let env = Env::new();
    let [(billing, _), _] = two_keys(&env);
    let other = env.dir.path().join("other.db");
    // A width for readline to lay the candidates out in.
    let mut cmd = env.shell("stty cols 120 rows 40; exec bash --norc --noprofile");
    cmd.env("TERM", "dumb")
        .env("KS", BIN)
        .env("KEYSMITH_DB", &other)
        .env("PS1", "$ ");
    let mut p = spawn_command(cmd, Some(20_000)).expect("bash in a pty");
    // `keysmith` is this build, by the name the registration completes.
    p.send_line(r#"keysmith() { "$KS" "$@"; }"#).unwrap();
    p.send_line(r#"source <(COMPLETE=bash "$KS") && echo "registered: $?""#)
        .unwrap();
    p.exp_string("registered: 0").unwrap();
    let db = env.store();
    for line in [
        format!("keysmith --db {db} show "),
        format!("keysmith show --db={db} "),
    ] {
        p.send(&line).unwrap();
        p.send("\t\t").unwrap();
        p.flush().unwrap();
        p.exp_string(r"billing\ webhook").unwrap();
        // Ctrl-U: the line is dropped, a fresh prompt follows.
        p.send("\x15").unwrap();
        p.send_line("").unwrap();
        p.exp_string("$ ").unwrap();
    }
    // One match: Tab completes it in place, and the command runs.
    p.send(&format!("keysmith --db {db} show {}", &billing[..8]))
        .unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.send_line("").unwrap();
    p.exp_string(&format!("ID            {billing}")).unwrap();
    p.exp_string("$ ").unwrap();
    // A start of a name, unquoted or in quotes: the whole name, quoted as
    // begun (the quote closed), and the key is shown.
    for begun in ["bil", "'bil", "\"bil"] {
        p.send(&format!("keysmith --db {db} show {begun}")).unwrap();
        p.send("\t").unwrap();
        p.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        p.send_line("").unwrap();
        p.exp_string(&format!("ID            {billing}")).unwrap();
        p.exp_string("$ ").unwrap();
    }
    p.send_line("exit").unwrap();
    p.exp_eof().unwrap();
    assert!(!other.exists());
}
