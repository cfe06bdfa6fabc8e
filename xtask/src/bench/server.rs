//! The `identity-server` process under load: a configuration of its own (clients for every
//! scenario, secrets, a throwaway database), seeded with users that carry realistic claims and
//! roles through the binary's own administration commands, started on an ephemeral port, and
//! watched through `/proc` (CPU time, resident memory, open files).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The secret of every client of the benchmark configuration.
pub(crate) const CLIENT_SECRET: &str = "bench-client-secret-7f3a9c";
/// The password of every seeded user.
pub(crate) const PASSWORD: &str = "Bench123$pass";
/// The redirect URI of the code-flow client (nothing listens there: the code is read from the
/// `Location` header).
pub(crate) const REDIRECT_URI: &str = "http://127.0.0.1/callback";
/// Seeded users, one per connection at most (a connection past the count reuses them).
pub(crate) const USERS: usize = 8;
/// The roles every seeded user is in.
pub(crate) const ROLES: [&str; 3] = ["bench.reader", "bench.writer", "bench.auditor"];

/// The configuration: `CLIENT_SECRET`'s SHA-256 as IdentityServer stores it, fixed secrets of
/// 32 bytes and more, and one client per scenario family.
const CONFIGURATION: &str = r#"key_encryption_secret = "bench-key-encryption-secret-0123456789abcdef"
session_secret = "bench-session-secret-0123456789abcdefghij"
token_secret = "bench-token-secret-0123456789abcdefghijkl"

[[clients]]
client_id = "bench.m2m"
secrets = ["sha256:7TqCVw9VprriHDgdXO69YH8c5YnpN+xTJNbUPrrZ2eU="]
grant_types = ["client_credentials"]
scopes = ["bench.api"]

[[clients]]
client_id = "bench.password"
secrets = ["sha256:7TqCVw9VprriHDgdXO69YH8c5YnpN+xTJNbUPrrZ2eU="]
grant_types = ["password"]
scopes = ["openid", "profile", "email", "bench.api", "offline_access"]

[[clients]]
client_id = "bench.reuse"
secrets = ["sha256:7TqCVw9VprriHDgdXO69YH8c5YnpN+xTJNbUPrrZ2eU="]
grant_types = ["password"]
scopes = ["bench.api", "offline_access"]
refresh_token_usage = "reuse"

[[clients]]
client_id = "bench.web"
secrets = ["sha256:7TqCVw9VprriHDgdXO69YH8c5YnpN+xTJNbUPrrZ2eU="]
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1/callback"]
scopes = ["openid", "profile", "email", "bench.api"]

[[api_scopes]]
name = "bench.api"
user_claims = ["role"]

[[api_resources]]
name = "bench-api"
scopes = ["bench.api"]
user_claims = ["role"]

[throttling]
sign_in_per_address = 100000
"#;

/// The name of seeded user `index`.
pub(crate) fn user_name(index: usize) -> String {
    format!("bench.user{}", index % USERS)
}

/// A configured, seeded `identity-server` serving on an ephemeral port; killed when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// Where it listens.
    pub(crate) address: SocketAddr,
    /// Its log (stderr).
    pub(crate) log: PathBuf,
}

/// The binary, its configuration file and its database: what every command needs.
#[derive(Debug)]
pub(crate) struct Installation {
    binary: PathBuf,
    config: PathBuf,
    database_url: String,
    directory: PathBuf,
}

impl Installation {
    /// Writes the configuration into `directory` for a database at `database_url`.
    pub(crate) fn new(binary: &Path, directory: &Path, database_url: String) -> Result<Self, String> {
        std::fs::create_dir_all(directory).map_err(|e| format!("cannot create {}: {e}", directory.display()))?;
        let config = directory.join("identity.toml");
        std::fs::write(&config, CONFIGURATION).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        Ok(Self { binary: binary.to_owned(), config, database_url, directory: directory.to_owned() })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("--config")
            .arg(&self.config)
            .args(["--database-url", &self.database_url])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("IDENTITY_LOG_FORMAT");
        command
    }

