//! How a copy run reports what it does: the copy code sends events (an image
//! started, bytes of a blob streamed, an image done or failed) to a
//! [`Progress`]. On a terminal ([`for_stderr`]) each running image gets a bar
//! of the bytes it uploads under a bar of the images done; otherwise the
//! plain lines `copied SRC -> DST`, `present SRC -> DST`, `FAILED SRC -> DST:
//! why` (with `(pulled from ALIAS)` after DST under a source alias), one per
//! image, as they finish.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::CopyJob;
use crate::client::Failure;

/// Receives the events of a run; `image` is the job's index in the run.
pub trait Progress: Send + Sync {
    /// The copy of job `image` starts.
    fn start(&self, image: usize, job: &CopyJob);
    /// A blob of `size` bytes starts streaming for `image`.
    fn upload_started(&self, image: usize, size: u64);
    /// `bytes` more bytes of a blob of `image` were streamed.
    fn transferred(&self, image: usize, bytes: u64);
    /// An attempt that had streamed `bytes` failed (its retry streams them again).
    fn rewind(&self, image: usize, bytes: u64);
    /// A line for the user (printed above the bars on a terminal).
    fn note(&self, line: &str);
    /// Job `image` ended: `Ok(true)` copied, `Ok(false)` already present.
    fn finish(&self, image: usize, job: &CopyJob, outcome: &Result<bool, Failure>);
}

/// The line printed when an image ends (both renderings).
pub fn outcome_line(job: &CopyJob, outcome: &Result<bool, Failure>) -> String {
    match outcome {
        Ok(true) => format!("copied {job}"),
        Ok(false) => format!("present {job}"),
        Err(e) => format!("FAILED {job}: {e}"),
    }
}

/// Bars when stderr is a terminal, plain lines otherwise.
pub fn for_stderr(images: usize) -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars::new(images, ProgressDrawTarget::stderr()))
    } else {
        Box::new(Plain)
    }
}

/// Plain lines on stderr, one per finished image.
pub struct Plain;

impl Progress for Plain {
    fn start(&self, _: usize, _: &CopyJob) {}
    fn upload_started(&self, _: usize, _: u64) {}
    fn transferred(&self, _: usize, _: u64) {}
    fn rewind(&self, _: usize, _: u64) {}
    fn note(&self, line: &str) {
        eprintln!("{line}");
    }
    fn finish(&self, _: usize, job: &CopyJob, outcome: &Result<bool, Failure>) {
        eprintln!("{}", outcome_line(job, outcome));
    }
}

/// indicatif bars: one for the images done, one per running image (bytes
/// uploaded of the blobs it streams, rate); a finished image's bar is
/// replaced by its plain line, printed above the bars.
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    running: Mutex<std::collections::HashMap<usize, ProgressBar>>,
}

impl Bars {
    /// Bars for a run of `images` images drawn to `target`.
    pub fn new(images: usize, target: ProgressDrawTarget) -> Bars {
        let multi = MultiProgress::with_draw_target(target);
        let total = multi.add(ProgressBar::new(images as u64));
        total.set_style(
            ProgressStyle::with_template("{spinner} images {pos}/{len} [{elapsed_precise}] {wide_bar}")
                .expect("a valid template"),
        );
        total.enable_steady_tick(Duration::from_millis(200));
        Bars { multi, total, running: Mutex::new(Default::default()) }
    }

    fn bar(&self, image: usize) -> Option<ProgressBar> {
        self.running.lock().unwrap().get(&image).cloned()
    }
}

impl Progress for Bars {
    fn start(&self, image: usize, job: &CopyJob) {
        // A spinner until the image streams a blob (it may need none).
        let bar = self.multi.add(ProgressBar::new(0));
        bar.set_style(ProgressStyle::with_template("  {spinner} {msg}").expect("a valid template"));
        bar.set_message(job.rendered().to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.running.lock().unwrap().insert(image, bar);
    }

    fn upload_started(&self, image: usize, size: u64) {
        if let Some(bar) = self.bar(image) {
            if bar.length() == Some(0) {
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {msg} {bytes}/{total_bytes} {bar:30} {bytes_per_sec}")
                        .expect("a valid template"),
                );
            }
            bar.inc_length(size);
        }
    }

    fn transferred(&self, image: usize, bytes: u64) {
        if let Some(bar) = self.bar(image) {
            bar.inc(bytes);
        }
    }

    fn rewind(&self, image: usize, bytes: u64) {
        if let Some(bar) = self.bar(image) {
            bar.set_position(bar.position().saturating_sub(bytes));
        }
    }

    fn note(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    fn finish(&self, image: usize, job: &CopyJob, outcome: &Result<bool, Failure>) {
        if let Some(bar) = self.running.lock().unwrap().remove(&image) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.println(outcome_line(job, outcome));
        self.total.inc(1);
        if self.total.position() >= self.total.length().unwrap_or(0) {
            self.total.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image_ref::ImageRef;

    fn job() -> CopyJob {
        CopyJob { source: ImageRef::parse("quay.io/a/b:1").unwrap(), target: ImageRef::parse("reg.local/a/b:1").unwrap(), original: None }
    }

    #[test]
    fn outcome_lines() {
        assert_eq!(outcome_line(&job(), &Ok(true)), "copied quay.io/a/b:1 -> reg.local/a/b:1");
        assert_eq!(outcome_line(&job(), &Ok(false)), "present quay.io/a/b:1 -> reg.local/a/b:1");
        assert!(outcome_line(&job(), &Err(Failure::fatal("boom"))).starts_with("FAILED quay.io/a/b:1 -> reg.local/a/b:1: boom"));
    }

    #[test]
    fn bars_count_bytes_and_rewind_failed_attempts() {
        let bars = Bars::new(1, ProgressDrawTarget::hidden());
        bars.start(0, &job());
        bars.upload_started(0, 100);
        bars.upload_started(0, 50);
        bars.transferred(0, 80);
        bars.rewind(0, 30);
        let bar = bars.bar(0).unwrap();
        assert_eq!((bar.position(), bar.length()), (50, Some(150)));
        bars.finish(0, &job(), &Ok(true));
        assert!(bars.bar(0).is_none());
        assert_eq!(bars.total.position(), 1);
    }
}
