//! `scan` (docs/src/commands/scan.md): finding keys in files, folders and stdin, their state in
//! the store, the exit code, and the rules exported for other scanners.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{Env, Run};

/// The secret and check of a key: never to be printed.
fn secret(key: &str) -> &str {
    &key[key.len() - 38..]
}

#[track_caller]
fn assert_no_secret(run: &Run, keys: &[&str]) {
    for key in keys {
        let s = secret(key);
        assert!(
            !run.stdout.contains(s) && !run.stderr.contains(s),
            "a secret was printed: {run:#?}"
        );
    }
}

fn masked(key: &str) -> String {
    keysmith::key_format::parse(key)
        .expect("a valid key")
        .masked()
}

/// Writes `text` to `path`, creating the folders on the way.
fn write(path: &Path, text: impl AsRef<[u8]>) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// A key that is not in the store (minted, never stored).
fn stranger() -> String {
    keysmith::mint("ks").secret.expose().to_owned()
}

/// `key` with one character of its secret changed, so its checksum fails.
fn mistyped(key: &str) -> String {
    let mut bytes = key.as_bytes().to_vec();
    let i = key.len() - 20;
    bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn a_tree_reports_live_disabled_and_unknown_keys_and_skips_git() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let disabled = env.create("disabled", &["--prefix", "acme"]);
    env.run(&["disable", &disabled]).code(0);
    let typo_source = env.create("typo", &[]);
    let typo = mistyped(&typo_source);
    let unknown = stranger();

    let root = env.dir.path().join("tree");
    let live_file = write(
        &root.join("app/config.env"),
        format!("# settings\nHOST=example.com\nAPI_KEY={live}\n"),
    );
    let disabled_file = write(
        &root.join("app/legacy/old.yaml"),
        format!("legacy:\n  key: \"{disabled}\"\n"),
    );
    write(
        &root.join("docs/notes.md"),
        format!("the key was {typo}, oops\n"),
    );
    let unknown_file = write(&root.join("vendor/deep/er/x.txt"), format!("{unknown}\n"));
    write(&root.join(".git/objects/ab/leak"), format!("{live}\n"));
    write(&root.join("app/.git/config"), format!("{live}\n"));

    let run = env.run(&["scan", root.to_str().unwrap()]).code(1);
    let mut lines: Vec<&str> = run.stdout.lines().collect();
    lines.sort_unstable();
    let mut expected = vec![
        format!("{}:3: {} live", live_file.display(), masked(&live)),
        format!(
            "{}:2: {} disabled",
            disabled_file.display(),
            masked(&disabled)
        ),
        format!("{}:1: {} unknown", unknown_file.display(), masked(&unknown)),
    ];
    expected.sort_unstable();
    assert_eq!(lines, expected, "{run:#?}");
    assert!(!run.stdout.contains(&Env::id_of(&typo_source)), "{run:#?}");
    assert!(!run.stderr.contains("error"), "{run:#?}");
    assert_no_secret(&run, &[&live, &disabled, &typo, &typo_source, &unknown]);

    // The same findings as JSON Lines.
    let run = env.run(&["--json", "scan", root.to_str().unwrap()]).code(1);
    assert_eq!(run.stdout.lines().count(), 3, "{run:#?}");
    assert_eq!(run.stderr, "", "JSON mode adds no talk");
    assert_no_secret(&run, &[&live, &disabled, &typo, &typo_source, &unknown]);
}

#[test]
fn json_lines_carry_file_line_masked_id_and_state() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let file = write(
        &env.dir.path().join("a.txt"),
        format!("one\ntwo {live}\n{live}\n"),
    );
    let run = env.run(&["--json", "scan", file.to_str().unwrap()]).code(1);
    let objects: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let expect = |line: u64| {
        serde_json::json!({
            "file": file.to_str().unwrap(),
            "line": line,
            "masked": masked(&live),
            "id": Env::id_of(&live),
            "state": "live",
            "name": "live",
        })
    };
    assert_eq!(objects, vec![expect(2), expect(3)]);
    // A key the store does not know has no name.
    let run = env.run_stdin(&["--json", "scan"], &stranger()).code(0);
    assert_eq!(run.json()["name"], serde_json::Value::Null);
}

