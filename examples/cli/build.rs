// The corpus tests of the CLI are skipped the same way as the conformance suite's.
include!("../../conformance/build.rs");
