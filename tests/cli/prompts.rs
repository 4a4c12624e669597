//! Prompts as a person sees them: in a real terminal (tmux) 80 columns
//! wide, with names long enough to wrap, read back from tmux's screen
//! (issue 24, item 9: nothing drawn twice, no message overwritten, Ctrl-C
//! ends on a line of its own).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::Env;

/// A tmux server of the test's own (its own socket), 80×24, running one
/// keysmith command in the test's environment.
struct Screen {
    socket: PathBuf,
}

impl Screen {
    fn start(env: &Env, args: &[&str]) -> Screen {
        // A socket, so a server, per screen: a server just told to end may
        // still hold the previous one.
        static SCREENS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SCREENS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let socket = env.dir.path().join(format!("tmux-{n}.sock"));
        // The command's environment, as the harness gives it, in a script:
        // tmux starts it from its server's environment otherwise.
        let probe = env.command();
        // The shell outlives a Ctrl-C meant for keysmith, to say how it ended.
        let mut script = String::from("#!/bin/sh\ntrap : INT\n");
        for (name, value) in probe.get_envs() {
            if let Some(value) = value {
                script.push_str(&format!(
                    "export {}='{}'\n",
                    name.to_string_lossy(),
                    value.to_string_lossy().replace('\'', "'\\''")
                ));
            }
        }
        script.push_str("export TERM=screen\n");
        script.push_str(&format!("'{}'", env!("CARGO_BIN_EXE_keysmith")));
        for arg in args {
            script.push_str(&format!(" '{}'", arg.replace('\'', "'\\''")));
        }
        script.push_str("\necho \"exit=$?\"\nsleep 60\n");
        let file = env.dir.path().join(format!("run-{n}.sh"));
        std::fs::write(&file, script).unwrap();
        let screen = Screen { socket };
        screen
            .tmux(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
            ])
            .arg("sh")
            .arg(&file)
            .status()
            .map(|s| assert!(s.success()))
            .unwrap();
        screen
    }

    fn tmux(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(option_env!("KEYSMITH_TEST_TMUX").unwrap_or("tmux"));
        cmd.arg("-S").arg(&self.socket).args(args);
        cmd
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status().unwrap().success());
    }

    /// The screen's text, wrapped rows joined (`-J`), trailing blanks cut.
    fn text(&self) -> String {
        let out = self
            .tmux(&["capture-pane", "-p", "-J", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end()
            .to_owned()
    }

    /// Waits until the screen shows `text`; the screen then.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.text();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]).output();
    }
}

fn long_name() -> String {
    "Billing webhook for the European payments region, rotated every quarter by the on-call team"
        .to_owned()
}

#[test]
#[cfg_attr(
    keysmith_no_tmux,
    ignore = "needs tmux (apt-get install tmux; .ci/run does)"
)]
fn a_confirmation_about_a_long_name_is_drawn_once() {
    let env = Env::new();
    let id = Env::id_of(&env.create(&long_name(), &[]));
    for (command, question) in [
        ("rotate", "Rotate it? [y/N]"),
        ("delete", "Delete it? [y/N]"),
    ] {
        let screen = Screen::start(&env, &[command, &id]);
        screen.wait_for(question);
        // A key that is no answer, then the answer.
        screen.send(&["x", "Enter"]);
        screen.wait_for("Please answer y or n.");
        screen.send(&["n", "Enter"]);
        let text = screen.wait_for("exit=1");
        assert_eq!(text.matches(&long_name()).count(), 1, "{command}:\n{text}");
        assert_eq!(text.matches(question).count(), 2, "{command}:\n{text}");
        assert!(
            text.contains(&format!(
                "{question} x\nPlease answer y or n.\n{question} n"
            )),
            "{command}:\n{text}"
        );
        assert!(
            text.contains("error: cancelled: nothing was changed"),
            "{text}"
        );
    }
    assert_eq!(env.count("keys"), 1);
}

#[test]
#[cfg_attr(
    keysmith_no_tmux,
    ignore = "needs tmux (apt-get install tmux; .ci/run does)"
)]
fn a_rejected_answer_keeps_its_message_whole_and_ctrl_c_ends_on_a_new_line() {
    let env = Env::new();
    let screen = Screen::start(&env, &["create"]);
    screen.wait_for("Name:");
    let too_long = "n".repeat(150);
    screen.send(&[&too_long, "Enter"]);
    let text = screen.wait_for("(newline, tab, escape...)");
    // The whole message, then the question again below it.
    let message = text
        .lines()
        .find(|l| l.starts_with("error: invalid name"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(message.ends_with("(newline, tab, escape...)"), "{text}");
    assert!(text.ends_with("(newline, tab, escape...)\nName:"), "{text}");
    screen.send(&["C-c"]);
    let text = screen.wait_for("exit=1");
    // The prompt's line holds the prompt and the terminal's echo of ^C
    // only; what follows is on lines of its own.
    let last_prompt = text.lines().rfind(|l| l.starts_with("Name:")).unwrap();
    assert_eq!(
        last_prompt.trim_end_matches("^C").trim_end(),
        "Name:",
        "{text}"
    );
    assert!(text.ends_with(&format!("{last_prompt}\nexit=1")), "{text}");
    assert!(!env.store_exists(), "a cancelled create makes no store");
}
