//! The input rules (`crate::input`) as clap value parsers: a flag's type
//! alone says its rule (`pub uses: Option<Uses>`), and a refusal is one
//! `error:` line, as every error is (docs/src/exit-codes.md).

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::str::FromStr;

use crate::input::{
    Action, AllowIp, ClientIp, Cost, Description, Duration, Invalid, Meta, Name, Owner, Prefix,
    Rate, RefillSpec, Scope, Service, SubsecondDuration, Uses,
};

/// clap's value parser of an input rule: the refusal is clap's error line
/// as the rule words it (exit 2, docs/src/exit-codes.md), naming the flag
/// where the rule is named by its source, and never quoting the value
/// (it could be a key).
pub struct RuleParser<T>(PhantomData<fn() -> T>);

impl<T> Clone for RuleParser<T> {
    fn clone(&self) -> Self {
        RuleParser(PhantomData)
    }
}

impl<T> clap::builder::TypedValueParser for RuleParser<T>
where
    T: FromStr<Err = Invalid> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let flag = arg
            .and_then(clap::Arg::get_long)
            .map(|long| format!("--{long}"));
        let refuse = |e: Invalid| {
            let e = match &flag {
                Some(flag) => e.or_field(flag.clone()),
                None => e,
            };
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e}\n"))
        };
        match value.to_str() {
            Some(text) => text.parse().map_err(refuse),
            None => Err(refuse(Invalid::not_utf8())),
        }
    }
}

/// Makes each rule's type a clap value parser by its type alone.
macro_rules! value_parser_of {
    ($($rule:ty),+ $(,)?) => {$(
        impl clap::builder::ValueParserFactory for $rule {
            type Parser = RuleParser<$rule>;
            fn value_parser() -> Self::Parser {
                RuleParser(PhantomData)
            }
        }
    )+};
}

value_parser_of!(
    Name,
    Description,
    Service,
    Prefix,
    Scope,
    Duration,
    SubsecondDuration,
    Uses,
    Rate,
    Action,
    Owner,
    Meta,
    Cost,
    RefillSpec,
    AllowIp,
    ClientIp
);
