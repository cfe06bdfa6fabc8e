//! Running the real `identity-server` binary: administration commands as child processes, and
//! servers on ephemeral ports whose address is read from their stdout, killed when dropped.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, ResourceOwnerPassword, ResourceOwnerUsername,
    Scope, TokenResponse as _, TokenUrl,
};
use test_support::http::{Response, TestClient};
use test_support::{Backend, TestDatabase};

/// The binary under test.
const BINARY: &str = env!("CARGO_BIN_EXE_identity-server");
/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// The key-encryption secret the test servers run with.
const KEY_ENCRYPTION_SECRET: &str = "e2e key-encryption secret of at least 32 bytes";
/// The session secret the test servers run with.
const SESSION_SECRET: &str = "e2e session secret, also at least 32 bytes long";
/// The "Default" token provider's secret the test servers run with.
const TOKEN_SECRET: &str = "e2e token secret, at least 32 bytes long as well";

/// The demo configuration's password-grant client.
pub(crate) const PASSWORD_CLIENT: (&str, &str) = ("password.client", "A6F1C7D2-3B84-4E59-9C20-7D5E8B1F4A36");
/// The demo configuration's machine-to-machine client.
pub(crate) const M2M_CLIENT: (&str, &str) = ("m2m.client", "511536EF-F270-4058-80CA-1C89C192F69A");
/// The password the tests give their users.
pub(crate) const PASSWORD: &str = "Secret123$";
/// Every scope of the password client.
pub(crate) const ALL_SCOPES: &[&str] = &["openid", "profile", "email", "scope1", "offline_access"];

/// A command that runs the binary with no `IDENTITY_*` variable of the caller's environment.
fn command() -> Command {
    command_of(Path::new(BINARY))
}

/// [`command`] with another copy of the binary.
fn command_of(binary: &Path) -> Command {
    let client_secrets = [PASSWORD_CLIENT.1, M2M_CLIENT.1, crate::interactive::WEB.1, crate::interactive::QUICK.1];
    for secret in [KEY_ENCRYPTION_SECRET, SESSION_SECRET, TOKEN_SECRET, PASSWORD].into_iter().chain(client_secrets) {
        test_support::secrets::remember(secret);
    }
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("IDENTITY_") {
            command.env_remove(name);
        }
    }
    command
        .env("IDENTITY_KEY_ENCRYPTION_SECRET", KEY_ENCRYPTION_SECRET)
        .env("IDENTITY_SESSION_SECRET", SESSION_SECRET)
        .env("IDENTITY_TOKEN_SECRET", TOKEN_SECRET)
        .env_remove("RUST_LOG");
    command
}

