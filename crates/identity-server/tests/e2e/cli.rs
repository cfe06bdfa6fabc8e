//! What does not depend on the database backend: configuration errors, the precedence of flags,
//! environment variables, configuration file and defaults, and the shutdown on SIGTERM.

use std::time::Duration;

use test_support::Backend;

use crate::support::{env, field};

#[tokio::test]
async fn unknown_configuration_keys_are_clear_errors() {
    let env = env(Backend::Sqlite).await;
    let config = env.write_file("typo.toml", "[lockout]\nmax_failed_attempts = 3\n");
    let run = env.cli(&["users", "list", "--config", config.to_str().expect("UTF-8")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    run.fails_with("max_failed_attempts");
    let run = env.cli(&["--config", "/nonexistent/identity.toml", "users", "list"]);
    run.fails_with("cannot read /nonexistent/identity.toml");
    let bad_url = env.cli_as_is(&["users", "list", "--database-url", "postgress://localhost/identity"], &[]);
    bad_url.fails_with("invalid database url");
}

#[tokio::test]
async fn flags_beat_environment_beats_configuration_file_beats_default() {
    let env = env(Backend::Sqlite).await;
    let url = |name: &str| format!("sqlite://{}", env.dir().join(name).display());
    let config = env.write_file("db.toml", &format!("database_url = \"{}\"\n", url("file.db")));
    let config = config.to_str().expect("UTF-8");
    let create = |args: &[&str], variables: &[(&str, &str)]| {
        env.cli_as_is(&[&["users", "create"], args].concat(), variables).ok();
    };

    create(&["from-default"], &[]);
    assert!(env.dir().join("identity.db").is_file(), "the default database is sqlite://identity.db");
    create(&["from-file", "--config", config], &[]);
    create(&["from-env", "--config", config], &[("IDENTITY_DATABASE_URL", &url("env.db"))]);
    create(
        &["from-flag", "--config", config, "--database-url", &url("flag.db")],
        &[("IDENTITY_DATABASE_URL", &url("env.db"))],
    );
    create(&["config-from-env"], &[("IDENTITY_CONFIG", config)]);

    for (database, users) in [
        ("identity.db", "from-default"),
        ("file.db", "config-from-env from-file"),
        ("env.db", "from-env"),
        ("flag.db", "from-flag"),
    ] {
        let list = env.cli_as_is(&["users", "list", "--database-url", &url(database)], &[]).ok();
        let names: Vec<&str> = list.lines().skip(1).filter_map(|line| line.split_whitespace().next()).collect();
        assert_eq!(names[..names.len() - 1].join(" "), users, "{database}: {list}");
    }
}

#[tokio::test]
async fn the_server_shuts_down_gracefully_on_sigterm() {
    let env = env(Backend::Sqlite).await;
    env.create_user("carol", &[]);
    let mut server = env.serve(&[]);
    server.raw_password_grant("carol", crate::support::PASSWORD).await.ok_json();
    let log = server.log();
    assert!(log.contains("DEMO configuration"), "the demo configuration is announced loudly: {log}");
    assert!(!log.contains("NO KEY-ENCRYPTION SECRET") && !log.contains("no session secret"), "secrets applied: {log}");

    let killed =
        std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    assert_eq!(server.wait_for_exit(Duration::from_secs(30)), Some(0));
    assert!(server.log().contains("SIGTERM received"), "{}", server.log());
    assert_eq!(field(&env.show_user("carol"), "access_failed_count"), "0");
}

#[tokio::test]
async fn a_port_in_use_is_a_clear_error() {
    let env = env(Backend::Sqlite).await;
    let server = env.serve(&[]);
    let taken = server.address.trim_start_matches("http://");
    let run = env.cli(&["serve", "--listen", taken]);
    run.fails_with(&format!("cannot listen on {taken}"));
}

#[tokio::test]
async fn the_template_interactive_client_reaches_the_login_redirect() {
    let env = env(Backend::Sqlite).await;
    let server = env.serve(&[]);
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", "interactive"),
            ("response_type", "code"),
            ("redirect_uri", "https://localhost:44300/signin-oidc"),
            ("scope", "openid profile scope2 offline_access"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let response = server.http.get(server.url(&format!("/connect/authorize?{query}"))).send().await.expect("sent");
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().expect("ASCII");
    assert!(location.starts_with("/account/login?returnUrl="), "{location}");
}

#[tokio::test]
async fn a_configuration_file_without_its_secrets_refuses_to_serve() {
    let env = env(Backend::Sqlite).await;
    let config = env.write_file("plain.toml", "");
    let config = config.to_str().expect("UTF-8");
    let unset =
        [("IDENTITY_KEY_ENCRYPTION_SECRET", ""), ("IDENTITY_SESSION_SECRET", ""), ("IDENTITY_TOKEN_SECRET", "")];
    let refused = env.serve_refused("127.0.0.1:0", &["--config", config], &unset);
    assert_eq!(refused.code, Some(1), "{refused:#?}");
    for variable in ["IDENTITY_KEY_ENCRYPTION_SECRET", "IDENTITY_SESSION_SECRET", "IDENTITY_TOKEN_SECRET"] {
        assert!(refused.stderr.contains(&format!("{variable} (or")), "{variable} is named: {refused:#?}");
    }
    let short = env.serve_refused("127.0.0.1:0", &["--config", config], &[("IDENTITY_SESSION_SECRET", "too short")]);
    assert!(!short.stderr.contains("IDENTITY_KEY_ENCRYPTION_SECRET"), "only the short one is named: {short:#?}");
    short.fails_with("IDENTITY_SESSION_SECRET (or `session_secret`) is shorter than 32 bytes");
}

#[tokio::test]
async fn secrets_come_from_files_as_container_platforms_mount_them() {
    let env = env(Backend::Sqlite).await;
    let config = env.write_file("plain.toml", "");
    let config = config.to_str().expect("UTF-8");
    let secret = "a session secret of at least 32 bytes, read from a file";
    test_support::secrets::remember(secret);
    let file = env.write_file("session_secret", &format!("{secret}\n"));
    let file = file.to_str().expect("UTF-8");
    let from_file = [("IDENTITY_SESSION_SECRET", ""), ("IDENTITY_SESSION_SECRET_FILE", file)];
    let server = env.serve_with_env(&["--config", config], &from_file);
    server.get("/.well-known/openid-configuration", None).await.ok_json();
    drop(server);

    let both = env.serve_refused("127.0.0.1:0", &["--config", config], &[("IDENTITY_SESSION_SECRET_FILE", file)]);
    both.fails_with("set IDENTITY_SESSION_SECRET or IDENTITY_SESSION_SECRET_FILE, not both");
    let short = env.write_file("short_secret", "too short\n");
    let short = [("IDENTITY_SESSION_SECRET", ""), ("IDENTITY_SESSION_SECRET_FILE", short.to_str().expect("UTF-8"))];
    env.serve_refused("127.0.0.1:0", &["--config", config], &short).fails_with("shorter than 32 bytes");
    let missing = [("IDENTITY_TOKEN_SECRET", ""), ("IDENTITY_TOKEN_SECRET_FILE", "/nonexistent/token_secret")];
    env.serve_refused("127.0.0.1:0", &["--config", config], &missing)
        .fails_with("IDENTITY_TOKEN_SECRET_FILE: cannot read /nonexistent/token_secret");
}

#[tokio::test]
async fn unusable_session_lifetimes_are_refused_with_the_variable_named() {
    let env = env(Backend::Sqlite).await;
    let zero = env.serve_refused("127.0.0.1:0", &[], &[("IDENTITY_SESSIONS__IDLE_TIMEOUT", "0")]);
    zero.fails_with("IDENTITY_SESSIONS__IDLE_TIMEOUT");
    let config = env.write_file("sessions.toml", "[sessions]\nabsolute_lifetime = \"fortnight\"\n");
    let refused = env.cli(&["serve", "--listen", "127.0.0.1:0", "--config", config.to_str().expect("UTF-8 path")]);
    refused.fails_with("fortnight");
}

#[tokio::test]
async fn the_demo_configuration_serves_on_loopback_only() {
    let env = env(Backend::Sqlite).await;
    let refused = env.serve_refused("0.0.0.0:0", &[], &[]);
    refused.fails_with("only serves on a loopback address");
}

/// Reads from `stream` until the server closes it or answers; what it read, or `None` when the
/// server did neither within `limit`.
fn read_until_closed(stream: &mut std::net::TcpStream, limit: Duration) -> Option<String> {
    use std::io::Read as _;
    stream.set_read_timeout(Some(limit)).expect("read timeout");
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(String::from_utf8_lossy(&received).into_owned()),
            Ok(read) => {
                received.extend_from_slice(&buffer[..read]);
                if received.windows(4).any(|window| window == b"\r\n\r\n") {
                    return Some(String::from_utf8_lossy(&received).into_owned());
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&received).into_owned());
            }
            Err(_) => return None,
        }
    }
}

