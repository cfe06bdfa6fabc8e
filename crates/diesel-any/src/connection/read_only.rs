//! Which SQLite connections can never write. SQLite opens a database read-only when its file (or
//! its `-wal` or `-shm` file) cannot be written, and keeps the connection that way for its whole
//! life; connections opened while such a one is open may share its read-only `-shm` index, so
//! even one opened after a `chmod` may not write while an older one is open. The pool therefore
//! counts its read-only connections: one opened while the files are read-only (checked just
//! before and just after opening, so a `chmod` in between is not missed), or while another
//! read-only one is still open, is marked read-only, and is replaced at its next checkout or
//! return once the files are writable; when none is left, the next connection starts clean.
//! Connections opened while the files were writable keep writing whatever happens to the modes
//! (their descriptors were opened for writing) and are not counted.
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
    /// Whether this process may write them all: [`files_writable`], or a stand-in in tests.
    writable: fn(&[PathBuf]) -> bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Read-only connections open now.
    read_only_open: usize,
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
        Self {
            paths: [path.to_owned(), with_suffix("-wal"), with_suffix("-shm")],
            writable: files_writable,
            state: Mutex::default(),
        }
    }

    /// Opens a connection with `open` and counts it if it is read-only.
    pub(super) fn open<T, E>(self: &Arc<Self>, open: impl FnOnce() -> Result<T, E>) -> Result<(T, Opened), E> {
        let writable_before = self.is_writable();
        let connection = open()?;
        let writable = writable_before && self.is_writable();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let read_only = !writable || state.read_only_open > 0;
        if read_only {
            state.read_only_open += 1;
        }
        Ok((connection, Opened { access: Arc::clone(self), read_only }))
    }

    fn is_writable(&self) -> bool {
        (self.writable)(&self.paths)
    }
}

/// Whether this process may write every one of `paths` that exists.
fn files_writable(paths: &[PathBuf]) -> bool {
    paths.iter().all(|path| match rustix::fs::access(path, rustix::fs::Access::WRITE_OK) {
        Ok(()) => true,
        Err(error) => error == rustix::io::Errno::NOENT,
    })
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
        if self.read_only {
            let mut state = self.access.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.read_only_open = state.read_only_open.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The files' writability as the counting test sets it (root, as in CI, may write whatever
    /// the modes say, so the modes cannot drive that test).
    static WRITABLE: AtomicBool = AtomicBool::new(true);

    #[test]
    fn connections_opened_on_read_only_files_are_replaced_once_none_is_left() {
        let mut access = FileAccess::new(Path::new("identity.db"));
        access.writable = |_| WRITABLE.load(Ordering::SeqCst);
        let access = Arc::new(access);
        let opened = || access.open(|| Ok::<_, ()>(())).map(|((), opened)| opened).expect("opens");

        let writable = opened();
        assert!(!writable.is_read_only());
        WRITABLE.store(false, Ordering::SeqCst);
        let first = opened();
        assert!(first.is_read_only() && !first.is_stale());
        assert!(!writable.is_read_only() && !writable.is_stale(), "a connection opened writable keeps writing");
        WRITABLE.store(true, Ordering::SeqCst);
        assert!(first.is_stale(), "writable again: the read-only connection must go");
        let second = opened();
        assert!(second.is_read_only(), "an older read-only connection is still open");
        drop((first, second));
        assert!(!opened().is_read_only(), "no read-only one left: a clean start, beside the writable one");
        drop(writable);
    }

    #[test]
    fn a_file_without_write_permission_is_read_only_to_anyone_but_root() {
        let directory = std::env::temp_dir().join(format!("diesel-any-read-only-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("directory");
        let database = directory.join("identity.db");
        std::fs::write(&database, b"").expect("file");
        let paths = FileAccess::new(&database).paths;
        assert!(files_writable(&paths), "the file is writable and its -wal and -shm files do not exist");
        std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        // A new file belongs to the effective user.
        let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&database).expect("metadata")) == 0;
        assert_eq!(files_writable(&paths), root, "root may write whatever the mode says");
        std::fs::remove_dir_all(&directory).expect("cleaned");
    }
}
