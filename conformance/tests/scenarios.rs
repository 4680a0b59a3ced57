//! Scenario tests: the engine in deterministic simulation, with transcripts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use playhead::engine::{Command, SeekTarget};
use playhead::{Micros, UnixMicros};
use playhead_conformance::sim::net::{Fault, FaultKind};
use playhead_conformance::sim::origin::{LiveConfig, Origin, OriginConfig, OriginFormat};
use playhead_conformance::sim::{Sim, SimConfig};

const S: i64 = 1_000_000;
const MIN: i64 = 60 * S;

fn live(format: OriginFormat, dvr: i64, started_ago: i64) -> OriginConfig {
    let mut c = OriginConfig::example(format);
    c.live = Some(LiveConfig {
        availability_start: UnixMicros(SimConfig::default().start_wall.0 - started_ago),
        dvr_window: Micros(dvr),
        end: None,
    });
    c
}

fn run(config: OriginConfig, sim: SimConfig, until: i64, setup: impl FnOnce(&mut Sim)) -> Sim {
    let mut sim = Sim::new(Origin::new(config), sim);
    sim.load_and_play();
    setup(&mut sim);
    sim.run_until(Micros(until));
    sim
}

fn dump(sim: &Sim) {
    for l in sim.transcript() {
        if !l.contains(" media ") && !l.contains(" init ") {
            println!("{l}");
        }
    }
    println!("decoder {:?} pos {} frames {} stalls {} longest {}", sim.decoder.state, sim.decoder.position, sim.decoder.frames, sim.decoder.stalls, sim.decoder.longest_stall);
}

#[test]
fn live_join() {
    for f in [OriginFormat::DashTemplate, OriginFormat::HlsFmp4, OriginFormat::Smooth, OriginFormat::DashTimeline] {
        let sim = run(live(f, 2 * 3600 * S, 3 * 3600 * S), SimConfig::default(), 30 * S, |_| {});
        dump(&sim);
    }
}