#[test]
fn the_advice_names_each_live_key_with_its_real_id() {
    let env = Env::new();
    let one = env.create("billing webhook", &[]);
    let run = env.run_stdin(&["scan"], &format!("{one}\n{one}\n")).code(1);
    let id = Env::id_of(&one);
    assert!(
        run.stderr.contains(&format!(
            "Key {id} (\"billing webhook\") is live and may have leaked: switch it off with \
             `keysmith disable {id}`, then replace it with `keysmith rotate {id}`."
        )),
        "{run:#?}"
    );
    // Following the advice works.
    env.run(&["disable", &id]).code(0);
    env.run_stdin(&["scan"], &one).code(0);

    // Several: each once by id and name, up to five, then how to get all.
    let keys: Vec<String> = (0..7)
        .map(|i| env.create(&format!("leak {i}"), &[]))
        .collect();
    let run = env.run_stdin(&["scan"], &keys.join("\n")).code(1);
    assert!(
        run.stderr.contains("7 live keys may have leaked"),
        "{run:#?}"
    );
    for (i, key) in keys.iter().enumerate().take(5) {
        let line = format!("  {}  \"leak {i}\"", Env::id_of(key));
        assert!(
            run.stderr.lines().any(|l| l == line),
            "{line:?} in {run:#?}"
        );
    }
    assert!(run.stderr.contains("and 2 more"), "{run:#?}");
    assert_no_secret(&run, &keys.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn an_expired_key_is_expired() {
    let env = Env::new();
    let key = env.create("short", &["--expires-in", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let run = env.run_stdin(&["scan"], &format!("{key}\n")).code(0);
    assert_eq!(run.stdout, format!("-:1: {} expired\n", masked(&key)));
}

#[test]
fn stdin_is_read_with_no_path_or_dash() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let input = format!("first line\nexport KEY={live}\n");
    for args in [&["scan"][..], &["scan", "-"]] {
        let run = env.run_stdin(args, &input).code(1);
        assert_eq!(run.stdout, format!("-:2: {} live\n", masked(&live)));
        assert_no_secret(&run, &[&live]);
    }
}

#[test]
fn only_non_live_keys_exit_0() {
    let env = Env::new();
    let disabled = env.create("off", &[]);
    env.run(&["disable", &disabled]).code(0);
    let unknown = stranger();
    let run = env
        .run_stdin(&["scan"], &format!("{disabled}\n{unknown}\n"))
        .code(0);
    assert_eq!(
        run.stdout,
        format!(
            "-:1: {} disabled\n-:2: {} unknown\n",
            masked(&disabled),
            masked(&unknown)
        )
    );
}

#[test]
fn the_right_id_with_another_secret_is_unknown() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let forged = keysmith::key_format::mint_with_id("ks", Env::id_of(&live));
    let forged = forged.secret.expose();
    let run = env.run_stdin(&["scan"], &format!("{forged}\n")).code(0);
    assert_eq!(run.stdout, format!("-:1: {} unknown\n", masked(forged)));
}

#[test]
fn a_missing_store_is_refused_and_stays_missing() {
    // Issue 24: a missing store would call every key `unknown`, and a CI
    // guard built on `scan` would pass.
    let env = Env::new();
    let key = stranger();
    let run = env
        .run_stdin(&["scan"], &key)
        .error(4, "there is no keysmith store at");
    assert_eq!(run.stdout, "");
    assert!(!env.store_exists());
}

#[test]
fn keys_glued_to_other_text_are_found() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let unknown = stranger();
    let input =
        format!("TOKEN={live};\nx{unknown}\n{live}x\n\"url\": \"https://h/?k={live}&v=1\"\n");
    let run = env.run_stdin(&["scan"], &input).code(1);
    assert_eq!(
        run.stdout,
        format!(
            "-:1: {} live\n-:2: {} unknown\n-:4: {} live\n",
            masked(&live),
            masked(&unknown),
            masked(&live)
        ),
        "a key followed by a letter (line 3) is part of a longer token"
    );
    assert_no_secret(&run, &[&live, &unknown]);
}

#[test]
fn binary_and_oversize_files_are_skipped() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let root = env.dir.path().join("tree");
    let binary = write(
        &root.join("image.png"),
        [b"\x89PNG\0\0".as_slice(), live.as_bytes()].concat(),
    );
    let mut big = format!("{live}\n").into_bytes();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    let oversize = write(&root.join("dump.sql"), big);
    let text = write(&root.join("ok.txt"), format!("{live}\n"));

    let run = env.run(&["scan", root.to_str().unwrap()]).code(1);
    assert_eq!(
        run.stdout,
        format!("{}:1: {} live\n", text.display(), masked(&live))
    );
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "warning: skipped {}: larger than 10 MiB",
            oversize.display()
        )],
        "binary files met in a folder are skipped silently: {run:#?}"
    );

    // A binary file named on the command line is skipped with a warning.
    let run = env.run(&["scan", binary.to_str().unwrap()]).code(0);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(&format!(
            "warning: skipped {}: binary file",
            binary.display()
        )),
        "{run:#?}"
    );
    assert_no_secret(&run, &[&live]);
}

