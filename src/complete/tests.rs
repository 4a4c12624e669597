use super::*;
use candidates::{key_candidates, service_candidates};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter};

fn line(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

#[test]
fn db_is_read_from_the_line() {
    let fish = OsStr::new("fish");
    let bash = OsStr::new("bash");
    let db = |shell, words: &[&str]| db_on_line(&line(words), shell);
    assert_eq!(db(fish, &["keysmith", "show", ""]), None);
    assert_eq!(
        db(fish, &["keysmith", "--db", "/a", "show", ""]).as_deref(),
        Some("/a")
    );
    assert_eq!(
        db(fish, &["keysmith", "show", "--db=/b", ""]).as_deref(),
        Some("/b")
    );
    assert_eq!(
        db(fish, &["keysmith", "--db", "/a", "show", "--db", "/c", ""]).as_deref(),
        Some("/c")
    );
    // After `--` a word is a value, not a flag.
    assert_eq!(db(fish, &["keysmith", "show", "--", "--db", "/a"]), None);
    // `--db` as the word being typed names nothing yet.
    assert_eq!(db(fish, &["keysmith", "show", "--db"]), None);
    assert_eq!(
        db(bash, &["keysmith", "--db", "'my keys.db'", "show"]).as_deref(),
        Some("my keys.db")
    );
    assert_eq!(
        db(bash, &["keysmith", "--db", r"my\ keys.db", "show"]).as_deref(),
        Some("my keys.db")
    );
    // Fish has unquoted the word already.
    assert_eq!(
        db(fish, &["keysmith", "--db", r"a\b", "show"]).as_deref(),
        Some(r"a\b")
    );
}

#[test]
fn bash_words_are_glued_back_at_its_word_breaks() {
    let glued = |words: &[&str], index| {
        let (words, at, before) = glue(&line(words), index);
        let words: Vec<String> = words.iter().map(|w| w.to_string_lossy().into()).collect();
        (words, at, before)
    };
    assert_eq!(
        glued(&["keysmith", "show", "--db", "=", "/x", ""], 5),
        (
            line_s(&["keysmith", "show", "--db=/x", ""]),
            3,
            String::new()
        )
    );
    assert_eq!(
        glued(
            &[
                "keysmith", "--db", "postgres", ":", "//u", ":", "p", "@", "h", ":", "5432/k",
                "show", ""
            ],
            12
        ),
        (
            line_s(&["keysmith", "--db", "postgres://u:p@h:5432/k", "show", ""]),
            4,
            String::new()
        )
    );
    // The word being typed follows a `=`: the candidates will start
    // with `--service=`, which bash already has.
    assert_eq!(
        glued(&["keysmith", "list", "--service", "=", "b"], 4),
        (
            line_s(&["keysmith", "list", "--service=b"]),
            2,
            "--service=".into()
        )
    );
    // It is the `=` itself.
    assert_eq!(
        glued(&["keysmith", "list", "--service", "="], 3),
        (
            line_s(&["keysmith", "list", "--service="]),
            2,
            "--service".into()
        )
    );
    let args = line(&["keysmith", "--db", "=", "/x", "show"]);
    assert_eq!(
        db_on_line(&glue(&args, usize::MAX).0, OsStr::new("bash")).as_deref(),
        Some("/x")
    );
}

fn line_s(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn words_follow_the_escape() {
    let args = line(&["/bin/keysmith", "--", "keysmith", "show", ""]);
    assert_eq!(words(&args), &line(&["keysmith", "show", ""])[..]);
    assert!(words(&line(&["/bin/keysmith"])).is_empty());
}

/// Every argument the tables name exists, and every `--service` and
/// every `<KEY>` selector has a completer, so a new subcommand cannot
/// be forgotten.
#[test]
fn completers_cover_every_selector_and_service() {
    let cmd = command(Some("/nonexistent/keysmith-test.db".into()), Quoting::Shell);
    let mut keys = Vec::new();
    let mut services = Vec::new();
    for sub in cmd.get_subcommands() {
        for arg in sub.get_arguments() {
            let completes = arg.get::<ArgValueCandidates>().is_some()
                || arg.get::<ArgValueCompleter>().is_some();
            match arg.get_id().as_str() {
                "key" if sub.get_name() != "verify" => {
                    assert!(completes, "{} <KEY> completes", sub.get_name());
                    keys.push(sub.get_name().to_owned());
                }
                "service" => {
                    assert!(completes, "{} --service completes", sub.get_name());
                    services.push(sub.get_name().to_owned());
                }
                _ => assert!(!completes, "{} {}", sub.get_name(), arg.get_id()),
            }
        }
    }
    assert_eq!(
        keys,
        [
            "enable", "disable", "show", "edit", "rotate", "delete", "history"
        ]
    );
    assert_eq!(services, ["create", "list", "verify", "edit"]);
}

#[test]
fn a_missing_store_offers_nothing_and_stays_missing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let db_text = db.to_str().unwrap().to_owned();
    let nothing = OsStr::new("");
    assert!(key_candidates(Some(db_text.clone()), None, nothing, Quoting::Shell).is_empty());
    assert!(service_candidates(Some(db_text)).is_empty());
    assert!(!db.exists());
}