    /// Runs an administration command, with `stdin` as its standard input.
    fn run(&self, args: &[&str], stdin: &str) -> Result<(), String> {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).map_err(|e| format!("cannot write to `{}`: {e}", args.join(" ")))?;
        }
        let output = child.wait_with_output().map_err(|e| format!("`{}` did not finish: {e}", args.join(" ")))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("`identity-server {}` failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr)))
        }
    }

    /// Creates the roles and the users (e-mail confirmed, profile claims, every role), migrating
    /// the database first.
    pub(crate) fn seed(&self) -> Result<(), String> {
        self.run(&["migrate", "up"], "")?;
        for role in ROLES {
            self.run(&["roles", "create", role], "")?;
        }
        for index in 0..USERS {
            let name = user_name(index);
            let email = format!("--email={name}@bench.example");
            let claims = [
                format!("--claim=given_name=Bench{index}"),
                "--claim=family_name=User".to_owned(),
                format!("--claim=name=Bench{index} User"),
                format!("--claim=website=https://bench.example/{index}"),
                "--claim=locale=en-GB".to_owned(),
            ];
            let mut args =
                vec!["users", "create", name.as_str(), "--password-stdin", email.as_str(), "--email-confirmed"];
            args.extend(claims.iter().map(String::as_str));
            for role in ROLES {
                args.extend(["--role", role]);
            }
            self.run(&args, &format!("{PASSWORD}\n"))?;
        }
        Ok(())
    }

    /// The password hash of a seeded user, read through `users export`.
    pub(crate) fn seeded_password_hash(&self) -> Result<String, String> {
        let output = self
            .command(&["users", "export"])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let text = String::from_utf8_lossy(&output.stdout);
        text.split("\"password_hash\":\"")
            .nth(1)
            .filter(|_| output.status.success())
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
            .ok_or_else(|| format!("`users export` gave no password hash: {}", String::from_utf8_lossy(&output.stderr)))
    }

    /// Runs `users import -`, with what `write` writes as its input; its progress goes to this
    /// process's standard error.
    pub(crate) fn import(
        &self,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), String> {
        let mut child = self
            .command(&["users", "import", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let written = match child.stdin.take() {
            Some(mut input) => write(&mut input),
            None => Ok(()),
        };
        let output = child.wait_with_output().map_err(|e| format!("`users import` did not finish: {e}"))?;
        let summary = String::from_utf8_lossy(&output.stdout);
        match (output.status.success(), written) {
            (true, Ok(())) => {
                eprint!("{summary}");
                Ok(())
            }
            (_, Err(error)) => Err(format!("cannot write the users to `users import`: {error}\n{summary}")),
            (false, _) => Err(format!("`users import` failed:\n{summary}")),
        }
    }

    /// Starts `serve` on an ephemeral loopback port with `variables` in its environment and
    /// waits until it listens.
    pub(crate) fn serve(&self, variables: &[(&str, &str)]) -> Result<Server, String> {
        let log = (0..)
            .map(|n| self.directory.join(format!("server-{n}.log")))
            .find(|path| !path.exists())
            .unwrap_or_default();
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut child = self
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .envs(variables.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let mut first_line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut first_line).map_err(|e| format!("cannot read its output: {e}"))?;
        }
        let address = first_line.trim().strip_prefix("listening on http://").and_then(|a| a.parse().ok());
        let server = Server { child, address: address.unwrap_or(([127, 0, 0, 1], 0).into()), log };
        match address {
            Some(_) => Ok(server),
            None => Err(format!(
                "the server did not start (it printed {first_line:?}); its log:\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            )),
        }
    }
}

/// What `/proc` says about a process at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProcessSample {
    /// User plus system CPU time, in clock ticks (1/100 s on Linux).
    pub(crate) cpu_ticks: u64,
    /// Resident memory in KiB.
    pub(crate) resident_kib: u64,
    /// Open file descriptors.
    pub(crate) open_files: usize,
}

/// Clock ticks per second of `/proc/*/stat` times: `USER_HZ`, 100 on every Linux architecture
/// this runs on.
pub(crate) const TICKS_PER_SECOND: f64 = 100.0;

/// Samples process `pid` (`"self"` for this one); zeros where `/proc` is not available.
pub(crate) fn sample(pid: &str) -> ProcessSample {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let field = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat(5), 11 and 12 after the name.
    let cpu_ticks = field(11) + field(12);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let resident_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let open_files = std::fs::read_dir(format!("/proc/{pid}/fd")).map(Iterator::count).unwrap_or(0);
    ProcessSample { cpu_ticks, resident_kib, open_files }
}

impl Server {
    /// The process id, for [`sample`].
    pub(crate) fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