#[test]
fn symlinks_to_folders_are_not_followed() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let root = env.dir.path().join("tree");
    let file = write(&root.join("a/key.txt"), format!("{live}\n"));
    std::os::unix::fs::symlink(root.join("a"), root.join("b")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("a/loop")).unwrap();
    let run = env.run(&["scan", root.to_str().unwrap()]).code(1);
    assert_eq!(
        run.stdout,
        format!("{}:1: {} live\n", file.display(), masked(&live))
    );
}

#[test]
fn nothing_found_says_so_on_stderr_and_exits_0() {
    let env = Env::new();
    env.run(&["init"]).code(0);
    let file = write(&env.dir.path().join("clean.txt"), "nothing to see\n");
    let run = env.run(&["scan", file.to_str().unwrap()]).code(0);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("No keysmith keys found"), "{run:#?}");
    let run = env.run(&["--json", "scan", file.to_str().unwrap()]).code(0);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
}

#[test]
fn a_missing_path_exits_2_before_scanning() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let file = write(&env.dir.path().join("a.txt"), format!("{live}\n"));
    let missing = env.dir.path().join("nope");
    let run = env
        .run(&["scan", file.to_str().unwrap(), missing.to_str().unwrap()])
        .error(2, "nope");
    assert_eq!(run.stdout, "");
}

#[test]
fn a_key_in_a_path_is_masked_too() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let run = env.run(&["scan", &live]).error(2, &masked(&live));
    assert_no_secret(&run, &[&live]);
    let file = write(&env.dir.path().join(format!("{live}.txt")), live.as_bytes());
    let run = env.run(&["scan", file.to_str().unwrap()]).code(1);
    assert!(run.stdout.contains(&masked(&live)), "{run:#?}");
    assert_no_secret(&run, &[&live]);
}

/// The text between the first `open` and the next `close` in `text`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).expect("opening delimiter") + open.len();
    let len = text[start..].find(close).expect("closing delimiter");
    &text[start..start + len]
}

#[track_caller]
fn assert_pattern_finds_keys(pattern: &str, key: &str) {
    let re = regex::Regex::new(pattern).expect("the exported regex compiles");
    assert!(re.is_match(&format!("config: api_key = \"{key}\" # prod")));
    let short = &key[..key.len() - 1];
    assert!(
        !re.is_match(&format!("api_key = \"{short}\"")),
        "one char short"
    );
    let body = &key[key.find('_').unwrap()..];
    assert!(
        !re.is_match(&format!("zz{body}")),
        "a prefix not in the store"
    );
    assert!(
        !re.is_match(&format!("x{body}")),
        "a prefix not in the store"
    );
}

