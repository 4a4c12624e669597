//! keysmith's behaviour, checked through the built binary.

mod bulk;
mod clipboard;
mod color;
mod common;
mod completions;
mod create;
mod delivery;
mod gateway;
mod harness;
mod help;
mod input_rules;
mod interactive;
mod lifecycle;
mod limits;
mod list;
mod list_terminal;
mod man;
mod migrate;
mod postgres;
mod reliability;
mod scan;
mod select;
mod serve;
mod store_file;
mod verify;
