//! Bookkeeping shared by the differential tests: what was compared, what agreed, what
//! differed (listed with a reason or not), and what only one side refused.

use std::collections::BTreeMap;

/// Outcomes of comparing Playhead with an oracle over a set of files.
#[derive(Debug, Default)]
pub struct Tally {
    /// Files both sides read.
    pub compared: usize,
    /// Of those, files whose comparison found nothing.
    pub equal: usize,
    /// Files that differ with a reason in `oracle-differences.tsv`.
    pub listed: usize,
    /// Files that differ without a listed reason, with their report.
    pub unexpected: Vec<String>,
    /// Every file that differed.
    pub differing: Vec<String>,
    /// Files only Playhead refused: (path, error).
    pub ours_only: Vec<(String, String)>,
    /// Files only the oracle refused: (path, error).
    pub oracle_only: Vec<(String, String)>,
    /// Files both refused: (path, ours, oracle's).
    pub both: Vec<(String, String, String)>,
}

impl Tally {
    /// Records the two parses of `rel`; returns both results when both sides read it.
    pub fn read<A, B>(
        &mut self,
        rel: &str,
        ours: Result<A, String>,
        theirs: Result<B, String>,
    ) -> Option<(A, B)> {
        match (ours, theirs) {
            (Ok(a), Ok(b)) => {
                self.compared += 1;
                Some((a, b))
            }
            (Err(e), Ok(_)) => {
                self.ours_only.push((rel.to_owned(), e));
                None
            }
            (Ok(_), Err(e)) => {
                self.oracle_only.push((rel.to_owned(), e));
                None
            }
            (Err(a), Err(b)) => {
                self.both.push((rel.to_owned(), a, b));
                None
            }
        }
    }

    /// Records the mismatches found in `rel` (none: equal).
    pub fn compare(
        &mut self,
        rel: &str,
        mismatches: &[String],
        expected: &BTreeMap<String, String>,
    ) {
        if mismatches.is_empty() {
            self.equal += 1;
            return;
        }
        self.differing.push(rel.to_owned());
        match expected.get(rel) {
            Some(reason) => {
                self.listed += 1;
                println!("listed difference: {rel}: {reason}");
            }
            None => self
                .unexpected
                .push(format!("  {rel}\n      {}", mismatches.join("\n      "))),
        }
    }

    /// Prints the counts and every one-sided refusal; flags listed differences that no
    /// longer occur among `in_scope` files; `Err` lists the unexpected differences.
    pub fn finish(
        &self,
        title: &str,
        in_scope: &[String],
        expected: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        println!("\n{title}: {} files", in_scope.len());
        println!(
            "  compared={} equal={} listed-differences={} unexpected-differences={} ours-only-error={} oracle-only-error={} both-error={}",
            self.compared,
            self.equal,
            self.listed,
            self.unexpected.len(),
            self.ours_only.len(),
            self.oracle_only.len(),
            self.both.len()
        );
        for (rel, e) in &self.ours_only {
            println!("  ours-only-error   {rel}: {}", clip(e));
        }
        for (rel, e) in &self.oracle_only {
            println!("  oracle-only-error {rel}: {}", clip(e));
        }
        for (rel, a, b) in &self.both {
            println!(
                "  both-error        {rel}: ours {} | oracle {}",
                clip(a),
                clip(b)
            );
        }
        for path in expected.keys() {
            if in_scope.contains(path) && !self.differing.contains(path) {
                println!("  STALE expectation (no difference any more): {path}");
            }
        }
        if self.unexpected.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} difference(s) not listed in conformance/oracle-differences.tsv:\n{}",
                self.unexpected.len(),
                self.unexpected.join("\n")
            ))
        }
    }
}

/// One line of at most 200 characters.
pub fn clip(s: &str) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() > 200 {
        format!("{}...", one_line.chars().take(200).collect::<String>())
    } else {
        one_line
    }
}