#[test]
fn gitleaks_rule_matches_keys_and_not_near_misses() {
    let env = Env::new();
    // No store: the default prefix.
    let run = env.run(&["scan", "--rules", "gitleaks"]).code(0);
    assert!(!env.store_exists(), "exporting a rule writes nothing");
    let toml = &run.stdout;
    assert!(toml.contains("[[rules]]"), "{toml}");
    assert!(toml.contains("id = \"keysmith-api-key\""), "{toml}");
    assert!(toml.contains("description = "), "{toml}");
    assert!(toml.contains("keywords = [\"ks_\"]"), "{toml}");
    let pattern = between(toml, "regex = '''", "'''");
    assert_pattern_finds_keys(pattern, &stranger());

    // A store with `acme` keys: the rule covers acme (and only the prefixes in use).
    let acme = env.create("a", &["--prefix", "acme"]);
    let run = env.run(&["scan", "--rules", "gitleaks"]).code(0);
    let pattern = between(&run.stdout, "regex = '''", "'''");
    assert!(pattern.contains("acme"), "{pattern}");
    assert!(run.stdout.contains("keywords = [\"acme_\"]"), "{run:#?}");
    assert_pattern_finds_keys(pattern, &acme);
    env.create("b", &[]);
    let run = env.run(&["scan", "--rules", "gitleaks"]).code(0);
    let pattern = between(&run.stdout, "regex = '''", "'''");
    assert_pattern_finds_keys(pattern, &acme);
    assert_pattern_finds_keys(pattern, &stranger());
    assert!(run.stdout.contains("keywords = [\"acme_\", \"ks_\"]"));
}

#[test]
fn trufflehog_detector_carries_the_regex_and_keywords() {
    let env = Env::new();
    let acme = env.create("a", &["--prefix", "acme"]);
    env.create("b", &[]);
    let run = env.run(&["scan", "--rules", "trufflehog"]).code(0);
    let yaml = &run.stdout;
    assert!(yaml.contains("detectors:\n"), "{yaml}");
    assert!(yaml.contains("- name: keysmith-api-key\n"), "{yaml}");
    assert!(
        yaml.contains("keywords:\n      - acme_\n      - ks_\n"),
        "{yaml}"
    );
    let regex_block = &yaml[yaml.find("regex:\n").expect("a regex map")..];
    let pattern = between(regex_block, ": '", "'\n");
    assert_pattern_finds_keys(pattern, &acme);
    assert_pattern_finds_keys(pattern, &stranger());

    let v = env
        .run(&["--json", "scan", "--rules", "trufflehog"])
        .code(0)
        .json();
    assert_eq!(v["scanner"], "trufflehog");
    assert_eq!(v["regex"], pattern);
    assert_eq!(v["keywords"], serde_json::json!(["acme_", "ks_"]));
}

#[test]
fn rules_and_paths_do_not_mix() {
    let env = Env::new();
    env.run(&["scan", "--rules", "gitleaks", "."]).code(2);
    env.run(&["scan", "--rules", "semgrep"]).code(2);
}

/// Every 16-character window of a key's 32-character secret.
fn secret_windows(key: &str) -> Vec<&str> {
    let secret = &key[key.len() - 38..key.len() - 6];
    (0..=16).map(|i| &secret[i..i + 16]).collect()
}

#[test]
fn a_key_glued_into_a_file_name_is_masked_in_reports_and_warnings() {
    let env = Env::new();
    let live = env.create("live", &[]);
    let id = Env::id_of(&live);
    let root = env.dir.path().join("tree");
    write(&root.join(format!("old-{live}v2.txt")), format!("{live}\n"));
    let mut big = format!("{live}\n").into_bytes();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    write(&root.join(format!("X{live}.dump")), big);
    let binary = write(
        &env.dir.path().join(format!("img{live}0.png")),
        [b"\x89PNG\0\0".as_slice(), live.as_bytes()].concat(),
    );
    let runs = [
        env.run(&["scan", root.to_str().unwrap()]).code(1),
        env.run(&["--json", "scan", root.to_str().unwrap()]).code(1),
        env.run(&["scan", binary.to_str().unwrap()]).code(0),
    ];
    for run in &runs {
        for window in secret_windows(&live) {
            assert!(
                !run.stdout.contains(window) && !run.stderr.contains(window),
                "{window:?} of the secret was printed: {run:#?}"
            );
        }
    }
    let masked = format!("ks_{id}_********");
    assert_eq!(
        runs[0].stdout,
        format!("{}/old-{masked}.txt:1: {masked} live\n", root.display()),
        "{:#?}",
        runs[0]
    );
    assert!(
        runs[0].stderr.contains(&format!(
            "warning: skipped {}/X{masked}.dump: larger than 10 MiB",
            root.display()
        )),
        "{:#?}",
        runs[0]
    );
    let finding: serde_json::Value = serde_json::from_str(runs[1].stdout.trim()).unwrap();
    assert_eq!(
        finding["file"],
        format!("{}/old-{masked}.txt", root.display())
    );
    assert!(
        runs[2]
            .stderr
            .contains(&format!("skipped {}/img{masked}", env.dir.path().display())),
        "{:#?}",
        runs[2]
    );
}

