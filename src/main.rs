//! The `keysmith` binary: a process entry point around `keysmith::run_code`.
//!
//! On Linux with glibc it is the C `main` itself (`no_main`), not Rust's
//! runtime start, which reads and parses `/proc/self/maps` to place the main
//! thread's stack guard and maps a signal stack: about a tenth of the
//! start-up of every command (BENCHMARKS.md). What keysmith needs of that
//! start is done here: stdin, stdout and stderr are open (so no file keysmith
//! opens can take their place), a closed pipe is an error to handle rather
//! than a fatal SIGPIPE, a panic exits 101, and stdout is flushed at the end.
//! (glibc hands Rust the arguments either way.)
#![cfg_attr(all(target_os = "linux", target_env = "gnu"), no_main)]

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: plain libc calls at the very start, while no other thread exists.
    unsafe {
        for fd in 0..3 {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                // Takes the lowest free descriptor: the one that was closed.
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let code = std::panic::catch_unwind(|| keysmith::run_code(std::env::args_os())).unwrap_or(101);
    let _ = std::io::Write::flush(&mut std::io::stdout());
    libc::c_int::from(code)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() -> std::process::ExitCode {
    keysmith::run(std::env::args_os())
}
