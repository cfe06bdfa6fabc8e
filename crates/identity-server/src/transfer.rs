//! `users export` and `users import`: every role and user, with everything stored for them
//! (password hashes, stamps, lockout state, claims, logins, tokens, passkeys, role memberships),
//! as JSON Lines, read and written as the store holds them, never through the user manager's
//! rules.
//!
//! The format is a header line `{"format":"identity-server-users","version":1}`, then one
//! `{"role":{…}}` line per role, then one `{"user":{…}}` line per user, each holding a record of
//! `identity_core::transfer`, then `{"end":{"roles":R,"users":U}}`: without that last line an
//! export cut short (a full disk, a killed exporter at the other end of a pipe) would import as
//! if it were whole. The export pages through the users; the import reads its input a
//! line at a time and hands the store [`BATCH`] records per call, so neither holds the file in
//! memory. The import skips users and roles whose id exists, so one that stopped can simply be
//! run again.
//!
//! The file holds password hashes, authenticator keys and recovery codes: the export creates it
//! readable by its owner only, and nothing here prints a value of a record. Failures are
//! reported by line number, id and reason.

use crate::error::{Failure, Result};
use crate::identity::Identity;
use identity_core::transfer::{ImportOutcome, RoleRecord, UserRecord, UserTransferStore};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The header's `format`.
const FORMAT: &str = "identity-server-users";

/// The header's `version`: the one this build writes and reads.
const VERSION: u32 = 1;

/// Users per export page, and records per import call: large enough that the store's per-call
/// work (a transaction, the lookups) is spread thin, small enough to keep memory flat.
const BATCH: usize = 1000;

/// How often the import reports its progress.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// The longest line the import reads: far beyond any real user (a user with thousands of claims
/// is a few hundred KiB), and a bound on the memory one line can take.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// Failures the summary lists one by one; the rest are counted.
const LISTED_FAILURES: usize = 20;

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
}

/// A record line as the export writes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Line<'a> {
    Role(&'a RoleRecord),
    User(&'a UserRecord),
    End(Counts),
}

/// The last line: how many records of each kind came before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Counts {
    roles: usize,
    users: usize,
}

/// A record line as the import reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Record {
    Role(RoleRecord),
    User(Box<UserRecord>),
    End(Counts),
}

/// The store's transfer capability.
fn transfer_store(identity: &Identity) -> Result<&dyn UserTransferStore<()>> {
    identity.users.store().transfer_store().ok_or_else(|| Failure::new("this store cannot export or import users"))
}

/// `users export [--output FILE]`: the header, every role, then every user, one JSON document
/// per line, to `output` or standard output.
pub(crate) async fn export(identity: &Identity, output: Option<&Path>) -> Result<()> {
    let transfer = transfer_store(identity)?;
    let sink: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(create_private(path)?),
        None => Box::new(std::io::stdout()),
    };
    let mut out = BufWriter::new(sink);
    write_line(&mut out, &Header { format: FORMAT.to_owned(), version: VERSION })?;
    let roles = transfer.export_roles().await?;
    for role in &roles {
        write_line(&mut out, &Line::Role(role))?;
    }
    let mut users = 0;
    let mut after_id: Option<String> = None;
    loop {
        let page = transfer.export_users(after_id.as_deref(), BATCH).await?;
        for user in &page {
            write_line(&mut out, &Line::User(user))?;
        }
        users += page.len();
        match page.last() {
            Some(last) if page.len() == BATCH => after_id = Some(last.id.clone()),
            _ => break,
        }
    }
    write_line(&mut out, &Line::End(Counts { roles: roles.len(), users }))?;
    out.flush().map_err(|error| Failure::context("cannot write the export", error))?;
    eprintln!("exported {} roles and {users} users", roles.len());
    Ok(())
}

/// Creates (or truncates) the export file; a new one is readable by its owner only, since it
/// holds password hashes and two-factor secrets.
fn create_private(path: &Path) -> Result<File> {
    let failed = |error: std::io::Error| Failure::context(format!("cannot create {}", path.display()), error);
    // The export holds password hashes: never write them through a link planted where the file
    // is expected.
    if std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink()) {
        return Err(Failure::new(format!(
            "{} is a symbolic link: refusing to write the export through it",
            path.display()
        )));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(failed)?;
    // The mode above applies to a new file only: an existing one is made private before it is
    // emptied and written.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
    }
    file.set_len(0).map_err(failed)?;
    Ok(file)
}