/// Slowloris and friends: with limits of one second, checked with tenfold slack.
#[tokio::test]
async fn slow_and_oversized_requests_are_cut_off_by_the_configured_limits() {
    use std::io::Write as _;
    let env = env(Backend::Sqlite).await;
    let limits = [("IDENTITY_LIMITS__HEADER_READ_TIMEOUT", "1s"), ("IDENTITY_LIMITS__REQUEST_TIMEOUT", "1")];
    let server = env.serve_with_env(&[], &limits);
    let address = server.address.trim_start_matches("http://").to_owned();
    let slack = Duration::from_secs(10);

    let mut trickle = std::net::TcpStream::connect(&address).expect("connects");
    trickle.write_all(b"POST /connect/token HTTP/1.1\r\nHost: x\r\n").expect("partial headers");
    assert!(read_until_closed(&mut trickle, slack).is_some(), "a connection that never finishes its headers is closed");

    let mut short_body = std::net::TcpStream::connect(&address).expect("connects");
    short_body
        .write_all(b"POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=p")
        .expect("a short body");
    let answer = read_until_closed(&mut short_body, slack).expect("answered in time");
    assert!(answer.starts_with("HTTP/1.1 408"), "a body that never arrives times out: {answer}");

    let mut huge = std::net::TcpStream::connect(&address).expect("connects");
    huge.write_all(b"POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 99999999999\r\n\r\n")
        .expect("an announced huge body");
    let answer = read_until_closed(&mut huge, slack).expect("answered at once");
    assert!(answer.starts_with("HTTP/1.1 413"), "refused before reading: {answer}");

    server.get("/.well-known/openid-configuration", None).await.json();
}

