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
        let xvfb = option_env!("KEYSMITH_TEST_XVFB").unwrap_or("Xvfb");
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
        let out = Command::new(option_env!("KEYSMITH_TEST_XCLIP").unwrap_or("xclip"))
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
        let mut xclip = Command::new(option_env!("KEYSMITH_TEST_XCLIP").unwrap_or("xclip"))
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

/// The fields of /proc/PID/stat after the command's name: state, ppid,
/// pgrp, session, ... (empty when the process is gone).
fn stat_fields(pid: i32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Every running pid.
fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
        .collect()
}

/// The children of `parent`.
fn children_of(parent: i32) -> Vec<i32> {
    let parent = parent.to_string();
    all_pids()
        .into_iter()
        .filter(|pid| stat_fields(*pid).get(1) == Some(&parent))
        .collect()
}

/// The pids of the clipboard keepers of the session `session` (the
/// pseudo-terminal's shell): found by their session, which every reader of
/// /proc may see, as they leave their parent's process group.
fn keepers_in_session(session: i32) -> Vec<i32> {
    let session = session.to_string();
    all_pids()
        .into_iter()
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            stat_fields(*pid).get(3) == Some(&session)
                && crate::common::contains(&cmdline, b"clipboard-keeper")
        })
        .collect()
}

/// The soft and hard core limits in /proc/PID/limits (`0`, `unlimited`).
fn core_limits(pid: i32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_else(|| panic!("{limits}"));
    let words: Vec<&str> = line["Max core file size".len()..]
        .split_whitespace()
        .collect();
    (words[0].to_owned(), words[1].to_owned())
}

/// Waits up to 10 s for `pid` to have a core limit of zero.
#[track_caller]
fn assert_core_limit_zero(pid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let limits = core_limits(pid);
        if limits == ("0".into(), "0".into()) {
            return;
        }
        assert!(Instant::now() < deadline, "{what} (pid {pid}): {limits:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `create` and `rotate` from their start, and the keeper `--copy` leaves
/// behind, have a core limit of zero, soft and hard, whatever the shell
/// allowed (`ulimit -c unlimited`); they are also non-dumpable, which
/// `real_core_dumps_are_refused` shows where the host lets it.
#[test]
fn create_rotate_and_the_keeper_have_a_core_limit_of_zero() {
    let env = Env::new();
    let old = Env::id_of(&env.create("old", &[]));
    // create --from - waits for its input: the limit is set already.
    let mut cmd = env.shell("ulimit -c unlimited; exec \"$0\" create --from -");
    // (Its stdout a pipe: to /dev/null, where a key reaches nobody, it
    // would refuse at once.)
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut create = crate::common::spawn(&mut cmd);
    assert_core_limit_zero(create.id() as i32, "create --from -");
    drop(create.stdin.take());
    create.wait().unwrap();

    // rotate at its confirmation prompt, and the keeper of a --copy.
    let mut cmd = env.shell(&format!(
        "echo \"shell $$.\"; ulimit -c unlimited; \"$0\" rotate {old} --copy; echo ROTATED; \
         sleep 20"
    ));
    cmd.env("KEYSMITH_CLIP_TIME", "20");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    let (_, said) = p.exp_regex(r"shell \d+\.").expect("the shell's pid");
    let shell: i32 = said[6..said.len() - 1].parse().unwrap();
    p.exp_string("Rotate").expect("the confirmation");
    let rotate = children_of(shell);
    assert_eq!(rotate.len(), 1, "rotate runs: {rotate:?}");
    assert_core_limit_zero(rotate[0], "rotate");
    p.send_line("y").unwrap();
    p.exp_string("ROTATED").expect("rotate --copy ends");
    let keepers = keepers_in_session(shell);
    assert_eq!(keepers.len(), 1, "{keepers:?}");
    assert_core_limit_zero(keepers[0], "the clipboard keeper");
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(keepers[0]).unwrap(),
        rustix::process::Signal::TERM,
    );
}

/// SIGQUIT under `ulimit -c unlimited`, in a folder of the test's: a
/// `sleep` dumps core there (so the host allows it), the keeper and a
/// `create` waiting for its input do not.
#[test]
#[cfg_attr(
    keysmith_no_core_files,
    ignore = "the kernel's core_pattern does not write a plain core file into the \
              process's folder here (or the hard core limit is 0): see build.rs"
)]
fn real_core_dumps_are_refused() {
    use std::os::unix::process::ExitStatusExt;
    let env = Env::new();
    env.create("first", &[]);
    // `script` is exec'd as the program `comm`, in a folder `name`.
    let quit = |script: &str, comm: &str, name: &str| -> (std::process::ExitStatus, Vec<String>) {
        let dir = env.dir.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        // SIGQUIT back to its default: a shell's background job (a CI
        // runner's, say) starts with it ignored, and that is inherited.
        let mut cmd = env.shell(&format!(
            "ulimit -c unlimited; exec env --default-signal=QUIT {script}"
        ));
        cmd.current_dir(&dir)
            .env("KEYSMITH_CLIP_TIME", "30")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = crate::common::spawn(&mut cmd);
        let pid = child.id() as i32;
        // Signalled once it runs as itself, past the shell's exec.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default()
            != format!("{comm}\n")
        {
            assert!(Instant::now() < deadline, "{script} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid).unwrap(),
            rustix::process::Signal::QUIT,
        );
        let status = child.wait().unwrap();
        let files = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        (status, files)
    };
    // The control: this host writes cores where the test looks.
    let (status, files) = quit("sleep 30", "sleep", "control");
    assert!(status.core_dumped(), "{status:?}");
    assert!(files.iter().any(|f| f.starts_with("core")), "{files:?}");

    for (script, name) in [
        ("\"$0\" clipboard-keeper --terminal --seconds 30", "keeper"),
        ("\"$0\" create --from -", "create"),
    ] {
        let (status, files) = quit(script, "keysmith", name);
        assert_eq!(status.signal(), Some(3), "{name}: {status:?}");
        assert!(!status.core_dumped(), "{name} dumped core");
        assert!(files.is_empty(), "{name}: {files:?}");
    }
}

/// A tmux server of the test's own (its socket in the test's folder, its
/// settings from `conf` alone), killed when dropped.
struct Tmux<'a> {
    env: &'a Env,
    socket: std::path::PathBuf,
}

