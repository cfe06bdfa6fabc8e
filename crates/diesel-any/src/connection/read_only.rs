//! Which SQLite connections can never write. SQLite opens a database read-only when its file (or
//! its `-wal` or `-shm` file) cannot be written, and keeps the connection that way for its whole
//! life; every connection of the process then shares the read-only `-shm` index, so even one
//! opened after a `chmod` cannot write while an older one is open. The pool therefore counts its
//! open connections: one opened while the files are read-only, or while such a one is still open,
//! is marked read-only, and is replaced at its next checkout or return once the files are
//! writable; when none is left, the next connection starts clean.
//!
//! Writability is asked of the kernel with `access(2)` on the three paths, never by opening them:
//! closing any descriptor of the database file would drop the process's POSIX locks on it,
//! SQLite's included.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The open connections to one SQLite database and whether they may share a read-only index.
#[derive(Debug)]
pub(super) struct FileAccess {
    /// The database file, and its `-wal` and `-shm` files next to it.
    paths: [PathBuf; 3],
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Connections open now.
    open: usize,
    /// A connection opened while the files were read-only may still be open.
    degraded: bool,
}

/// One open connection's place in the count, given back when the connection is dropped.
#[derive(Debug)]
pub(super) struct Opened {
    access: Arc<FileAccess>,
    read_only: bool,
}

impl FileAccess {
    /// The access to the database at `path`.
    pub(super) fn new(path: &Path) -> Self {
        let with_suffix = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        Self { paths: [path.to_owned(), with_suffix("-wal"), with_suffix("-shm")], state: Mutex::default() }
    }

    /// Counts a connection about to be opened, and says whether it will be read-only.
    pub(super) fn opening(self: &Arc<Self>) -> Opened {
        let writable = self.is_writable();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !writable {
            state.degraded = true;
        } else if state.open == 0 {
            state.degraded = false;
        }
        state.open += 1;
        Opened { access: Arc::clone(self), read_only: state.degraded }
    }

    /// Whether this process may write every one of the database's files that exists.
    fn is_writable(&self) -> bool {
        self.paths.iter().all(|path| match rustix::fs::access(path, rustix::fs::Access::WRITE_OK) {
            Ok(()) => true,
            Err(error) => error == rustix::io::Errno::NOENT,
        })
    }
}

impl Opened {
    /// Whether the connection can never write.
    pub(super) fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the connection is read-only although the files are now writable.
    pub(super) fn is_stale(&self) -> bool {
        self.read_only && self.access.is_writable()
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        let mut state = self.access.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.open = state.open.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn running_as_root() -> bool {
        // Root may write whatever the mode: the kernel answers `access` accordingly.
        let probe = std::env::temp_dir().join(format!("diesel-any-root-probe-{}", std::process::id()));
        std::fs::write(&probe, b"").expect("probe");
        set_mode(&probe, 0o400);
        let root = rustix::fs::access(&probe, rustix::fs::Access::WRITE_OK).is_ok();
        std::fs::remove_file(&probe).expect("removed");
        root
    }

    #[test]
    fn connections_opened_on_read_only_files_are_replaced_once_all_are_gone() {
        if running_as_root() {
            // Modes do not bind root; the end-to-end read-only test covers this as `nobody`.
            return;
        }
        let directory = std::env::temp_dir().join(format!("diesel-any-read-only-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("directory");
        let database = directory.join("identity.db");
        std::fs::write(&database, b"").expect("file");
        let access = Arc::new(FileAccess::new(&database));

        let writable = access.opening();
        assert!(!writable.is_read_only());
        set_mode(&database, 0o400);
        let first = access.opening();
        assert!(first.is_read_only() && !first.is_stale());
        set_mode(&database, 0o600);
        assert!(first.is_stale(), "writable again: the read-only connection must go");
        let second = access.opening();
        assert!(second.is_read_only(), "an older read-only connection is still open");
        drop((writable, first, second));
        assert!(!access.opening().is_read_only(), "none left: a clean start");
        std::fs::remove_dir_all(&directory).expect("cleaned");
    }
}
