//! Keeping new keys out of core files. A process that holds a key it made
//! (`create`, `rotate`) or keeps (the clipboard keeper) turns off its own
//! core dumps first: a core limit of zero, which a child it starts cannot
//! raise either, and the kernel's dumpable flag off, which also stops a
//! core piped to a crash handler (that ignores the limit) and another
//! process of the same user attaching to read its memory.
//! docs/src/security.md.

/// Best effort: where the kernel refuses, the process goes on as before.
pub fn no_core_dumps() {
    let none = rustix::process::Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    let _ = rustix::process::setrlimit(rustix::process::Resource::Core, none);
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}
