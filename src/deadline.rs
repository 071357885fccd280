//! The overall deadline of one plugin request (`DEPLOYKF_CMP_DEADLINE_SECONDS`,
//! default 50 s so that `init` and `generate` together end before Argo CD's
//! 60 s request budget; `generate` counts from the start of its `init`), and
//! what the run is fetching right now, so that a run cut short names the host
//! it was waiting for. Network code records its current fetch with [`doing`].

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::anyhow;

use crate::settings::DEADLINE_ENV;
/// The default deadline: below Argo CD's default 60 s for init and generate.
pub const DEFAULT_SECONDS: u64 = 50;
/// The largest deadline accepted (one day).
pub const MAX_SECONDS: u64 = 86_400;
/// How long after the deadline the watchdog ends a run that did not stop by itself.
const WATCHDOG_GRACE: Duration = Duration::from_secs(2);

static ACTIVITY: Mutex<String> = Mutex::new(String::new());

/// Records what the run is doing now (`fetching … from <host>`).
pub fn doing(what: impl Into<String>) {
    if let Ok(mut activity) = ACTIVITY.lock() {
        *activity = what.into();
    }
}

/// What the run was last doing, as recorded by [`doing`].
fn activity() -> String {
    let activity = ACTIVITY.lock().map(|a| a.clone()).unwrap_or_default();
    if activity.is_empty() {
        "starting".into()
    } else {
        activity
    }
}

/// A point in time the run must end by.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    /// When the run must end.
    pub at: Instant,
    seconds: u64,
}

impl Deadline {
    /// The deadline `seconds` after `started` (the start of the request's
    /// `init`, kept in the working directory), now at the earliest; `None` for `0`.
    pub fn since(seconds: u64, started: SystemTime) -> Option<Deadline> {
        let end = started + Duration::from_secs(seconds);
        let left = end.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        (seconds > 0).then(|| Deadline { at: Instant::now() + left, seconds })
    }

    /// The error of a run that reached the deadline, naming what it was fetching.
    pub fn expired(&self) -> anyhow::Error {
        expired(self.seconds, &activity())
    }

    /// Ends the process with [`expired`](Self::expired)'s message and exit code 1
    /// when it is still running shortly after the deadline (a step that cannot be
    /// cut short cleanly, such as a hung tool).
    pub fn watch(self) {
        std::thread::spawn(move || {
            std::thread::sleep(self.at.saturating_duration_since(Instant::now()) + WATCHDOG_GRACE);
            eprintln!("Error: {:#}", self.expired());
            std::process::exit(1);
        });
    }
}

fn expired(seconds: u64, activity: &str) -> anyhow::Error {
    anyhow!(
        "the plugin's deadline of {seconds} s ({DEADLINE_ENV}) passed while {activity}: the server is too slow or does not \
         answer; check it from the repo-server, or raise {DEADLINE_ENV} together with Argo CD's own timeouts (see deploy/README.md)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_turns_the_deadline_off() {
        assert_eq!(Deadline::since(7, SystemTime::now()).unwrap().seconds, 7);
        assert!(Deadline::since(0, SystemTime::now()).is_none());
    }

    #[test]
    fn generate_gets_what_init_left_of_the_request_budget() {
        let init_started = SystemTime::now() - Duration::from_secs(40);
        let left = Deadline::since(DEFAULT_SECONDS, init_started).unwrap().at - Instant::now();
        assert!(left <= Duration::from_secs(10) && left > Duration::from_secs(5), "{left:?}");
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        assert!(Deadline::since(50, long_ago).unwrap().at <= Instant::now());
        assert!(Deadline::since(0, long_ago).is_none());
    }

    #[test]
    fn an_expired_deadline_names_what_was_being_fetched() {
        let message = expired(3, "fetching https://charts.example/index.yaml from charts.example").to_string();
        assert!(message.contains("deadline of 3 s") && message.contains("from charts.example"), "{message}");
    }
}