/// The outcome of one administration command.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) success: bool,
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// The outcome of `output`, whose stderr (the command's log) must hold no secret.
    fn from_output(output: Output) -> Self {
        let leaks = test_support::secrets::leaks_in(&String::from_utf8_lossy(&output.stderr));
        assert!(leaks.is_empty(), "the command logged {leaks:?}: {output:?}");
        Self {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success; returns stdout.
    pub(crate) fn ok(self) -> String {
        assert!(self.success, "expected success, got {self:#?}");
        self.stdout
    }

    /// Asserts a failure whose stderr contains `message`.
    pub(crate) fn fails_with(self, message: &str) {
        assert!(!self.success, "expected a failure, got {self:#?}");
        assert!(self.stderr.contains(message), "expected `{message}` in stderr, got {self:#?}");
    }
}

/// A fresh, empty database of `backend` for one test.
pub(crate) async fn env(backend: Backend) -> TestEnv {
    let database = TestDatabase::create(backend).await;
    let database_url = database.url().to_owned();
    TestEnv { database, database_url }
}

/// A fresh, empty database on the PostgreSQL server at `admin_url`.
#[cfg(feature = "postgres-tests")]
pub(crate) fn env_on_postgres(admin_url: String) -> TestEnv {
    let database = TestDatabase::postgres_on(admin_url);
    let database_url = database.url().to_owned();
    TestEnv { database, database_url }
}

/// A database for one test, with a temporary directory for its files.
pub(crate) struct TestEnv {
    database: TestDatabase,
    database_url: String,
}

impl TestEnv {
    /// An environment whose server uses the SQLite file at `path` in the directory of a fresh
    /// test database (such as a copy of a .NET-written database).
    pub(crate) fn with_sqlite_file(database: TestDatabase, path: &Path) -> Self {
        Self { database, database_url: format!("sqlite://{}", path.display()) }
    }

    /// The temporary directory.
    pub(crate) fn dir(&self) -> &Path {
        self.database.dir()
    }

    /// The database URL.
    pub(crate) fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Runs `identity-server ARGS --database-url URL`, with `stdin` as standard input.
    pub(crate) fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        // Standard input carries passwords (`--password-stdin`).
        stdin.lines().for_each(test_support::secrets::remember);
        let mut child = command()
            .args(args)
            .args(["--database-url", &self.database_url])
            .current_dir(self.dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin written");
        Run::from_output(child.wait_with_output().expect("the binary ends"))
    }

    /// Runs `identity-server ARGS` as given (no `--database-url` added), with extra environment
    /// variables.
    pub(crate) fn cli_as_is(&self, args: &[&str], variables: &[(&str, &str)]) -> Run {
        let output = command()
            .args(args)
            .envs(variables.iter().copied())
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        Run::from_output(output)
    }

    /// Runs `identity-server serve --listen LISTEN --database-url URL ARGS` with extra environment
    /// variables, expecting it to refuse to start: a server still running after a minute is
    /// killed and the test fails.
    pub(crate) fn serve_refused(&self, listen: &str, args: &[&str], variables: &[(&str, &str)]) -> Run {
        let mut child = command()
            .args(["serve", "--listen", listen, "--database-url", &self.database_url])
            .args(args)
            .envs(variables.iter().copied())
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("try_wait").is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "`serve {args:?}` started instead of refusing: {:#?}",
                    Run::from_output(child.wait_with_output().expect("output"))
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Run::from_output(child.wait_with_output().expect("the binary ends"))
    }

    /// Runs `identity-server ARGS --database-url URL` with empty standard input.
    pub(crate) fn cli(&self, args: &[&str]) -> Run {
        self.cli_with_stdin(args, "")
    }

    /// Creates a user with [`PASSWORD`] through the CLI; returns its id.
    pub(crate) fn create_user(&self, user_name: &str, extra: &[&str]) -> String {
        let args = [&["users", "create", user_name, "--password-stdin"], extra].concat();
        let stdout = self.cli_with_stdin(&args, &format!("{PASSWORD}\n")).ok();
        stdout
            .split("(id ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("no id in `{stdout}`"))
            .to_owned()
    }

    /// `users show USER_NAME`, as `key: value` lines.
    pub(crate) fn show_user(&self, user_name: &str) -> String {
        self.cli(&["users", "show", user_name]).ok()
    }

    /// Runs SQL statements on the test database directly, as another application sharing it
    /// would (setting up what no command does, such as a .NET-enrolled authenticator).
    pub(crate) fn execute_sql(&self, statements: &str) {
        use diesel::Connection as _;
        use diesel::connection::SimpleConnection as _;
        let url = &self.database_url;
        match url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut connection = diesel::SqliteConnection::establish(path).expect("SQLite opens");
                // The running server may hold the write lock for a moment: wait for it.
                connection.batch_execute("PRAGMA busy_timeout = 10000;").expect("busy timeout set");
                connection.batch_execute(statements)
            }
            None => diesel::PgConnection::establish(url).expect("PostgreSQL connects").batch_execute(statements),
        }
        .unwrap_or_else(|error| panic!("{statements}: {error}"));
    }

    /// Writes a file into the temporary directory; returns its path.
    pub(crate) fn write_file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::write(&path, content).expect("file written");
        path
    }

    /// Starts `identity-server serve --listen 127.0.0.1:0` with `extra` arguments.
    pub(crate) fn serve(&self, extra: &[&str]) -> Server {
        Server::start(self, None, extra, &[])
    }

    /// Starts `identity-server serve --listen 127.0.0.1:0` with `extra` arguments and extra
    /// environment variables.
    pub(crate) fn serve_with_env(&self, extra: &[&str], variables: &[(&str, &str)]) -> Server {
        Server::start(self, None, extra, variables)
    }

    /// The same, as the user `owner` (uid, gid) when given: for tests of file modes, which root
    /// ignores. The server gets the user itself (no `runuser`, which would survive the kill on
    /// drop), and runs from a copy of the binary in the test directory, which that user can reach
    /// wherever the target directory lies.
    pub(crate) fn serve_as(&self, owner: Option<(u32, u32)>, extra: &[&str], variables: &[(&str, &str)]) -> Server {
        Server::start(self, owner, extra, variables)
    }
}