impl<'a> Tmux<'a> {
    fn new(env: &'a Env) -> Tmux<'a> {
        Tmux {
            env,
            socket: env.dir.path().join("tmux.sock"),
        }
    }

    /// `tmux -S SOCKET` in the harness's environment.
    fn command(&self) -> Command {
        let tmux = option_env!("KEYSMITH_TEST_TMUX").unwrap_or("tmux");
        let mut cmd = self.env.command_of(Path::new(tmux));
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    /// `tmux ARGS` against this server; its stdout.
    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Every paste buffer: (name, content). One deleted between the
    /// listing and its reading (by the keeper) is left out.
    fn buffers(&self) -> Vec<(String, String)> {
        let out = self
            .command()
            .args(["list-buffers", "-F", "#{buffer_name}"])
            .output()
            .expect("run tmux");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|name| {
                let shown = self
                    .command()
                    .args(["show-buffer", "-b", name])
                    .output()
                    .expect("run tmux");
                let content = String::from_utf8(shown.stdout).unwrap();
                shown.status.success().then(|| (name.to_owned(), content))
            })
            .collect()
    }

    fn holding(&self, key: &str) -> Vec<String> {
        self.buffers()
            .into_iter()
            .filter(|(_, content)| content.contains(key))
            .map(|(name, _)| name)
            .collect()
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

/// `--copy` in a real tmux with `set-clipboard on` (the advice of docs/src/commands/create.md):
/// tmux makes the OSC 52 a paste buffer and passes the key on to the
/// terminal it runs in; when KEYSMITH_CLIP_TIME is up no buffer holds the
/// key, the outer terminal's clipboard is overwritten, and a buffer copied
/// meanwhile is left alone. With `set-clipboard external` tmux would drop
/// the key: `--copy` refuses before creating anything.
#[test]
#[cfg_attr(keysmith_no_tmux, ignore = "needs tmux: apt-get install tmux")]
fn inside_tmux_no_paste_buffer_keeps_the_key_after_the_clear_time() {
    let env = Env::new();
    env.create("first", &[]);
    let tmux = Tmux::new(&env);
    let conf = env.dir.path().join("tmux.conf");
    std::fs::write(&conf, "set -s set-clipboard on\n").unwrap();
    let pane = format!("'{BIN}' create --name copied --copy; echo CREATED; sleep 60");
    // The outer terminal, a pseudo-terminal the test reads: an xterm, to
    // which tmux passes OSC 52 on.
    let mut cmd = tmux.command();
    cmd.arg("-f")
        .arg(&conf)
        .args(["new-session", "-x", "120", "-y", "30", &pane])
        .env("TERM", "xterm-256color")
        .env("KEYSMITH_CLIP_TIME", "3");
    let started = Instant::now();
    let mut outer = spawn_command(cmd, Some(20_000)).expect("tmux in a pty");

    // The key arrives as a paste buffer, and verifies.
    let deadline = Instant::now() + Duration::from_secs(10);
    let key = loop {
        let buffers = tmux.buffers();
        if let Some((_, key)) = buffers.iter().find(|(_, c)| c.starts_with("ks_")) {
            break key.clone();
        }
        assert!(Instant::now() < deadline, "no paste buffer: {buffers:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    env.run_stdin(&["verify"], &key).code(0);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
    outer
        .exp_string(&format!("\x1b]52;;{encoded}"))
        .expect("tmux passes the key on to the outer terminal");
    let screen = tmux.run(&["capture-pane", "-p", "-S", "-"]);
    assert!(screen.contains("on the terminal's clipboard"), "{screen}");
    assert!(!screen.contains(&key), "{screen}");
    // Copied meanwhile: not the keeper's to delete.
    tmux.run(&["set-buffer", "-b", "mine", "something else"]);

    // Gone when the time is up (and not before).
    let deadline = Instant::now() + Duration::from_secs(15);
    while !tmux.holding(&key).is_empty() {
        assert!(
            Instant::now() < deadline,
            "tmux still holds the key: {:?}",
            tmux.holding(&key)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(started.elapsed() >= Duration::from_secs(3));
    // The outer terminal's clipboard is overwritten (tmux passes on no
    // empty OSC 52: a single space).
    outer
        .exp_string("\x1b]52;;IA==")
        .expect("the outer clipboard is overwritten");
    let buffers = tmux.buffers();
    assert_eq!(
        buffers,
        [("mine".to_owned(), "something else".to_owned())],
        "only the buffer copied meanwhile is left"
    );

    // With `external`, tmux would drop the sequence: refused, nothing made;
    // and a display that fails does not give way to it: the key is taken back.
    tmux.run(&["set", "-s", "set-clipboard", "external"]);
    for (name, display, said) in [
        ("refused", "", "set-clipboard on"),
        (
            "fallback",
            "DISPLAY=:1999 ",
            "was removed, as nobody received it",
        ),
    ] {
        let result = env.dir.path().join(name);
        let pane = format!(
            "{display}'{BIN}' create --name {name} --copy 2>'{0}.err'; echo $? >'{0}.code'",
            result.display()
        );
        tmux.run(&["new-window", &pane]);
        let code = result.with_extension("code");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&code).map_or(true, |c| !c.ends_with('\n')) {
            assert!(Instant::now() < deadline, "{name}: create did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(std::fs::read_to_string(&code).unwrap(), "2\n", "{name}");
        let err = std::fs::read_to_string(result.with_extension("err")).unwrap();
        assert!(err.contains(said), "{name}: {err}");
        assert_eq!(
            env.query_i64("SELECT count(*) FROM keys WHERE name = $1", &[name]),
            0,
            "{name}"
        );
    }
    assert!(tmux.buffers().iter().all(|(_, c)| !c.starts_with("ks_")));
}
