//! The input rules' unit tests; the helpers read each rule as the
//! command line does, by its type.

use super::*;
use proptest::prelude::*;

fn duration(_field: &str, raw: &str) -> Result<i64, Invalid> {
    raw.parse::<Duration>().map(Duration::seconds)
}

fn uses(_field: &str, raw: &str) -> Result<i64, Invalid> {
    raw.parse::<Uses>().map(|u| u.0)
}

fn rate(_field: &str, raw: &str) -> Result<RateLimit, Invalid> {
    raw.parse::<Rate>().map(|r| r.0)
}

fn prefix(raw: &str) -> Result<Prefix, Invalid> {
    raw.parse()
}

fn scopes(raw: &[String]) -> Result<Vec<String>, Error> {
    let checked = raw
        .iter()
        .map(|s| checked::<Scope>(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(super::scopes(checked)?)
}

#[test]
fn scopes_uses_and_rates() {
    for good in ["sms:send", "sms:*", "a", "0.x_y-z:w", "sms:eu:*"] {
        assert_eq!(scope(good).unwrap(), good);
    }
    let longest = format!("a{}", "b".repeat(63));
    assert!(scope(&longest).is_ok());
    for bad in [
        "", "*", ":*", "Sms", "-a", "a b", "sms:*:x", "sms*", "a:**", "é",
    ] {
        assert!(scope(bad).is_err(), "{bad:?}");
    }
    assert!(scope(&format!("{longest}b")).is_err());
    let many: Vec<String> = (0..64).map(|i| format!("s{i}")).collect();
    assert_eq!(scopes(&many).unwrap().len(), 64);
    let twice = vec!["a".to_owned(), "b".to_owned(), "a".to_owned()];
    assert_eq!(scopes(&twice).unwrap(), ["a", "b"]);
    let too_many: Vec<String> = (0..65).map(|i| format!("s{i}")).collect();
    assert!(scopes(&too_many).is_err());
    let key_scopes =
        |raw: &[&str]| super::key_scopes(raw.iter().map(|s| s.parse::<Scope>().unwrap()));
    assert!(key_scopes(&["keysmith:keys:create", "keysmith:*"]).is_ok());
    assert!(key_scopes(&["sms:send", "keysmith-like:x", "keysmith"]).is_ok());
    assert!(key_scopes(&["keysmith:keys:delete"]).is_err());
    assert!(key_scopes(&["keysmith:keys:read", "sms:send"]).is_err());
    assert!(key_scopes(&["sms:send", "keysmith:*"]).is_err());

    assert_eq!(uses("--uses", "1").unwrap(), 1);
    assert_eq!(uses("--uses", "1000000000000").unwrap(), MAX_USES);
    for bad in ["0", "-1", "+5", " 5", "1e3", "1000000000001", ""] {
        assert!(uses("--uses", bad).is_err(), "{bad:?}");
    }

    let r = rate("--rate", "100/1m").unwrap();
    assert_eq!((r.limit, r.per_seconds), (100, 60));
    assert_eq!(r.display(), "100/1m");
    assert_eq!(rate("--rate", "5/90s").unwrap().display(), "5/90s");
    assert_eq!(rate("--rate", "1000000/1d").unwrap().per_seconds, 86_400);
    for bad in [
        "100",
        "0/1m",
        "1000001/1m",
        "10/2d",
        "10/0s",
        "10/",
        "/1m",
        "a/1m",
        "1/1m/1",
    ] {
        assert!(rate("--rate", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn durations() {
    assert_eq!(duration("d", "30d").unwrap(), 30 * 86_400);
    assert_eq!(duration("d", "12h").unwrap(), 12 * 3_600);
    assert_eq!(duration("d", "90m").unwrap(), 5_400);
    assert_eq!(duration("d", "45s").unwrap(), 45);
    assert_eq!(duration("d", "2w").unwrap(), 14 * 86_400);
    assert_eq!(duration("d", "1d12h").unwrap(), 36 * 3_600);
    for bad in [
        "",
        "0s",
        "0d0h",
        "d",
        "12",
        "1x",
        "-1d",
        "1 d",
        "1.5h",
        "99999999999999999999s",
        "1d12",
    ] {
        assert!(duration("d", bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn names() {
    assert_eq!(name("  Data Sync ").unwrap(), "Data Sync");
    assert!(name("   ").is_err());
    assert!(name(&"x".repeat(128)).is_ok());
    assert!(name(&"x".repeat(129)).is_err());
    assert!(
        name(&"é".repeat(128)).is_ok(),
        "the limit counts characters, not bytes"
    );
    for bad in ["a\nb", "a\tb", "a\u{1b}[31mb", "a\u{7f}"] {
        assert!(name(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn services_and_prefixes() {
    assert!(service("sms").is_ok());
    assert!(service("0-sms-eu").is_ok());
    for bad in ["", "-sms", "SMS", "sms_eu", &"a".repeat(33)] {
        assert!(service(bad).is_err(), "{bad:?} accepted");
    }
    assert!(prefix("ks").is_ok());
    for bad in ["", "1ks", "Ks", "k_s", &"a".repeat(17)] {
        assert!(prefix(bad).is_err(), "{bad:?} accepted");
    }
}

proptest! {
    #[test]
    fn duration_never_panics(s in "\\PC{0,30}") {
        let _ = duration("d", &s);
    }
}

#[test]
fn subsecond_durations_take_ms_where_allowed() {
    let read = |raw: &str| {
        raw.parse::<SubsecondDuration>()
            .map(|d| d.get().as_millis())
    };
    assert_eq!(read("500ms").unwrap(), 500);
    assert_eq!(read("1s").unwrap(), 1_000);
    assert_eq!(read("1m30s").unwrap(), 90_000);
    assert_eq!(read("2m").unwrap(), 120_000);
    for bad in ["", "0ms", "ms", "1.5s", "-1ms", "5"] {
        assert!(read(bad).is_err(), "{bad:?} accepted");
    }
    assert!(
        duration("d", "500ms").is_err(),
        "ms only where a flag allows it"
    );
}

mod line_tests {
    use super::super::key_line;

    #[test]
    fn lines() {
        let spec = key_line(
            br#"{"name": " a ", "service": "sms", "expires_in": "1d"}"#,
            &"ks".parse().unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!((spec.name.as_str(), spec.prefix.as_str()), ("a", "ks"));
        assert_eq!(spec.expires_in, Some(86_400));
        assert!(key_line(b"  \n", &"ks".parse().unwrap()).unwrap().is_none());
        for bad in [
            &br#"{"name": ""}"#[..],
            br#"{"nme": "x"}"#,
            br#"{"name": "x", "extra": 1}"#,
            br#"["x"]"#,
            // Found by fuzz/fuzz_targets/key_line.rs: five elements filled the five fields.
            br#"["c", "serv", "c", "serv", null]"#,
            br#" ["x", null, null, null, "1d"]"#,
            br#"{"name": "x", "prefix": "Bad"}"#,
            b"\xff\xfe",
        ] {
            assert!(key_line(bad, &"ks".parse().unwrap()).is_err(), "{bad:?}");
        }
    }
}