/// A running server process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`, as printed.
    pub(crate) address: String,
    /// A client of the server, without cookies.
    pub(crate) client: TestClient,
    /// The client's `reqwest` client, for the OAuth client libraries.
    pub(crate) http: reqwest::Client,
}

impl Server {
    fn start(env: &TestEnv, owner: Option<(u32, u32)>, extra: &[&str], variables: &[(&str, &str)]) -> Self {
        let log = env.dir().join(format!("server-{}.log", uuid::Uuid::new_v4().simple()));
        let mut command = match owner {
            None => command(),
            Some((uid, gid)) => {
                use std::os::unix::process::CommandExt as _;
                let copy = env.dir().join("identity-server");
                if !copy.exists() {
                    std::fs::copy(BINARY, &copy).expect("the binary is copied");
                }
                let mut command = command_of(&copy);
                command.uid(uid).gid(gid);
                command
            }
        };
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", env.database_url()])
            .args(extra)
            // At `debug`, so the log scan on drop sees everything the server could ever log.
            .env("RUST_LOG", "debug")
            .envs(variables.iter().copied())
            .current_dir(env.dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = sender.send(address.to_owned());
                }
            }
        });
        match receiver.recv_timeout(START_TIMEOUT) {
            Ok(address) => {
                let client = TestClient::new(address.clone());
                let http = client.http().clone();
                Self { child, log, address, client, http }
            }
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server printed no address ({error}); its log:\n{}", read_log(&log));
            }
        }
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to exit; returns its exit code.
    pub(crate) fn wait_for_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not exit within {timeout:?}");
    }

    /// What the server logged so far.
    pub(crate) fn log(&self) -> String {
        read_log(&self.log)
    }

    /// An absolute URL on the server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// An `oauth2` client for `(id, secret)` at the token endpoint.
    pub(crate) fn client(
        &self,
        (client_id, secret): (&str, &str),
    ) -> BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet> {
        BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(secret.to_owned()))
            .set_token_uri(TokenUrl::new(self.url("/connect/token")).expect("url"))
    }

    /// A password grant through the `oauth2` crate: (access token, refresh token).
    pub(crate) async fn password_grant(&self, user_name: &str, scopes: &[&str]) -> (String, Option<RefreshToken>) {
        let token = self
            .client(PASSWORD_CLIENT)
            .exchange_password(
                &ResourceOwnerUsername::new(user_name.to_owned()),
                &ResourceOwnerPassword::new(PASSWORD.to_owned()),
            )
            .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())))
            .request_async(&self.http)
            .await
            .unwrap_or_else(|error| panic!("password grant for {user_name}: {error:?}\n{}", self.log()));
        if let Some(refresh_token) = token.refresh_token() {
            test_support::secrets::remember(refresh_token.secret());
        }
        (token.access_token().secret().clone(), token.refresh_token().cloned())
    }

    /// POSTs a form with HTTP Basic client authentication.
    pub(crate) async fn post_form(&self, path: &str, client: (&str, &str), pairs: &[(&str, &str)]) -> Response {
        self.client.post_form(path, Some(client), pairs).await
    }

    /// A raw password grant with the password client.
    pub(crate) async fn raw_password_grant(&self, user_name: &str, password: &str) -> Response {
        self.post_form(
            "/connect/token",
            PASSWORD_CLIENT,
            &[("grant_type", "password"), ("username", user_name), ("password", password), ("scope", "openid")],
        )
        .await
    }

    /// A raw refresh with the password client.
    pub(crate) async fn refresh(&self, refresh_token: &RefreshToken) -> Response {
        self.post_form(
            "/connect/token",
            PASSWORD_CLIENT,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token.secret())],
        )
        .await
    }

    /// GETs a path, with a bearer token when given.
    pub(crate) async fn get(&self, path: &str, bearer: Option<&str>) -> Response {
        self.client.get(path, bearer).await
    }
}

impl Drop for Server {
    /// Stops the server, then scans its log: a test that made the server log a secret fails.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server log ({}) ---\n{}", self.address, self.log());
            return;
        }
        let leaks = test_support::secrets::leaks_in(&self.log());
        assert!(leaks.is_empty(), "the server logged {leaks:?}; its log:\n{}", self.log());
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| format!("(no log: {error})"))
}

/// The value of `key: value` in `users show` output.
pub(crate) fn field<'a>(show: &'a str, key: &str) -> &'a str {
    show.lines()
        .find_map(|line| line.strip_prefix(key).and_then(|rest| rest.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{show}"))
}
