//! `create --copy` and `rotate --copy`: the key goes to the clipboard, not
//! the terminal, and is cleared after `KEYSMITH_CLIP_TIME` seconds: the
//! terminal's clipboard by OSC 52 through a pseudo-terminal, the system
//! clipboard on a real X server (Xvfb), and no key left live when it
//! could not be copied.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use rexpect::session::spawn_command;

use crate::common::{BIN, Env};

/// `keysmith ARGS` in a new session, without a controlling terminal (so
/// without `/dev/tty`), whatever runs the tests.
fn detached(env: &Env) -> Command {
    let mut cmd = env.command_of(Path::new("setsid"));
    cmd.arg("-w").arg(BIN);
    cmd
}

fn live_keys(env: &Env) -> i64 {
    env.query_i64("SELECT count(*) FROM keys WHERE NOT disabled", &[])
}

#[test]
fn copy_needs_a_clipboard_and_creates_nothing_without_one() {
    let env = Env::new();
    let old = Env::id_of(&env.create("old", &[]));
    // No display, no terminal: refused before anything is made.
    for args in [
        &["create", "--name", "x", "--copy"][..],
        &["rotate", &old, "--yes", "--copy"],
    ] {
        env.run_with(detached(&env), args, None)
            .error(2, "--copy needs a clipboard");
    }
    assert_eq!(env.count("keys"), 1);
    assert_eq!(
        env.query_i64("SELECT count(*) FROM keys WHERE replaced_by IS NULL", &[]),
        1
    );
    // --json would print the key; --from prints keys too.
    env.run(&["--json", "create", "--name", "x", "--copy"])
        .error(2, "--json");
    env.run_stdin(&["create", "--from", "-", "--copy"], "{\"name\": \"x\"}\n")
        .code(2);
    assert_eq!(env.count("keys"), 1);
    // A bad clear time is a usage error too.
    let mut cmd = detached(&env);
    cmd.env("KEYSMITH_CLIP_TIME", "soon");
    env.run_with(cmd, &["create", "--name", "x", "--copy"], None)
        .error(2, "KEYSMITH_CLIP_TIME");
}

#[test]
fn a_display_that_cannot_be_reached_takes_the_key_back() {
    let env = Env::new();
    let old = Env::id_of(&env.create("old", &[]));
    let with_dead_display = || {
        let mut cmd = detached(&env);
        cmd.env("DISPLAY", ":1999");
        cmd
    };
    let run = env
        .run_with(
            with_dead_display(),
            &["create", "--name", "x", "--copy"],
            None,
        )
        .error(2, "was removed, as nobody received it");
    assert_eq!(run.stdout, "");
    assert_eq!(env.count("keys"), 1, "the new key is gone");
    env.run_with(
        with_dead_display(),
        &["rotate", &old, "--yes", "--copy"],
        None,
    )
    .error(2, "rotation of key");
    assert_eq!(live_keys(&env), 1);
    assert_eq!(
        env.query_i64("SELECT count(*) FROM keys WHERE replaced_by IS NULL", &[]),
        1
    );
}

/// The key in the first OSC 52 sequence of `screen`, decoded.
fn osc52_key(screen: &str) -> String {
    let start = screen.find("\x1b]52;c;").expect("an OSC 52 sequence") + 7;
    let end = start + screen[start..].find('\x07').expect("its end");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&screen[start..end])
        .expect("base64");
    String::from_utf8(bytes).unwrap()
}

