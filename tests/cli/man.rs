//! `keysmith man`: keysmith(1) on stdout, one subcommand's page, or every
//! page written into a folder; valid roff that `man` renders.

use std::path::Path;

use crate::common::Env;

/// Roff's form of a name: every `-` escaped.
fn roff(text: &str) -> String {
    text.replace('-', r"\-")
}

#[test]
fn keysmith_1_is_roff_naming_every_subcommand() {
    let env = Env::new();
    let run = env.run(&["man"]).code(0);
    assert_eq!(run.stderr, "");
    let page = &run.stdout;
    assert!(
        page.lines().any(|l| l.starts_with(".TH KEYSMITH 1 ")),
        "{page}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS"] {
        assert!(page.contains(section), "{section}: {page}");
    }
    assert!(page.contains(".SH \"GLOBAL OPTIONS\""), "{page}");
    let subs = env.subcommands();
    assert!(subs.len() >= 15, "{subs:?}");
    for sub in &subs {
        assert!(
            page.contains(&roff(&format!("keysmith-{sub}(1)"))),
            "{sub}: {page}"
        );
    }
    // Every line is a request, or text that cannot be taken for one.
    for line in page.lines() {
        assert!(
            !line.starts_with('\'') && !line.contains('\u{1b}'),
            "{line}"
        );
    }
}

#[test]
fn a_subcommand_s_page_has_its_options_and_examples() {
    let env = Env::new();
    let page = env.run(&["man", "create"]).code(0).stdout;
    assert!(page.contains(".TH KEYSMITH-CREATE 1 "), "{page}");
    assert!(page.contains(&roff("--expires-in")), "{page}");
    let examples = page.split(".SH EXAMPLES").nth(1).expect("EXAMPLES");
    assert!(
        examples.contains(&roff("KEY=$(keysmith create --name ci --expires-in 30d)")),
        "{examples}"
    );
    assert!(examples.contains(".SH \"SEE ALSO\"\n\\fBkeysmith\\fR(1)"));
    // The help's styled heading is not carried into the page.
    assert!(!page.contains("Examples:") && !page.contains('\u{1b}'));

    env.run(&["man", "nope"]).error(2, "no subcommand 'nope'");
    env.run(&["man", "create", "--dir", "x"]).code(2);
    assert!(!env.dir.path().join("x").exists());
}

#[test]
fn dir_writes_a_page_per_subcommand() {
    let env = Env::new();
    let dir = env.dir.path().join("share").join("man").join("man1");
    let shown = dir.to_str().unwrap();
    let run = env.run(&["man", "--dir", shown]).code(0);
    assert_eq!(run.stdout, "");
    let subs = env.subcommands();
    assert_eq!(
        run.stderr.trim_end(),
        format!("Wrote {} manual pages to {shown}", subs.len() + 1)
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = subs.iter().map(|s| format!("keysmith-{s}.1")).collect();
    expected.push("keysmith.1".into());
    expected.sort();
    assert_eq!(names, expected);
    // Each file is the page `keysmith man SUB` prints.
    for sub in &subs {
        let file = std::fs::read_to_string(dir.join(format!("keysmith-{sub}.1"))).unwrap();
        assert_eq!(file, env.run(&["man", sub]).code(0).stdout, "{sub}");
    }
    let top = std::fs::read_to_string(dir.join("keysmith.1")).unwrap();
    assert_eq!(top, env.run(&["man"]).code(0).stdout);

    // Again, over the pages already there; --json lists them.
    let again = env.run(&["--json", "man", "--dir", shown]).code(0).json();
    assert_eq!(again["dir"], shown);
    assert_eq!(again["pages"].as_array().unwrap().len(), subs.len() + 1);
    assert_eq!(again["pages"][0], "keysmith.1");
}

#[test]
fn a_dir_that_cannot_take_the_pages_is_one_error_line() {
    let env = Env::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let run = env
        .run(&["man", "--dir", file.to_str().unwrap()])
        .error(2, "is not a folder");
    assert_eq!(run.stdout, "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
    // A folder below a file cannot be made.
    let below = file.join("man1");
    env.run(&["man", "--dir", below.to_str().unwrap()])
        .error(2, "cannot write the manual pages into");
    assert!(!Path::new(&below).exists());
}

/// Each page through man(1) itself, with every groff warning on: nothing
/// to warn about, and the examples come out whole, one to a line.
#[test]
#[cfg_attr(keysmith_no_man, ignore = "needs man(1) on PATH (Debian's man-db)")]
fn man_renders_every_page_without_a_warning() {
    let env = Env::new();
    let dir = env.dir.path().join("man1");
    env.run(&["man", "--dir", dir.to_str().unwrap()]).code(0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let page = entry.unwrap().path();
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(&page)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("MANWIDTH", "80")
            .env("MANROFFOPT", "-ww")
            .env("LANG", "C.UTF-8")
            .output()
            .expect("run man");
        let text = String::from_utf8_lossy(&out.stdout);
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{page:?}: {warnings}");
        assert_eq!(warnings, "", "{page:?}");
        assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
        for section in ["EXIT STATUS", "ENVIRONMENT", "FILES"] {
            assert!(text.lines().any(|l| l == section), "{section}: {text}");
        }
        if page.ends_with("keysmith-create.1") {
            let synopsis: String = text
                .lines()
                .skip_while(|l| *l != "SYNOPSIS")
                .skip(1)
                .take_while(|l| !l.is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            for shown in ["[--name NAME]", "[--scope SCOPE] ...", "[--db PATH|URL]"] {
                assert!(synopsis.contains(shown), "{shown} in {synopsis}");
            }
            let line =
                "keysmith create --name \"billing webhook\" --service billing --expires-in 90d";
            assert!(
                text.lines().any(|l| l.trim() == line),
                "an example is one line, unwrapped:\n{text}"
            );
        }
    }
}

/// A symlink planted in the folder under a page's name (a shared man
/// folder, docs/src/commands/man.md's `sudo keysmith man --dir`) is replaced by the page;
/// the file it pointed at, outside the folder, keeps every byte.
#[test]
fn dir_replaces_a_planted_symlink_instead_of_writing_through_it() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let dir = env.dir.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let outside = env.dir.path().join("precious.conf");
    std::fs::write(&outside, "root-owned settings\n").unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
    let planted = dir.join("keysmith-create.1");
    std::os::unix::fs::symlink(&outside, &planted).unwrap();
    // A dangling one too: following it would make a file outside.
    let dangling = env.dir.path().join("made-outside");
    std::os::unix::fs::symlink(&dangling, dir.join("keysmith.1")).unwrap();

    env.run(&["man", "--dir", dir.to_str().unwrap()]).code(0);
    let probe = env.dir.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "root-owned settings\n"
    );
    assert!(!dangling.exists());
    for page in [&planted, &dir.join("keysmith.1")] {
        let meta = std::fs::symlink_metadata(page).unwrap();
        assert!(meta.file_type().is_file(), "{page:?} is a regular file");
        // The mode a page written in place had: 0666 less the umask.
        assert_eq!(
            meta.permissions().mode() & 0o777,
            crate::common::mode(&probe),
            "{page:?}"
        );
    }
    let page = std::fs::read_to_string(&planted).unwrap();
    assert_eq!(page, env.run(&["man", "create"]).code(0).stdout);
    // Nothing left behind but the pages.
    let names = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap());
    for name in names {
        assert!(name.ends_with(".1") && !name.starts_with('.'), "{name}");
    }
}