/// Writes `value` as one line of JSON.
fn write_line(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, value)
        .map_err(|error| Failure::new(format!("cannot write the export: {error}")))?;
    out.write_all(b"\n").map_err(|error| Failure::context("cannot write the export", error))
}

/// `users import FILE`: reads the header, then imports the records line by line, [`BATCH`] at
/// a time (roles before the users after them), reporting progress on stderr and a summary on
/// stdout. Fails when any record failed.
pub(crate) async fn import(identity: &Identity, file: &Path) -> Result<()> {
    let transfer = transfer_store(identity)?;
    let mut input: Box<dyn BufRead + Send> = if file.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let opened =
            File::open(file).map_err(|error| Failure::context(format!("cannot open {}", file.display()), error))?;
        Box::new(BufReader::new(opened))
    };
    let mut import = Import::new(transfer);
    let mut buffer = Vec::new();
    let mut number = 0;
    let mut header_read = false;
    loop {
        buffer.clear();
        // Bytes rather than a `String`: a line that is not UTF-8 is a failure of that line, not
        // of the import.
        let read = std::io::Read::take(&mut input, MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(|error| Failure::context(format!("cannot read line {}", number + 1), error))?;
        if read == 0 {
            break;
        }
        number += 1;
        if read as u64 > MAX_LINE_BYTES {
            return Err(Failure::new(format!("line {number} is longer than {} MiB", MAX_LINE_BYTES >> 20)));
        }
        let line = buffer.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if header_read {
            import.add(number, line).await?;
        } else {
            check_header(line, number)?;
            header_read = true;
        }
    }
    if !header_read {
        return Err(Failure::new("the input is empty: it has no header line"));
    }
    import.finish().await
}

/// Fails unless `line` is the header of a version this build reads.
fn check_header(line: &[u8], number: usize) -> Result<()> {
    match serde_json::from_slice::<Header>(line) {
        Ok(header) if header.format == FORMAT && header.version == VERSION => Ok(()),
        Ok(header) if header.format == FORMAT => Err(Failure::new(format!(
            "line {number}: version {} of the format is not supported (this build reads version {VERSION})",
            header.version
        ))),
        _ => Err(Failure::new(format!(
            r#"line {number}: not the header of a users export (expected {{"format":"{FORMAT}","version":{VERSION}}})"#
        ))),
    }
}

/// Records read and not yet imported, with their line numbers.
#[derive(Debug)]
struct Pending<T> {
    lines: Vec<usize>,
    records: Vec<T>,
}

impl<T> Pending<T> {
    fn new() -> Self {
        Self { lines: Vec::with_capacity(BATCH), records: Vec::with_capacity(BATCH) }
    }

    fn push(&mut self, line: usize, record: T) {
        self.lines.push(line);
        self.records.push(record);
    }

    fn clear(&mut self) {
        self.lines.clear();
        self.records.clear();
    }
}

/// A record that was not imported.
#[derive(Debug)]
struct Failed {
    line: usize,
    /// The record's id, when the line had one.
    id: Option<String>,
    reason: String,
}

/// What the import did so far.
#[derive(Debug, Default)]
struct Tally {
    created: usize,
    skipped: usize,
    failed: usize,
    /// The first [`LISTED_FAILURES`] failures.
    listed: Vec<Failed>,
}

impl Tally {
    fn done(&self) -> usize {
        self.created + self.skipped + self.failed
    }

    fn fail(&mut self, line: usize, id: Option<&str>, reason: String) {
        self.failed += 1;
        if self.listed.len() < LISTED_FAILURES {
            self.listed.push(Failed { line, id: id.map(str::to_owned), reason });
        }
    }

    /// Counts the outcomes of one store call; `lines` and `ids` are those of its records.
    fn count<'r>(
        &mut self,
        lines: &[usize],
        ids: impl Iterator<Item = &'r str>,
        outcomes: Vec<ImportOutcome>,
    ) -> Result<()> {
        if outcomes.len() != lines.len() {
            return Err(Failure::new(format!(
                "the store answered {} outcomes for {} records",
                outcomes.len(),
                lines.len()
            )));
        }
        for ((&line, id), outcome) in lines.iter().zip(ids).zip(outcomes) {
            match outcome {
                ImportOutcome::Created => self.created += 1,
                ImportOutcome::Skipped => self.skipped += 1,
                ImportOutcome::Failed(reason) => self.fail(line, Some(id), reason),
            }
        }
        Ok(())
    }
}

