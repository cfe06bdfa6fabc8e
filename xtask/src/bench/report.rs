//! The results of a run: a table on stdout with each scenario's ratio to its floor and to the
//! peer, and
//! `results.json` and `results.svg` (throughput and p99 latency per scenario) in
//! `target/bench/latest/` (`target/bench/quick/` for `--quick`).

use std::fmt::Write as _;
use std::path::Path;

use crate::bench::load::Measurement;
use crate::bench::scenarios::Scenario;

/// Everything one run measured.
#[derive(Debug, Default)]
pub(crate) struct Results {
    pub(crate) measurements: Vec<Measurement>,
    /// Argon2id verifications per second on every core with the server's hasher, when measured.
    pub(crate) argon2_floor_per_second: Option<f64>,
    /// The same with the reference C implementation (argon2-cffi), when measured.
    pub(crate) argon2_reference_per_second: Option<f64>,
    /// Cores of this machine.
    pub(crate) cores: usize,
    /// `release` or `debug`.
    pub(crate) build: &'static str,
}

impl Results {
    /// `measurement`'s throughput over its floor's, measured in the same run.
    fn ratio_to_floor(&self, measurement: &Measurement) -> Option<f64> {
        let floor_rate = match measurement.scenario {
            Scenario::Password => self.argon2_floor_per_second?,
            scenario => {
                let floor = scenario.floor()?;
                self.measurements.iter().find(|m| m.scenario == floor)?.per_second()
            }
        };
        (floor_rate > 0.0).then(|| measurement.per_second() / floor_rate)
    }

    /// `measurement`'s throughput over the peer's in the same scenario and run (the server's
    /// scenarios only).
    fn ratio_to_peer(&self, measurement: &Measurement) -> Option<f64> {
        if matches!(measurement.target.as_str(), "peer" | "floor") {
            return None;
        }
        let peer_scenario = measurement.scenario.peer()?;
        let peer = self.measurements.iter().find(|m| m.target == "peer" && m.scenario == peer_scenario)?;
        let peer_rate = peer.per_second();
        (peer_rate > 0.0).then(|| measurement.per_second() / peer_rate)
    }

    /// A password measurement's throughput over the reference C Argon2id floor.
    fn ratio_to_reference_argon2(&self, measurement: &Measurement) -> Option<f64> {
        let rate = self.argon2_reference_per_second.filter(|rate| *rate > 0.0)?;
        (measurement.scenario == Scenario::Password).then(|| measurement.per_second() / rate)
    }