/// Every page has the sections a manual page is read for (EXIT STATUS,
/// ENVIRONMENT, FILES), and its SYNOPSIS gives each option its value.
#[test]
fn every_page_has_exit_status_environment_files_and_a_synopsis_with_values() {
    let env = Env::new();
    let mut pages = vec![(String::from("keysmith"), env.run(&["man"]).code(0).stdout)];
    for sub in env.subcommands() {
        let page = env.run(&["man", &sub]).code(0).stdout;
        pages.push((sub, page));
    }
    for (name, page) in &pages {
        let sections: Vec<&str> = page.lines().filter(|l| l.starts_with(".SH ")).collect();
        let at = |title: &str| {
            sections
                .iter()
                .position(|s| *s == title)
                .unwrap_or_else(|| panic!("{name}: no {title} in {sections:?}"))
        };
        // In the order man-pages(7) gives them.
        let order = [
            at(".SH NAME"),
            at(".SH SYNOPSIS"),
            at(".SH DESCRIPTION"),
            at(".SH \"EXIT STATUS\""),
            at(".SH ENVIRONMENT"),
            at(".SH FILES"),
        ];
        if name != "keysmith" {
            assert!(at(".SH FILES") < at(".SH EXAMPLES"), "{name}: {sections:?}");
        }
        assert!(order.is_sorted(), "{name}: {sections:?}");
        for code in ["0", "1", "2", "3", "4"] {
            let exit = page.split(".SH \"EXIT STATUS\"").nth(1).unwrap();
            assert!(
                exit.contains(&format!(".TP\n\\fB{code}\\fR\n")),
                "{name}: {exit}"
            );
        }
        for var in [
            "KEYSMITH_DB",
            "KEYSMITH_PREFIX",
            "KEYSMITH_CLIP_TIME",
            "NO_COLOR",
        ] {
            assert!(page.contains(&format!("\\fB{var}\\fR")), "{name}: {var}");
        }
        assert!(page.contains("keysmith/keys.db"), "{name}");
    }
    let synopsis = |page: &str| -> Vec<String> {
        let at = page.find(".SH SYNOPSIS\n").unwrap() + 13;
        page[at..]
            .lines()
            .take_while(|l| !l.starts_with(".SH"))
            .map(str::to_owned)
            .collect()
    };
    let create = &pages.iter().find(|(n, _)| n == "create").unwrap().1;
    let lines = synopsis(create);
    assert_eq!(lines[0], ".SY \"keysmith create\"", "{lines:?}");
    assert_eq!(lines.last().unwrap(), ".YS", "{lines:?}");
    let at = |line: &str| {
        lines
            .iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("{line} in {lines:?}"))
    };
    // Each option whole, with its value.
    at(r".OP \-\-name NAME");
    at(r".OP \-\-rate N/DURATION");
    at(r".OP \-y|\-\-yes");
    assert_eq!(lines[at(r".OP \-\-scope SCOPE") + 1], r"\&...");
    // The subcommand's own options come before the global ones.
    assert!(at(r".OP \-\-name NAME") < at(r".OP \-\-db PATH|URL"));
    assert!(at(r".OP \-\-from FILE") < at(r".OP \-\-json"));
    let migrate = &pages.iter().find(|(n, _)| n == "migrate").unwrap().1;
    assert!(
        synopsis(migrate).contains(&r"\fB\-\-to\fR\~\fIURL|PATH\fR".to_owned()),
        "a required option has no brackets: {:?}",
        synopsis(migrate)
    );
    let show = &pages.iter().find(|(n, _)| n == "show").unwrap().1;
    assert!(synopsis(show).contains(&r"\fIKEY\fR".to_owned()));
    let scan = &pages.iter().find(|(n, _)| n == "scan").unwrap().1;
    assert!(synopsis(scan).contains(&r"[\fIPATH\fR]\&...".to_owned()));
    let top = &pages[0].1;
    assert!(synopsis(top).contains(&r"\fICOMMAND\fR".to_owned()));
}
