//! Renders stopped part-way: SIGTERM and SIGINT remove the staging folder
//! beside `--output-dir` and the temporary folders before the process exits;
//! after a SIGKILL, the next run removes what the killed one left. The render
//! is made slow by a template looping 25 million times, and each signal is
//! sent once the staging and temporary folders exist (polled, no timing).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{minimal_generator, write_tree, Sandbox};

/// A template that takes many seconds: 5000 × 5000 empty iterations.
const SLOW_TEMPLATE: &str = "{{<- $l := strings.Split \"\" (strings.Repeat 5000 \"x\") >}}\
{{<- range $l >}}{{<- range $l >}}{{<- end >}}{{<- end >}}";

/// The minimal generator with the slow template (as `generator/`) and without (as `fast/`).
fn generators(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let mut slow = minimal_generator();
    slow.push(("templates/slow.yaml".into(), SLOW_TEMPLATE.into()));
    write_tree(&sb.path("slow"), &slow);
    write_tree(&sb.path("fast"), &minimal_generator());
    (sb.path("slow"), sb.path("fast"))
}

/// The names in `dir` starting with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Waits (at most two minutes, then fails) until `ready` holds while `child` runs.
fn wait_until(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(120);
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the render ended ({status}) before {what}");
        }
        assert!(Instant::now() < give_up, "{what} never happened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts the slow render and waits for its staging and source folders.
fn start_slow_render(sb: &Sandbox, slow: &Path) -> Child {
    let mut child = sb.command(&["generate", "--source-path", slow.to_str().unwrap(), "-O", "out"], &sb.path("tmp")).spawn().unwrap();
    wait_until(&mut child, "the staging and temporary folders appeared", || {
        !named(sb.dir.path(), ".deploykf-output-").is_empty()
            && !named(&sb.path("tmp"), "deploykf-generator-source-").is_empty()
    });
    child
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_and_sigint_remove_staging_and_temporary_folders() {
    let sb = Sandbox::new();
    let (slow, _) = generators(&sb);
    for (name, code) in [("TERM", 143), ("INT", 130)] {
        let mut child = start_slow_render(&sb, &slow);
        signal(&child, name);
        // Bounded: a process ignoring the signal is killed and the test fails.
        let give_up = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > give_up {
                child.kill().unwrap();
                panic!("SIG{name} did not stop the render");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(code), "SIG{name}");
        assert_eq!(named(sb.dir.path(), ".deploykf-output-"), Vec::<String>::new(), "SIG{name}: staging left");
        sb.assert_tmp_clean();
        assert!(!sb.path("out").exists());
    }
}

#[test]
fn a_rerun_removes_what_a_killed_render_left() {
    let sb = Sandbox::new();
    let (slow, fast) = generators(&sb);
    let mut child = start_slow_render(&sb, &slow);
    child.kill().unwrap(); // SIGKILL: no cleanup is possible
    child.wait().unwrap();
    assert_eq!(named(sb.dir.path(), ".deploykf-output-").len(), 1, "the killed run left its staging");
    assert_eq!(named(&sb.path("tmp"), "deploykf-generator-source-").len(), 1, "and its source folder");
    // Another run's live folders are kept meanwhile.
    let live = sb.path(&format!(".deploykf-output-{}.0-live", std::process::id()));
    fs::create_dir(&live).unwrap();

    sb.run(&["generate", "--source-path", fast.to_str().unwrap(), "-O", "out"]).assert_ok();
    assert_eq!(named(sb.dir.path(), ".deploykf-output-"), [live.file_name().unwrap().to_str().unwrap()]);
    sb.assert_tmp_clean();
    assert!(sb.path("out/.deploykf_output").is_file());
}
