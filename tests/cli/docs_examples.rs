//! Every console example of README.md and docs/src/ runs as written and
//! prints what the page says, so an example cannot drift from the binary.
//!
//! A ```console block holds `$ keysmith ...` lines, each followed by the
//! output it prints (stdout, then stderr). In the output, `[..]` stands
//! for any text within a line (paths) and a line `...` for any number of
//! lines, as in trycmd. So that the pages read as real sessions, a time
//! (`2026-11-23 08:03`, RFC 3339) matches any time of the same shape, a
//! key's secret any secret, and a key's id (`ks_<id>_`) stands for the id
//! the binary printed in the same place: from there on, that id in the
//! page's commands and output is the real one. Each page runs in a fresh world
//! (an empty store, its own HOME as the working folder), its blocks in
//! order, so a page may create a key in one block and disable it in the
//! next. An example that needs a pipe, a redirection, a variable, another
//! program, a terminal or a state the page cannot make is written as
//! ```sh or ```text instead: a ```console block with such a line fails here.
//! The world's folder is shown as `/home/alice`, its HOME, and the store is
//! the default one there, `~/.local/share/keysmith/keys.db`.
//! A page may make the state an example needs out of sight, with
//! `<!-- $ keysmith ... -->` lines before it: they run in order with the
//! page's examples and must succeed, and their output is not shown.

use std::path::{Path, PathBuf};

use crate::common::Env;

/// One `$ keysmith ...` line and the output the page shows for it.
struct Example {
    page: String,
    line: usize,
    command: String,
    /// None for a hidden setup line, whose output is not checked.
    expected: Option<Vec<String>>,
}

/// README.md and every page of docs/src (SUMMARY.md included), in a fixed order.
fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut folders = vec![root.join("docs/src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages[1..].sort();
    pages
}

/// The examples of the ```console blocks of `text`.
fn examples(page: &str, text: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    // Inside a fence: whether it is a console block, and whether that block
    // has had its first command yet.
    let mut fence: Option<(bool, bool)> = None;
    for (index, line) in text.lines().enumerate() {
        let is_fence = line.trim_start().starts_with("```");
        match fence {
            None if is_fence => fence = Some((line.trim() == "```console", false)),
            None => {
                let setup = line.strip_prefix("<!-- $ ");
                if let Some(command) = setup.and_then(|l| l.strip_suffix(" -->")) {
                    examples.push(Example {
                        page: page.to_owned(),
                        line: index + 1,
                        command: command.to_owned(),
                        expected: None,
                    });
                }
            }
            Some(_) if is_fence => fence = None,
            Some((false, _)) => {}
            Some((true, started)) => match line.strip_prefix("$ ") {
                Some(command) => {
                    examples.push(Example {
                        page: page.to_owned(),
                        line: index + 1,
                        command: command.to_owned(),
                        expected: Some(Vec::new()),
                    });
                    fence = Some((true, true));
                }
                None if started => {
                    let example = examples.last_mut().unwrap();
                    example.expected.as_mut().unwrap().push(line.to_owned())
                }
                None => panic!("{page}:{}: a console block starts with output", index + 1),
            },
        }
    }
    examples
}

/// `command` as the shell would split it, `~/` at the start of a word
/// being `home`; None when it needs more of a shell than quotes (a pipe,
/// a redirection, a variable, a substitution) or runs another program.
fn words(command: &str, home: &Path) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => w.push(chars.next()?),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            '|' | '<' | '>' | '$' | '`' | ';' | '&' | '(' | ')' | '*' | '?' => return None,
            '~' if word.is_none() && chars.peek() == Some(&'/') => {
                word = Some(home.to_str().unwrap().to_owned());
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    (words.first().map(String::as_str) == Some("keysmith")).then_some(words)
}

/// Whether `actual` is `pattern`, `[..]` in it matching any text.
fn line_matches(pattern: &str, actual: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether the lines of `actual` are those of `expected`, a line `...`
/// in `expected` matching any number of lines.
fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((&"...", rest)) => (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..])),
        Some((pattern, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line_matches(pattern, line) && lines_match(rest, more)),
    }
}

