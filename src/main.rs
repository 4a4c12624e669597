fn main() -> std::process::ExitCode {
    keysmith::run(std::env::args_os())
}
