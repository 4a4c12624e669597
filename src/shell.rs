//! Text for a POSIX shell: a path shown in a command to copy and run
//! (`chmod 600 ...`).

/// `path` as one word for a POSIX shell: in single quotes, each `'` written
/// `'\''`; a leading `-` behind `./`, so that it is not read as an option.
pub(crate) fn shell_word(path: &str) -> String {
    let path = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_owned()
    };
    format!("'{}'", path.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_is_one_shell_word() {
        assert_eq!(super::shell_word("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(super::shell_word("-x.db"), "'./-x.db'");
        assert_eq!(super::shell_word("$HOME `x`"), "'$HOME `x`'");
    }
}
