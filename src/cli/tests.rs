use clap::CommandFactory;

#[test]
fn cli_definition_is_consistent() {
    super::Cli::command().debug_assert();
}