/// An import in progress.
struct Import<'a> {
    transfer: &'a dyn UserTransferStore<()>,
    roles: Pending<RoleRecord>,
    users: Pending<UserRecord>,
    tally: Tally,
    started: Instant,
    /// When progress was last printed: at most once a second, so that a million users make a
    /// few hundred lines rather than a thousand.
    reported: Instant,
    /// Record lines read (the end line's counts are checked against it).
    records_read: usize,
    /// The end line, when read: its number and counts.
    end: Option<(usize, Counts)>,
}

impl<'a> Import<'a> {
    fn new(transfer: &'a dyn UserTransferStore<()>) -> Self {
        Self {
            transfer,
            roles: Pending::new(),
            users: Pending::new(),
            tally: Tally::default(),
            started: Instant::now(),
            reported: Instant::now(),
            records_read: 0,
            end: None,
        }
    }

    /// Reads one record line; a full batch goes to the store.
    async fn add(&mut self, number: usize, line: &[u8]) -> Result<()> {
        if self.end.is_some() {
            self.tally.fail(number, id_of(line).as_deref(), "it comes after the end line".to_owned());
            return Ok(());
        }
        let record = serde_json::from_slice::<Record>(line);
        if !matches!(record, Ok(Record::End(_))) {
            self.records_read += 1;
        }
        match record {
            Ok(Record::End(counts)) => self.end = Some((number, counts)),
            Ok(Record::Role(role)) => {
                self.roles.push(number, role);
                if self.roles.records.len() >= BATCH {
                    self.flush_roles().await?;
                }
            }
            Ok(Record::User(user)) => {
                self.users.push(number, *user);
                if self.users.records.len() >= BATCH {
                    self.flush_users().await?;
                }
            }
            Err(error) => self.tally.fail(number, id_of(line).as_deref(), describe(&error)),
        }
        Ok(())
    }

    async fn flush_roles(&mut self) -> Result<()> {
        let Some(&first) = self.roles.lines.first() else { return Ok(()) };
        let outcomes = self.transfer.import_roles(&self.roles.records).await.map_err(|error| stopped(first, error))?;
        self.tally.count(&self.roles.lines, self.roles.records.iter().map(|role| role.id.as_str()), outcomes)?;
        self.roles.clear();
        self.progress();
        Ok(())
    }

    /// Imports the pending users, after the pending roles they may name.
    async fn flush_users(&mut self) -> Result<()> {
        self.flush_roles().await?;
        let Some(&first) = self.users.lines.first() else { return Ok(()) };
        let outcomes = self.transfer.import_users(&self.users.records).await.map_err(|error| stopped(first, error))?;
        self.tally.count(&self.users.lines, self.users.records.iter().map(|user| user.id.as_str()), outcomes)?;
        self.users.clear();
        self.progress();
        Ok(())
    }

    fn progress(&mut self) {
        if self.reported.elapsed() < PROGRESS_INTERVAL {
            return;
        }
        self.reported = Instant::now();
        let Tally { created, skipped, failed, .. } = self.tally;
        let done = self.tally.done();
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 { done as f64 / seconds } else { 0.0 };
        eprintln!("{done} records ({rate:.0}/s): {created} created, {skipped} skipped, {failed} failed");
    }

    /// Imports what is pending and prints the summary.
    async fn finish(mut self) -> Result<()> {
        self.flush_users().await?;
        let complete = self.complete();
        let Tally { created, skipped, failed, ref listed } = self.tally;
        println!("imported {} records: {created} created, {skipped} skipped, {failed} failed", self.tally.done());
        for failure in listed {
            // Escaped: ids and reasons come from the input, which may hold control characters.
            let id = failure.id.as_deref().unwrap_or("-");
            println!("  line {}: {}: {}", failure.line, id.escape_debug(), failure.reason.escape_debug());
        }
        if failed > listed.len() {
            println!("  and {} more failures", failed - listed.len());
        }
        complete?;
        if failed > 0 {
            return Err(Failure::new(format!("{failed} of {} records were not imported", self.tally.done())));
        }
        Ok(())
    }