#[test]
fn on_a_terminal_without_a_display_the_key_goes_by_osc52_and_is_cleared() {
    let env = Env::new();
    let old_key = env.create("old", &[]);
    let old = Env::id_of(&old_key);
    // The shell stays on the terminal while the keeper waits, as a user's does.
    let mut cmd = env.shell(&format!(
        "stty cols 100 rows 30; \"$0\" create --name copied --copy; echo CREATED; \
         \"$0\" rotate {old} --yes --copy; echo ROTATED; sleep 8"
    ));
    cmd.env("KEYSMITH_CLIP_TIME", "2").env("NO_COLOR", "1");
    let started = Instant::now();
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    let created = p.exp_string("CREATED").expect("create --copy ends");
    let new_key = osc52_key(&created);
    assert!(new_key.starts_with("ks_"), "{created:?}");
    assert!(created.contains("terminal's clipboard"), "{created:?}");
    // On the clipboard only: not on the screen.
    assert_eq!(created.matches(&new_key).count(), 0, "{created:?}");
    env.run_stdin(&["verify"], &new_key).code(0);

    let rotated = p.exp_string("ROTATED").expect("rotate --copy ends");
    let replacement = osc52_key(&rotated);
    assert_ne!(replacement, new_key);
    assert!(!rotated.contains(&replacement));
    env.run_stdin(&["verify"], &replacement).code(0);
    env.run_stdin(&["verify"], &old_key).code(1);

    // Cleared (an empty OSC 52) once the time is up, not before.
    p.exp_string("\x1b]52;c;\x07")
        .expect("the clipboard is cleared");
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[test]
fn a_display_that_cannot_be_reached_gives_way_to_the_terminal() {
    let env = Env::new();
    let mut cmd = env.shell("\"$0\" create --name fallback --copy; echo DONE");
    cmd.env("DISPLAY", ":1999").env("KEYSMITH_CLIP_TIME", "1");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    let screen = p.exp_string("DONE").expect("create --copy ends");
    assert!(screen.contains("terminal's clipboard"), "{screen:?}");
    let key = osc52_key(&screen);
    assert!(!screen.contains(&key));
    env.run_stdin(&["verify"], &key).code(0);
}

/// A throwaway X server on a free display, stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        let xvfb = env!("KEYSMITH_TEST_XVFB");
        for n in 120..400 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let mut child = Command::new(xvfb)
                .args([&display, "-nolisten", "tcp", "-screen", "0", "640x480x24"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start Xvfb");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    return Xvfb { child, display };
                }
                if child.try_wait().unwrap().is_some() {
                    break; // taken meanwhile: try the next one
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("no free X display");
    }

    /// What the CLIPBOARD selection holds now (None: nobody holds it).
    fn clipboard(&self) -> Option<String> {
        let out = Command::new(env!("KEYSMITH_TEST_XCLIP"))
            .args(["-o", "-selection", "clipboard"])
            .env("DISPLAY", &self.display)
            .stderr(Stdio::null())
            .output()
            .expect("xclip");
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }

    /// Copies `text` as another program would (xclip holds it meanwhile).
    fn copy(&self, text: &str) {
        let mut xclip = Command::new(env!("KEYSMITH_TEST_XCLIP"))
            .args(["-i", "-selection", "clipboard"])
            .env("DISPLAY", &self.display)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("xclip");
        use std::io::Write;
        xclip
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        xclip.wait().unwrap();
    }

    fn wait_for(&self, want: Option<&str>, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            let now = self.clipboard();
            if now.as_deref() == want || Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[cfg_attr(
    keysmith_no_xvfb,
    ignore = "needs Xvfb and xclip: apt-get install xvfb xclip"
)]
fn with_a_display_the_key_goes_to_the_system_clipboard_and_is_cleared() {
    let x = Xvfb::start();
    let env = Env::new();
    let old = Env::id_of(&env.create("old", &[]));
    let copying = || {
        let mut cmd = detached(&env);
        cmd.env("DISPLAY", &x.display)
            .env("KEYSMITH_CLIP_TIME", "2");
        cmd
    };
    let run = env
        .run_with(copying(), &["create", "--name", "copied", "--copy"], None)
        .code(0);
    assert_eq!(run.stdout, "", "stdout gets no key");
    assert!(run.stderr.contains("on the clipboard for 2 s"), "{run:#?}");
    let key = x.clipboard().expect("the clipboard holds the key");
    assert!(!run.stderr.contains(&key));
    env.run_stdin(&["verify"], &key).code(0);
    assert_eq!(
        env.run(&["--json", "show", &Env::id_of(&key)])
            .code(0)
            .json()["name"],
        "copied"
    );
    // Cleared when the time is up.
    assert_eq!(x.wait_for(None, Duration::from_secs(6)), None);

    // Something copied since is left alone.
    env.run_with(copying(), &["create", "--name", "second", "--copy"], None)
        .code(0);
    assert!(x.clipboard().is_some_and(|k| k.starts_with("ks_")));
    x.copy("something else");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(x.clipboard().as_deref(), Some("something else"));

    // rotate --copy: the replacement on the clipboard, the old key retired.
    env.run_with(copying(), &["rotate", &old, "--yes", "--copy"], None)
        .code(0);
    let replacement = x.clipboard().expect("the replacement");
    env.run_stdin(&["verify"], &replacement).code(0);
    assert_eq!(
        env.run(&["--json", "show", &old]).code(0).json()["replaced_by"],
        Env::id_of(&replacement)
    );
}
