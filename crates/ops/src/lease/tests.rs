use super::*;

fn terraform() -> Started {
    Started::Terraform { root: "/infra/terraform".into(), data_dir: Some("/work/terraform".into()) }
}

fn lab() -> Started {
    Started::Lab { bin: "/bin/vixens-lab".into(), state_dir: "/work/state".into() }
}

/// A run whose runner is this very process (alive as long as the test).
fn live_run(id: &str) -> RunRef {
    RunRef { id: id.into(), runner: ProcessRef::current().unwrap() }
}

/// A run whose runner is gone: a pid that runs, with a start time it never had.
fn finished_run(id: &str) -> RunRef {
    let me = ProcessRef::current().unwrap();
    RunRef { id: id.into(), runner: ProcessRef { start: me.start + 1, ..me } }
}

fn nothing_to_undo(item: &Started, _: Held<'_>) -> Result<(), UndoFailure> {
    panic!("nothing is stale, yet {item} was undone")
}

#[test]
fn a_lease_is_on_disk_before_anything_starts_and_gone_once_released() {
    let dir = tempfile::tempdir().unwrap();
    let mut lease = Lease::acquire(dir.path(), "fresh_cluster_validation::recreate_cycle", None, DEFAULT_WAIT, nothing_to_undo).unwrap();
    assert_eq!(lease.found(), &Found::Free);
    let record = read(dir.path()).unwrap().expect("written at once");
    assert_eq!(record.holder.pid, std::process::id());
    assert_eq!(record.holder.purpose, "fresh_cluster_validation::recreate_cycle");
    assert!(record.started.is_empty() && record.run.is_none());

    lease.add(terraform()).unwrap();
    lease.add(lab()).unwrap();
    lease.add(terraform()).unwrap();
    assert_eq!(read(dir.path()).unwrap().unwrap().started, [terraform(), lab()]);

    lease.release().unwrap();
    assert_eq!(read(dir.path()).unwrap(), None);
}

#[test]
fn a_record_left_by_a_killed_process_outside_any_run_is_reaped_terraform_first_through_the_safe_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let mut lease = Lease::acquire(dir.path(), "killed", None, DEFAULT_WAIT, nothing_to_undo).unwrap();
    lease.add(terraform()).unwrap();
    lease.add(lab()).unwrap();
    drop(lease); // as a SIGKILL leaves it: the lock is gone, the record stays

    let mut undone = Vec::new();
    let lease = Lease::acquire(dir.path(), "next", None, DEFAULT_WAIT, |item, _| {
        undone.push(item.clone());
        Ok(())
    })
    .unwrap();
    let Found::Reaped(old) = lease.found() else { panic!("stale: {:?}", lease.found()) };
    assert_eq!(old.holder.purpose, "killed");
    assert_eq!(undone, [terraform(), lab()], "the safe destroy stops the lab it started, inventory before and after");
    assert!(lease.record().started.is_empty());
}

#[test]
fn the_next_test_of_the_same_run_adopts_what_an_earlier_one_started() {
    let dir = tempfile::tempdir().unwrap();
    let run = live_run("run-1");
    let mut first =
        Lease::acquire(dir.path(), "fresh_cluster_validation::system_apps_healthy", Some(run.clone()), DEFAULT_WAIT, nothing_to_undo).unwrap();
    first.add(terraform()).unwrap();
    drop(first); // the test process ends; the environment stays up for the run

    let second = Lease::acquire(dir.path(), "fresh_cluster_validation::talos_logs_clean", Some(run.clone()), DEFAULT_WAIT, nothing_to_undo).unwrap();
    assert_eq!(second.found(), &Found::OfThisRun);
    assert_eq!(second.record().started, [terraform()]);
    assert_eq!(second.record().holder.purpose, "fresh_cluster_validation::talos_logs_clean");
    assert_eq!(second.record().run, Some(run));
}