    /// Fails unless the input ended with an end line that counts the records before it.
    fn complete(&self) -> Result<()> {
        match self.end {
            None => Err(Failure::new(
                r#"the input stops before its end line ({"end":{"roles":…,"users":…}}): it is incomplete. What it held was imported; import a complete file to finish (imported records are skipped)"#,
            )),
            Some((line, Counts { roles, users })) if roles + users != self.records_read => Err(Failure::new(format!(
                "line {line}: the end line counts {roles} roles and {users} users, but {} records came before it: \
                 the input is incomplete or was edited",
                self.records_read
            ))),
            Some(_) => Ok(()),
        }
    }
}

/// A store failure: the import stops there. What was imported stays, and a new run skips it.
fn stopped(line: usize, error: identity_core::Error) -> Failure {
    Failure::context(
        format!("the import stopped at the batch starting on line {line} (run it again: imported records are skipped)"),
        error,
    )
}

/// The id of a line that is not a record, when it is JSON with one where a record has it.
fn id_of(line: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let record = value.get("user").or_else(|| value.get("role"))?;
    record.get("id")?.as_str().map(str::to_owned)
}

/// What is wrong with a line that is not a record.
fn describe(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON (column {})", error.column()),
        Category::Data => format!("not a record: {}", redact(&error.to_string())),
        Category::Io => format!("cannot be read: {error}"),
    }
}

/// The parser's message without the values it quotes: a value in the wrong place may be a
/// password hash or a token.
fn redact(message: &str) -> String {
    let mut redacted = String::with_capacity(message.len());
    let (mut quoted, mut escaped) = (false, false);
    for c in message.chars() {
        if !quoted {
            redacted.push(c);
            quoted = c == '"';
        } else if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = false;
            redacted.push_str("…\"");
        }
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity_core::IdentityUser;

    fn user() -> UserRecord {
        let mut user = IdentityUser::<()>::new("alice");
        user.password_hash = Some("AQAAAAIAAYagAAAAE-secret".to_owned());
        UserRecord::from_user(user)
    }

    #[test]
    fn the_header_is_written_as_documented_and_read_back() {
        let header = serde_json::to_string(&Header { format: FORMAT.to_owned(), version: VERSION }).unwrap();
        assert_eq!(header, r#"{"format":"identity-server-users","version":1}"#);
        assert!(check_header(header.as_bytes(), 1).is_ok());
        let newer = check_header(br#"{"format":"identity-server-users","version":2}"#, 1).unwrap_err();
        assert!(newer.to_string().contains("version 2"), "{newer}");
        assert!(check_header(br#"{"user":{}}"#, 1).is_err());
    }

    #[test]
    fn the_export_writes_lines_the_import_reads() {
        let role = RoleRecord::from_role(identity_core::IdentityRole::new("admin"));
        let user = user();
        let role_line = serde_json::to_string(&Line::Role(&role)).unwrap();
        let user_line = serde_json::to_string(&Line::User(&user)).unwrap();
        assert!(role_line.starts_with(r#"{"role":{"id":"#) && user_line.starts_with(r#"{"user":{"id":"#));
        assert!(matches!(serde_json::from_str(&role_line).unwrap(), Record::Role(read) if read == role));
        assert!(matches!(serde_json::from_str(&user_line).unwrap(), Record::User(read) if *read == user));
    }

    #[test]
    fn a_malformed_line_is_described_without_its_values() {
        let line = br#"{"user":{"id":"u1","password_hash":"AQAA-secret","email_confirmed":"AQAA-\"also secret"}}"#;
        let error = serde_json::from_slice::<Record>(line).unwrap_err();
        let reason = describe(&error);
        assert!(!reason.contains("secret"), "{reason}");
        assert!(reason.contains("invalid type"), "{reason}");
        assert_eq!(id_of(line).as_deref(), Some("u1"));
        assert!(describe(&serde_json::from_slice::<Record>(b"{not json").unwrap_err()).starts_with("not valid JSON"));
    }

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact(r#"invalid type: string "a\"b", expected a boolean at line 1 column 9"#),
            r#"invalid type: string "…", expected a boolean at line 1 column 9"#
        );
        assert_eq!(redact("missing field `id`"), "missing field `id`");
    }
}