/// The peak resident memory of a running process, in KiB (VmHWM).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("a VmHWM line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_line_of_any_length_is_scanned_in_bounded_memory_each_key_found_once() {
    use std::io::{Read, Write};
    use std::process::Stdio;

    const LINE: usize = 64 << 20;
    let env = Env::new();
    let live = env.create("live", &[]);
    let window = keysmith::scan::WINDOW;
    let head = b"first line\n";
    // One key at each window boundary of the long line (line 2), placed to
    // end past it, one byte past it, exactly at it, one byte before it, or to
    // start at it, with prefixes from 1 to 16 characters.
    let mut line = vec![b'.'; LINE];
    let mut placed = Vec::new();
    let first = stranger();
    line[..first.len()].copy_from_slice(first.as_bytes());
    placed.push(first);
    for k in 1..LINE / window {
        let prefix = &"abcdefghijklmnop"[..1 + k % 16];
        let key = keysmith::mint(prefix).secret.expose().to_owned();
        let before = match k % 5 {
            0 => key.len() / 2,
            1 => key.len() - 1,
            2 => key.len(),
            3 => key.len() + 1,
            _ => 0,
        };
        let start = k * window - head.len() - before;
        line[start..start + key.len()].copy_from_slice(key.as_bytes());
        placed.push(key);
    }
    let mut input = head.to_vec();
    input.extend_from_slice(&line);
    input.extend_from_slice(format!("\n{live}\n").as_bytes());
    drop(line);

    let mut child = env
        .command()
        .arg("scan")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).unwrap();
        out
    });
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&input).unwrap();
    // Everything but what the pipe holds has been read: the peak so far
    // is the peak of reading the long line.
    let peak = peak_rss_kib(child.id());
    drop(stdin);
    let status = child.wait().unwrap();
    let stdout = reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stdout}");

    let mut expected: String = placed
        .iter()
        .map(|k| format!("-:2: {} unknown\n", masked(k)))
        .collect();
    expected.push_str(&format!("-:3: {} live\n", masked(&live)));
    assert_eq!(stdout, expected);
    assert!(
        peak < 32 * 1024,
        "scanning a {} MiB line took {peak} KiB of memory",
        LINE >> 20
    );
}

/// Issue 24, item 13: a live key already rotated (in its grace period) is
/// not to be rotated again: the advice names its replacement and says to
/// switch it off.
#[test]
fn the_advice_for_a_key_in_its_grace_period_names_its_replacement() {
    let env = Env::new();
    let old = env.create("webhook", &[]);
    let id = Env::id_of(&old);
    let new = env
        .run(&["rotate", &id, "--grace", "1d", "--yes"])
        .code(0)
        .stdout;
    let new_id = Env::id_of(new.trim());
    let run = env.run_stdin(&["scan"], &format!("{old}\n")).code(1);
    assert!(
        run.stderr.contains(&format!(
            "Key {id} (\"webhook\") is live and may have leaked; it was already replaced by \
             {new_id}"
        )),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&format!("`keysmith disable {id}`")),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("keysmith rotate"), "{run:#?}");
    // Among several, it is marked.
    let other = env.create("other", &[]);
    let run = env
        .run_stdin(&["scan"], &format!("{old}\n{other}\n"))
        .code(1);
    assert!(
        run.stderr.contains(&format!(
            "  {id}  \"webhook\"  (already replaced by {new_id})"
        )),
        "{run:#?}"
    );
}
