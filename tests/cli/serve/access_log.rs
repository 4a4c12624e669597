//! `serve --access-log`: one line per request, text or JSON, with the
//! client's path and query masked (a key in `/v1/auth/<key>` or in
//! `?api_key=`, as sent or percent-encoded) and escaped. On both backends.

use super::Server;
use crate::common::Env;

/// The requests both formats log: a key in the path and in the query, a
/// key percent-encoded, a valid key in a header, a verify, a 404.
fn requests(server: &Server, key: &str) {
    let encoded = key.replace('_', "%5F");
    let r = server.auth(&format!("/v1/auth/{key}?api_key={key}"), &[]);
    assert_eq!(r.status, 401, "{r:#?}");
    let r = server.auth(&format!("/v1/auth/x?api_key={encoded}"), &[]);
    assert_eq!(r.status, 401, "{r:#?}");
    let r = server.auth("/v1/auth", &[("X-API-Key", key)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(server.verify(key, "")["code"], "VALID");
    assert_eq!(server.get("/nowhere").status, 404);
}

/// `ks_<id>_********`: the key as every message shows it.
fn masked(key: &str) -> String {
    format!("ks_{}_********", Env::id_of(key))
}

#[test]
fn the_text_log_has_a_line_per_request_with_keys_masked() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let id = Env::id_of(&key);
    let file = env.dir.path().join("access.log");
    let server = Server::start(&env, &["--access-log", file.to_str().unwrap()]);
    requests(&server, &key);
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("keysmith_access_log_dropped_total 0"),
        "{metrics}"
    );
    let log = server.stop();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    let secret = &key[key.len() - 38..];
    assert!(!text.contains(secret), "the key is in the log: {text}");
    assert!(!log.contains(secret), "{log}");
    let m = masked(&key);
    // time client method path status code key-id latency
    let fields: Vec<Vec<&str>> = lines.iter().map(|l| l.split(' ').collect()).collect();
    for (line, f) in lines.iter().zip(&fields) {
        assert_eq!(f.len(), 8, "{line}");
        assert!(f[0].ends_with('Z') && f[0].len() == 24, "{line}");
        assert!(f[1].starts_with("127.0.0.1:"), "{line}");
        assert!(f[7].ends_with("ms"), "{line}");
        let ms: f64 = f[7].trim_end_matches("ms").parse().unwrap();
        assert!((0.0..10_000.0).contains(&ms), "{line}");
    }
    assert_eq!(
        fields[0][2..7],
        [
            "GET",
            format!("/v1/auth/{m}?api_key={m}").as_str(),
            "401",
            "MALFORMED",
            "-"
        ]
    );
    assert_eq!(fields[1][2], "GET");
    assert!(
        fields[1][3].starts_with("/v1/auth/x?api_key="),
        "{}",
        lines[1]
    );
    assert!(fields[1][3].ends_with("********"), "{}", lines[1]);
    assert_eq!(
        fields[2][2..7],
        ["GET", "/v1/auth", "200", "VALID", id.as_str()]
    );
    assert_eq!(
        fields[3][2..7],
        ["POST", "/v1/verify", "200", "VALID", id.as_str()]
    );
    assert_eq!(fields[4][2..7], ["GET", "/nowhere", "404", "-", "-"]);
    assert_eq!(fields[5][2..7], ["GET", "/metrics", "200", "-", "-"]);

    // Appended to, never replaced, by the next serve.
    let server = Server::start(&env, &["--access-log", file.to_str().unwrap()]);
    assert_eq!(server.get("/healthz").status, 200);
    server.stop();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 7, "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains(" GET /healthz 200 - - ")
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o007, 0, "{mode:o}");
    }
}

#[test]
fn the_json_log_goes_to_stdout_for_log_shippers() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let id = Env::id_of(&key);
    let mut cmd = env.command();
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--access-log",
        "-",
        "--access-log-format",
        "json",
    ]);
    let server = Server::run(cmd, true);
    requests(&server, &key);
    let (log, out) = server.stop_with_stdout();
    let secret = &key[key.len() - 38..];
    assert!(!out.contains(secret), "the key is in the log: {out}");
    assert!(!log.contains(secret), "{log}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 5, "{out}");
    let m = masked(&key);
    let first = &lines[0];
    let fields: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "client",
            "code",
            "key_id",
            "latency_ms",
            "method",
            "path",
            "status",
            "time"
        ],
        "{first}"
    );
    assert_eq!(first["path"], format!("/v1/auth/{m}?api_key={m}"));
    assert_eq!(first["status"], 401);
    assert_eq!(first["code"], "MALFORMED");
    assert!(first["key_id"].is_null());
    assert!(first["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(first["client"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(lines[1]["path"].as_str().unwrap().ends_with("********"));
    assert_eq!(
        (&lines[2]["method"], &lines[2]["code"], &lines[2]["key_id"]),
        (&"GET".into(), &"VALID".into(), &id.clone().into())
    );
    assert_eq!(
        (&lines[3]["method"], &lines[3]["path"]),
        (&"POST".into(), &"/v1/verify".into())
    );
    assert_eq!(
        (&lines[4]["status"], &lines[4]["code"]),
        (&404.into(), &serde_json::Value::Null)
    );

    // A folder that cannot hold it: a usage error, before anything is served.
    let run = env.run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--access-log",
        "/nonexistent/dir/access.log",
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("--access-log"), "{run:#?}");
    // A format without a log.
    env.run(&["serve", "--access-log-format", "json"]).code(2);
}
