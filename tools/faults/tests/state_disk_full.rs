//! The push state file on a full disk: a small tmpfs the test mounts, too
//! small for one push's state. The monitor must say so at error level,
//! count it, acknowledge nothing it could not record and go on; once the
//! disk has room again, the redelivered messages are recorded and the push
//! finishes with the generator's truth: nothing lost, nothing counted twice.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pulse_build_monitor::{
    ConsumeOptions, Filter, Monitor, PushEvent, PushEventKind, PushSettings, Source,
};
use pulse_faults::CapturedLog;
use pulse_synthetic::Push;
use pulse_test_support::{have_program, in_ci, require, unique, wait_for, TempDir, Vhost};

/// Mounts a tmpfs of `size` at `dir`; unmounted when dropped.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(dir: &'a Path, size: &str) -> Option<Tmpfs<'a>> {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .ok()?;
        status.success().then_some(Tmpfs(dir))
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount {} to {size}", self.0.display());
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        // Lazy: a file still open (a failed test's monitor) must not keep
        // the mount behind.
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_acknowledges_nothing_it_could_not_record() {
    if require(have_program("mount"), "mount (util-linux)").is_err() {
        return;
    }
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let dir = TempDir::new("state-disk-full");
    let Some(disk) = Tmpfs::mount(dir.path(), "160k") else {
        assert!(
            !in_ci(),
            "cannot mount a tmpfs (root is needed) under CI=true"
        );
        eprintln!("skipped: cannot mount a tmpfs here (not root?)");
        return;
    };
    let log = CapturedLog::install();
    let tree = unique("disk-full");
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(1500)
        .seed(91)
        .build();
    let truth = push.truth();

    let events: Arc<Mutex<Vec<PushEvent>>> = Arc::default();
    let heard = Arc::clone(&events);
    let label = unique("disk-full");
    let monitor = Monitor::builder()
        .broker(vhost.settings("disk-full-monitor"))
        .source(Source::Taskcluster { progress: false })
        .filter(Filter::builder().trees([tree.as_str()]).build().unwrap())
        .label(&label)
        .durable(true)
        .declare_exchanges(true)
        .consume_options(ConsumeOptions::default().with_stop_timeout(Duration::from_secs(2)))
        .push_tracking(
            PushSettings::default()
                .with_state_file(dir.join("pushes.sqlite"))
                .with_quiet_period(Duration::from_secs(1)),
        )
        .on_push(move |event| heard.lock().unwrap().push(event))
        .start()
        .expect("the monitor starts while the disk has room");

    let messages: Vec<_> = push.messages().into_iter().map(|m| m.message).collect();
    pulse_test_support::publish_pulse_messages(&vhost.settings("disk-full-publisher"), &messages);

    assert!(
        wait_for(Duration::from_secs(60), || monitor
            .stats()
            .state_write_errors
            >= 3),
        "the state never failed to be written: {:?}",
        monitor.stats()
    );
    let stats = monitor.stats();
    assert!(monitor.is_alive(), "the monitor goes on");
    assert!(
        stats.acknowledged < messages.len() as u64,
        "what could not be recorded was not acknowledged: {stats:?}"
    );
    let finished = |events: &[PushEvent]| {
        events
            .iter()
            .filter(|e| e.event == PushEventKind::Finished)
            .count()
    };
    assert_eq!(
        finished(&events.lock().unwrap()),
        0,
        "finished on a full disk"
    );
    // The state writer says what it left to the broker (the ticker's own
    // writes, finishing pushes, may fail and say so first).
    let errors = log.matching(log::Level::Error, "pushes.sqlite");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("left unacknowledged for redelivery")),
        "{errors:?}"
    );

    disk.resize("64m");
    assert!(
        wait_for(Duration::from_secs(120), || finished(
            &events.lock().unwrap()
        ) == 1),
        "the push did not finish once the disk had room: {:?}",
        monitor.stats()
    );
    let report = monitor.stop_timeout(Duration::from_secs(10));
    let events = events.lock().unwrap();
    let summary = &events
        .iter()
        .find(|e| e.event == PushEventKind::Finished)
        .unwrap()
        .push;
    let counts = summary.counts;
    println!(
        "RESULT state-disk-full tasks={} write_errors={} acknowledged={} received={}",
        counts.tasks,
        report.stats.state_write_errors,
        report.stats.acknowledged,
        report.stats.received
    );
    assert_eq!(
        (
            counts.tasks,
            counts.success,
            counts.testfailed,
            counts.busted
        ),
        (truth.tasks, truth.success, truth.testfailed, truth.busted),
        "{counts:?}"
    );
    assert_eq!(
        (counts.exception, counts.usercancel, counts.reruns),
        (truth.exception, truth.usercancel, truth.reruns)
    );
    assert_eq!(counts.unfinished(), 0);
    assert_eq!(finished(&events), 1, "finished once");
    drop(monitor);
    drop(disk);
}