#[test]
fn a_record_of_a_run_that_is_over_is_reaped_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = Lease::acquire(dir.path(), "old run", Some(finished_run("run-1")), DEFAULT_WAIT, nothing_to_undo).unwrap();
    old.add(lab()).unwrap();
    drop(old);

    let mut undone = Vec::new();
    let lease = Lease::acquire(dir.path(), "new run", Some(live_run("run-2")), DEFAULT_WAIT, |item, _| {
        undone.push(item.clone());
        Ok(())
    })
    .unwrap();
    assert!(matches!(lease.found(), Found::Reaped(_)), "{:?}", lease.found());
    assert_eq!(undone, [lab()]);
}

#[test]
fn another_run_that_is_still_going_keeps_the_environment_busy() {
    let dir = tempfile::tempdir().unwrap();
    let mut other =
        Lease::acquire(dir.path(), "fresh_cluster_validation::recreate_cycle", Some(live_run("run-1")), DEFAULT_WAIT, nothing_to_undo).unwrap();
    other.add(lab()).unwrap();
    drop(other);

    let error = Lease::acquire(dir.path(), "mine", Some(live_run("run-2")), DEFAULT_WAIT, nothing_to_undo).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("is in use by nextest run run-1 (runner pid "), "{message}");
    assert!(message.ends_with("for fresh_cluster_validation::recreate_cycle); two runs must not touch one environment at once"), "{message}");
    let error = Lease::acquire(dir.path(), "outside nextest", None, DEFAULT_WAIT, nothing_to_undo).unwrap_err();
    assert!(matches!(error, Error::Busy { .. }), "{error}");
}

#[test]
fn an_item_that_cannot_be_undone_is_kept_for_the_next_try() {
    let dir = tempfile::tempdir().unwrap();
    let mut lease = Lease::acquire(dir.path(), "killed", None, DEFAULT_WAIT, nothing_to_undo).unwrap();
    lease.add(terraform()).unwrap();
    lease.add(lab()).unwrap();
    drop(lease);

    let error = Lease::acquire(dir.path(), "next", None, DEFAULT_WAIT, |item, _| match item {
        Started::Lab { .. } => Ok(()),
        Started::Terraform { .. } => Err(UndoFailure::new("the destroy plan deletes a protected resource", "`vixens lease reap lab --force`")),
    })
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.ends_with(
            "(terraform apply of /infra/terraform): the destroy plan deletes a protected resource\nto unwedge it: `vixens lease reap lab --force`"
        ),
        "{message}"
    );
    assert_eq!(read(dir.path()).unwrap().unwrap().started, [terraform(), lab()], "the lab is not stopped outside the safe destroy");
}

#[test]
fn the_newest_terraform_is_undone_first_then_the_newest_item() {
    assert_eq!(next_to_undo(&[terraform(), lab()]), Some(0));
    assert_eq!(next_to_undo(&[lab(), terraform(), lab()]), Some(1));
    assert_eq!(next_to_undo(&[lab(), lab()]), Some(1));
    assert_eq!(next_to_undo(&[]), None);
}

#[test]
fn a_process_in_use_makes_the_lease_busy_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Lease::acquire(dir.path(), "fresh_cluster_validation::recreate_cycle", None, DEFAULT_WAIT, nothing_to_undo).unwrap();
    let error = Lease::acquire(dir.path(), "other", None, Duration::from_millis(200), nothing_to_undo).unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&format!("is in use by pid {} (fresh_cluster_validation::recreate_cycle, since ", std::process::id())), "{message}");
}

#[test]
fn a_record_that_is_not_a_lease_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(LEASE_FILE), "{ not json").unwrap();
    let error = Lease::acquire(dir.path(), "next", None, DEFAULT_WAIT, nothing_to_undo).unwrap_err();
    assert!(error.to_string().starts_with(&format!("{} is not a lease record: ", dir.path().join(LEASE_FILE).display())), "{error}");
}

#[test]
fn a_process_is_known_by_pid_and_start_time() {
    let me = ProcessRef::current().unwrap();
    assert!(me.alive());
    assert!(!ProcessRef { start: me.start + 1, ..me }.alive(), "a recycled pid is another process");
    let child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    let mut child = child;
    child.wait().unwrap();
    assert_eq!(ProcessRef::of(pid), None, "a process that exited");
}
