//! The overall deadline of one plugin run (`DEPLOYKF_CMP_DEADLINE_SECONDS`,
//! default 50 s so that a run ends before Argo CD's 60 s request budget), and
//! what the run is fetching right now, so that a run cut short names the host
//! it was waiting for. Network code records its current fetch with [`doing`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};

use crate::settings::DEADLINE_ENV;
/// The default deadline: below Argo CD's default 60 s for init and generate.
pub const DEFAULT_SECONDS: u64 = 50;
/// The largest deadline accepted (one day).
const MAX_SECONDS: u64 = 86_400;
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
    /// The deadline `value` seconds (else [`DEFAULT_SECONDS`]) from now; `None` for `0`.
    pub fn from_var(value: Option<&str>) -> Result<Option<Deadline>> {
        let seconds = match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => DEFAULT_SECONDS,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= MAX_SECONDS => n,
                _ => bail!("{DEADLINE_ENV} must be a whole number of seconds from 0 (no deadline) to {MAX_SECONDS}, not '{v}'"),
            },
        };
        Ok((seconds > 0).then(|| Deadline { at: Instant::now() + Duration::from_secs(seconds), seconds }))
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
    fn the_deadline_is_range_checked_and_zero_turns_it_off() {
        let default = Deadline::from_var(None).unwrap().unwrap();
        assert_eq!(default.seconds, DEFAULT_SECONDS);
        assert_eq!(Deadline::from_var(Some(" 7 ")).unwrap().unwrap().seconds, 7);
        assert!(Deadline::from_var(Some("0")).unwrap().is_none());
        for bad in ["-1", "1.5", "ten", "86401", "17592186044416"] {
            let message = Deadline::from_var(Some(bad)).unwrap_err().to_string();
            assert!(message.contains(DEADLINE_ENV) && message.contains(bad), "{message}");
        }
    }

    #[test]
    fn an_expired_deadline_names_what_was_being_fetched() {
        let message = expired(3, "fetching https://charts.example/index.yaml from charts.example").to_string();
        assert!(message.contains("deadline of 3 s") && message.contains("from charts.example"), "{message}");
    }
}