    fn floor_name(measurement: &Measurement) -> &'static str {
        match measurement.scenario {
            Scenario::Password => "argon2id_all_cores",
            scenario => scenario.floor().map_or("", Scenario::name),
        }
    }

    /// The table printed at the end of a run.
    pub(crate) fn table(&self) -> String {
        let mut table = format!(
            "{:<24} {:<9} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>9} {:>8}  floor\n",
            "scenario",
            "target",
            "ops/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "srv cpu",
            "gen cpu",
            "vs floor",
            "vs peer"
        );
        let times = |ratio: Option<f64>| ratio.map_or_else(String::new, |ratio| format!("{ratio:.2}x"));
        for m in &self.measurements {
            let _ = writeln!(
                table,
                "{:<24} {:<9} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>7.0}% {:>7.0}% {:>9} {:>8}  {}",
                m.scenario.name(),
                m.target,
                m.per_second(),
                m.p50_ms,
                m.p99_ms,
                m.max_ms,
                m.errors,
                m.server_cpu_percent,
                m.generator_cpu_percent,
                times(self.ratio_to_floor(m)),
                times(self.ratio_to_peer(m)),
                Self::floor_name(m),
            );
        }
        if let Some(rate) = self.argon2_floor_per_second {
            let _ = writeln!(
                table,
                "argon2id_all_cores       floor     {rate:>10.1}  (the server's hasher and parameters, one thread per core)"
            );
        }
        if let Some(rate) = self.argon2_reference_per_second {
            let _ = writeln!(
                table,
                "argon2id_reference_c     floor     {rate:>10.1}  (argon2-cffi, the same parameters, one process per core)"
            );
            for m in self.measurements.iter().filter(|m| m.scenario == Scenario::Password) {
                let _ = writeln!(
                    table,
                    "password on {} vs the reference C floor: {}",
                    m.target,
                    times(self.ratio_to_reference_argon2(m))
                );
            }
        }
        table
    }

    /// The results as JSON.
    pub(crate) fn json(&self) -> String {
        let mut json = format!(
            "{{\n  \"cores\": {},\n  \"build\": \"{}\",\n  \"argon2id_floor_per_second\": {},\n  \
             \"argon2id_reference_c_per_second\": {},\n  \"measurements\": [",
            self.cores,
            self.build,
            json_number(self.argon2_floor_per_second, 1),
            json_number(self.argon2_reference_per_second, 1),
        );
        for (index, m) in self.measurements.iter().enumerate() {
            let ratio = json_number(self.ratio_to_floor(m), 3);
            let peer_ratio = json_number(self.ratio_to_peer(m), 3);
            let reference_ratio = json_number(self.ratio_to_reference_argon2(m), 3);
            let error = m.first_error.as_deref().map_or_else(|| "null".to_owned(), json_string);
            let _ = write!(
                json,
                "{}\n    {{\"scenario\": \"{}\", \"target\": \"{}\", \"connections\": {}, \"seconds\": {:.1}, \
                 \"operations\": {}, \"errors\": {}, \"per_second\": {:.1}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \
                 \"max_ms\": {:.3}, \"server_cpu_percent\": {:.1}, \"generator_cpu_percent\": {:.1}, \
                 \"server_resident_mib\": {:.1}, \"floor\": \"{}\", \"ratio_to_floor\": {ratio}, \"ratio_to_peer\": {peer_ratio}, \
                 \"ratio_to_reference_argon2\": {reference_ratio}, \"first_error\": {error}}}",
                if index == 0 { "" } else { "," },
                m.scenario.name(),
                m.target,
                m.connections,
                m.seconds,
                m.operations,
                m.errors,
                m.per_second(),
                m.p50_ms,
                m.p99_ms,
                m.max_ms,
                m.server_cpu_percent,
                m.generator_cpu_percent,
                m.server_resident_mib,
                Self::floor_name(m),
            );
        }
        json.push_str("\n  ]\n}\n");
        json
    }

    /// A bar chart: one row per measurement, throughput as a bar (scaled to the largest), the
    /// numbers and the p99 latency written beside it.
    pub(crate) fn svg(&self) -> String {
        const ROW: usize = 22;
        const LABEL_WIDTH: usize = 260;
        const BAR_WIDTH: f64 = 420.0;
        let largest = self.measurements.iter().map(Measurement::per_second).fold(1.0_f64, f64::max);
        let height = 40 + ROW * self.measurements.len();
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <text x=\"10\" y=\"20\" font-weight=\"bold\">identity-server: operations per second and p99 latency ({} build, {} cores)</text>\n",
            self.build, self.cores
        );
        for (index, m) in self.measurements.iter().enumerate() {
            let y = 34 + ROW * index;
            let width = BAR_WIDTH * m.per_second() / largest;
            let colour = match m.target.as_str() {
                "floor" => "#999999",
                "peer" => "#c07a2a",
                _ => "#3a6ea5",
            };
            let _ = writeln!(
                svg,
                "<text x=\"10\" y=\"{}\">{} ({})</text><rect x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{width:.1}\" height=\"16\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{}\">{:.0}/s, p99 {:.1} ms</text>",
                y + 12,
                m.scenario.name(),
                m.target,
                LABEL_WIDTH as f64 + width + 6.0,
                y + 12,
                m.per_second(),
                m.p99_ms,
            );
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// Writes `results.json` and `results.svg` into `directory`.
    pub(crate) fn write(&self, directory: &Path) -> Result<(), String> {
        std::fs::create_dir_all(directory).map_err(|e| format!("cannot create {}: {e}", directory.display()))?;
        for (name, content) in [("results.json", self.json()), ("results.svg", self.svg())] {
            let path = directory.join(name);
            std::fs::write(&path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// `value` with `decimals` digits after the point, or `null`.
fn json_number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "null".to_owned(), |value| format!("{value:.decimals$}"))
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(json_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\u000ad\"");
    }
}
