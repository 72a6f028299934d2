//! Recovery times and SLO verdicts for the terminal. (Not built yet.)

use sim_core::output::Summary;

pub fn render(_s: &Summary) -> String {
    String::new()
}