/// `line` with every digit of a date (`2026-11-23`) or a time of day
/// (`08:03`, `08:03:04`) made `0`, and every key's secret made `*`: the
/// parts of an output that differ from run to run, kept at their width.
fn normalized(line: &str) -> String {
    let mut bytes = line.as_bytes().to_vec();
    let digit = |b: &[u8], i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = 0;
    while i < bytes.len() {
        let date = (0..4).all(|k| digit(&bytes, i + k))
            && bytes.get(i + 4) == Some(&b'-')
            && digit(&bytes, i + 5)
            && digit(&bytes, i + 6)
            && bytes.get(i + 7) == Some(&b'-')
            && digit(&bytes, i + 8)
            && digit(&bytes, i + 9);
        let time = digit(&bytes, i)
            && digit(&bytes, i + 1)
            && bytes.get(i + 2) == Some(&b':')
            && digit(&bytes, i + 3)
            && digit(&bytes, i + 4);
        let seconds =
            time && bytes.get(i + 5) == Some(&b':') && digit(&bytes, i + 6) && digit(&bytes, i + 7);
        let len = match (date, seconds, time) {
            (true, _, _) => 10,
            (_, true, _) => 8,
            (_, _, true) => 5,
            _ => 0,
        };
        // A time stands alone, or after a date's `T`.
        let alone = i == 0 || bytes[i - 1] == b'T' || !bytes[i - 1].is_ascii_alphanumeric();
        if len > 0 && alone {
            for b in &mut bytes[i..i + len] {
                if b.is_ascii_digit() {
                    *b = b'0';
                }
            }
            i += len;
        } else {
            i += 1;
        }
    }
    let line = String::from_utf8(bytes).unwrap();
    // A full key: `_<id>_` then 38 base62 characters (secret and check).
    let mut out = String::new();
    let mut rest = line.as_str();
    while let Some((at, id)) = next_id(rest) {
        let after = at + id.len() + 2;
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let secret = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if secret == 38 {
            out.push_str(&"*".repeat(38));
            rest = &rest[38..];
        }
    }
    out.push_str(rest);
    out
}

/// The first `_<id>_` of a key in `text` (a prefix, then 12 base62
/// characters between underscores): where its `_` starts, and the id.
fn next_id(text: &str) -> Option<(usize, &str)> {
    let bytes = text.as_bytes();
    (1..bytes.len()).find_map(|at| {
        let id = bytes.get(at + 1..at + 13)?;
        let key_like = bytes[at] == b'_'
            && bytes[at - 1].is_ascii_alphanumeric()
            && bytes.get(at + 13) == Some(&b'_')
            && id.iter().all(u8::is_ascii_alphanumeric);
        key_like.then(|| (at, &text[at + 1..at + 13]))
    })
}

/// Every key id of `text`, in order.
fn ids(text: &str) -> Vec<&str> {
    let mut ids = Vec::new();
    let mut rest = text;
    while let Some((at, id)) = next_id(rest) {
        ids.push(id);
        rest = &rest[at + 14..];
    }
    ids
}

/// `text` with each id the page showed replaced by the binary's.
fn with_ids(text: &str, seen: &[(String, String)]) -> String {
    seen.iter().fold(text.to_owned(), |text, (page, real)| {
        text.replace(page, real)
    })
}

/// Learns, from a line of the page and the binary's line in its place,
/// which real id each id of the page stands for.
fn learn_ids(expected: &[&str], actual: &[&str], seen: &mut Vec<(String, String)>) {
    for (page_line, real_line) in expected.iter().zip(actual) {
        let (page_ids, real_ids) = (ids(page_line), ids(real_line));
        if page_ids.len() == real_ids.len() {
            for (page, real) in page_ids.into_iter().zip(real_ids) {
                if !seen.iter().any(|(p, _)| p == page) {
                    seen.push((page.to_owned(), real.to_owned()));
                }
            }
        }
    }
}