#[tokio::test]
async fn connections_beyond_the_configured_cap_are_closed() {
    let env = env(Backend::Sqlite).await;
    let server = env.serve_with_env(&[], &[("IDENTITY_LIMITS__MAX_CONNECTIONS", "2")]);
    let address = server.address.trim_start_matches("http://").to_owned();
    let held: Vec<_> = (0..2).map(|_| std::net::TcpStream::connect(&address).expect("connects")).collect();
    // Give the server time to accept both before the third arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = std::net::TcpStream::connect(&address).expect("the kernel accepts");
    let answer = read_until_closed(&mut third, Duration::from_secs(10)).expect("closed in time");
    assert!(answer.is_empty(), "closed without an answer: {answer}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.get("/.well-known/openid-configuration", None).await.json();
}

#[tokio::test]
async fn config_check_prints_the_effective_configuration_with_the_variables_and_without_secrets() {
    let env = env(Backend::Sqlite).await;
    test_support::secrets::remember("plain-client-secret");
    let config = env.write_file(
        "checked.toml",
        "issuer = \"https://id.example.com\"\n\
         [[clients]]\nclient_id = \"m2m\"\nsecrets = [\"plain-client-secret\"]\ngrant_types = [\"client_credentials\"]\n\
         [limits]\nmax_connections = 7\n\
         [email]\nsmtp_url = \"smtps://smtp.example.com\"\nfrom = \"id@example.com\"\n",
    );
    let config = config.to_str().expect("UTF-8");
    let variables = [
        ("IDENTITY_LIMITS__REQUEST_TIMEOUT", "90"),
        ("IDENTITY_KEYS__ALGORITHMS", "ES256,RS256"),
        ("IDENTITY_UI__STATIC_DIR", "/srv/static"),
        ("IDENTITY_ACCOUNT__LOGIN_WITH", "user_name"),
    ];
    let printed = env.cli_as_is(&["config", "check", "--config", config], &variables).ok();
    let effective: toml::Table = printed.parse().unwrap_or_else(|error| panic!("{error}: {printed}"));
    assert_eq!(effective["issuer"].as_str(), Some("https://id.example.com"));
    assert_eq!(effective["limits"]["max_connections"].as_integer(), Some(7), "from the file");
    assert_eq!(effective["limits"]["request_timeout"].as_str(), Some("90s"), "from the environment");
    assert_eq!(effective["limits"]["header_read_timeout"].as_str(), Some("10s"), "the default");
    assert_eq!(effective["keys"]["algorithms"], toml::Value::Array(vec!["ES256".into(), "RS256".into()]));
    assert_eq!(effective["ui"]["static_dir"].as_str(), Some("/srv/static"));
    assert_eq!(effective["key_encryption_secret"].as_str(), Some("<redacted>"));
    assert_eq!(effective["clients"][0]["secrets"], toml::Value::Array(vec!["<redacted>".into()]));
    assert!(!printed.contains("plain-client-secret"), "a secret printed: {printed}");

    let check = |variables: &[(&str, &str)]| env.cli_as_is(&["config", "check", "--config", config], variables);
    check(&[("IDENTITY_LIMTS__MAX_CONNECTIONS", "5")])
        .fails_with("IDENTITY_LIMTS__MAX_CONNECTIONS: the configuration has no section [limts]");
    check(&[("IDENTITY_LIMITS__MAX_CONECTIONS", "5")]).fails_with("max_conections");
    check(&[("IDENTITY_LIMITS__MAX_CONNECTIONS", "many")])
        .fails_with("with IDENTITY_LIMITS__MAX_CONNECTIONS from the environment");
    check(&[("IDENTITY_PROXY__TRUSTED", "10.0.0.0/40")]).fails_with("`10.0.0.0/40` is not an address or a network");
}