#[test]
fn every_console_example_prints_what_its_page_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let mut ran = 0;
    for path in pages() {
        let page = path.strip_prefix(root).unwrap().display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let env = Env::new();
        if env.is_postgres() {
            // The examples show a SQLite store (`info`'s backend, paths).
            return;
        }
        let mut seen = Vec::new();
        for example in examples(&page, &text) {
            let at = format!("{}:{}: $ {}", example.page, example.line, example.command);
            let command = with_ids(&example.command, &seen);
            let Some(words) = words(&command, env.dir.path()) else {
                failures.push(format!(
                    "{at}\n  not a keysmith-only command: mark the block ```sh or ```text"
                ));
                continue;
            };
            let mut cmd = env.command();
            cmd.current_dir(env.dir.path())
                .env_remove("KEYSMITH_DB")
                .env("XDG_DATA_HOME", env.dir.path().join(".local/share"));
            let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            let run = env.run_with(cmd, &args, None);
            ran += 1;
            let Some(expected) = &example.expected else {
                if run.code != 0 {
                    failures.push(format!("{at}\n  a setup line failed: {run:#?}"));
                }
                continue;
            };
            let output = format!("{}{}", run.stdout, run.stderr)
                .replace(env.dir.path().to_str().unwrap(), "/home/alice");
            let actual: Vec<&str> = output.lines().map(str::trim_end).collect();
            let expected: Vec<&str> = expected.iter().map(|l| l.trim_end()).collect();
            learn_ids(&expected, &actual, &mut seen);
            let expected: Vec<String> = expected
                .iter()
                .map(|l| normalized(&with_ids(l, &seen)))
                .collect();
            let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
            let normal: Vec<String> = actual.iter().map(|l| normalized(l)).collect();
            let normal: Vec<&str> = normal.iter().map(String::as_str).collect();
            if !lines_match(&expected, &normal) {
                failures.push(format!(
                    "{at}\n  the page shows:\n    {}\n  the binary printed (exit {}):\n    {}",
                    expected.join("\n    "),
                    run.code,
                    actual.join("\n    ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the console examples differ from the binary:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran >= 20, "only {ran} examples ran: are the pages there?");
}

#[test]
fn the_matcher_takes_wildcards_and_refuses_other_text() {
    assert!(line_matches(
        "Created key [..] (x).",
        "Created key abc (x)."
    ));
    assert!(line_matches("[..]", ""));
    assert!(line_matches("a[..]b[..]c", "a1b2b3c"));
    assert!(!line_matches(
        "Created key [..] (x).",
        "Created key abc (y)."
    ));
    assert!(!line_matches("abc", "abcd"));
    assert!(lines_match(&["a", "...", "z"], &["a", "b", "c", "z"]));
    assert!(lines_match(&["a", "...", "z"], &["a", "z"]));
    assert!(!lines_match(&["a", "z"], &["a", "b", "z"]));
    assert!(!lines_match(&["a"], &["a", "b"]));
    let home = Path::new("/h");
    assert_eq!(
        words(
            r#"keysmith create --name "Data Sync" 'x y' ~/k.db  # note"#,
            home
        )
        .unwrap(),
        [
            "keysmith",
            "create",
            "--name",
            "Data Sync",
            "x y",
            "/h/k.db"
        ]
    );
    assert_eq!(words("echo \"$KEY\" | keysmith verify", home), None);
    assert_eq!(words("keysmith verify < key.txt", home), None);
    assert_eq!(words("cargo test", home), None);
    assert_eq!(
        normalized("ks_OKnjlCW3ValJ_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE1SX369 at 2026-11-23 08:03:04"),
        format!("ks_OKnjlCW3ValJ_{} at 0000-00-00 00:00:00", "*".repeat(38))
    );
    assert_eq!(
        normalized("\"2026-11-23T08:03:04Z\""),
        "\"0000-00-00T00:00:00Z\""
    );
    assert_eq!(normalized("12345-11-23 v1.2:30"), "12345-11-23 v1.2:30");
    assert_eq!(
        ids("ks_OKnjlCW3ValJ_******** t8Qe2LmWv0aB acme_on1WoD8d7LV1_x"),
        ["OKnjlCW3ValJ", "on1WoD8d7LV1"]
    );
}

/// The anchors of a page: its headings, as mdBook and GitHub make them.
fn anchors(text: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut anchors = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if let Some(heading) = line.strip_prefix('#').filter(|_| !in_fence) {
            let title = heading.trim_start_matches('#').trim();
            let anchor = title
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => {
                        Some(c.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect();
            anchors.push(anchor);
        }
    }
    anchors
}

#[test]
fn every_link_between_pages_reaches_a_page_and_its_heading() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    let mut checked = 0;
    // pages() holds docs/src/SUMMARY.md too.
    let mut pages = pages();
    pages.push(root.join("ARCHITECTURE.md"));
    for path in pages {
        let text = std::fs::read_to_string(&path).unwrap();
        let folder = path.parent().unwrap();
        for (at, _) in text.match_indices("](") {
            let target = &text[at + 2..];
            let Some(end) = target.find(')') else {
                continue;
            };
            let target = &target[..end];
            if target.contains("://") || target.contains(' ') {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let page = if file.is_empty() {
                path.clone()
            } else {
                folder.join(file)
            };
            checked += 1;
            let Ok(linked) = std::fs::read_to_string(&page) else {
                broken.push(format!("{}: {target}: no such page", path.display()));
                continue;
            };
            if !anchor.is_empty() && !anchors(&linked).iter().any(|a| a == anchor) {
                broken.push(format!("{}: {target}: no such heading", path.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked >= 50, "only {checked} links checked");
}
