//! Text composed from talosctl v1.13.9's format strings (talosctl v1.13.9: cmd/talosctl/cmd/talos/*.go and pkg/machinery/formatters), shared by the
//! parser tests, the driver tests (through a scripted talosctl) and the log scanner tests.

/// `talosctl health` stderr of a run that passed, with a transient multierror on the way.
pub const HEALTH_PASSED: &str = "discovered nodes: [\"10.5.0.2\" \"10.5.0.3\"]
waiting for etcd to be healthy: ...
waiting for etcd to be healthy: OK
waiting for kubelet to be healthy: 1 error occurred:
\t* 10.5.0.3: service \"kubelet\" not in expected state \"Running\": current state [Preparing] Running pre state

waiting for kubelet to be healthy: OK
waiting for kube-proxy to report ready: SKIP
waiting for all k8s nodes to report schedulable: OK
";

/// `talosctl health` stderr of a run that hit its `--wait-timeout`.
pub const HEALTH_TIMED_OUT: &str = "discovered nodes: [\"10.5.0.2\" \"10.5.0.3\"]
waiting for etcd to be healthy: OK
waiting for all k8s nodes to report ready: ...
waiting for all k8s nodes to report ready: 2 errors occurred:
\t* node \"talos-default-worker-1\" is not ready
\t* node \"talos-default-worker-2\" is not ready

rpc error: code = DeadlineExceeded desc = context deadline exceeded
";

/// `talosctl service` on two nodes (tabwriter, padding 3).
pub const SERVICE_TABLE: &str = "\
NODE       SERVICE      STATE     HEALTH   LAST CHANGE   LAST EVENT
10.5.0.2   apid         Running   OK       2h3m4s ago    Health check successful
10.5.0.2   machined     Running   ?        2h3m9s ago    Service started as goroutine
10.5.0.3   ext-iscsid   Failed    Fail     12s ago       Error running Containerd(ext-iscsid), going to restart forever: exit 1
10.5.0.3   udevd        Running   OK       5m ago        <none>
";

/// `talosctl service etcd` on two nodes.
pub const SERVICE_DETAIL: &str = "\
NODE                  10.5.0.2
ID                    etcd
STATE                 Running
HEALTH                Fail
LAST HEALTH MESSAGE   context deadline exceeded
EVENTS                [Running]: Health check failed: context deadline exceeded (12s ago)
                      [Preparing]: Running pre state (2m3s ago)
NODE                  10.5.0.3
ID                    etcd
STATE                 Running
HEALTH                OK
EVENTS                [Running]: Health check successful (2h3m4s ago)
";

/// `talosctl version` on two nodes.
pub const VERSION_LONG: &str = "Client:
\tTag:         v1.13.9
\tSHA:         1a2b3c4d
\tBuilt:       
\tGo version:  go1.25.5
\tOS/Arch:     linux/amd64
Server:
\tNODE:        10.5.0.2
\tTag:         v1.13.9
\tSHA:         1a2b3c4d
\tBuilt:       
\tGo version:  go1.25.5
\tOS/Arch:     linux/amd64
\tEnabled:     RBAC
\tNODE:        10.5.0.3
\tTag:         v1.13.8
\tSHA:         9f8e7d6c
\tBuilt:       
\tGo version:  go1.25.5
\tOS/Arch:     linux/amd64
\tEnabled:     RBAC
";

/// `talosctl -n 10.5.0.2 logs machined`: boot progress, a transient health check failure, a
/// waiting service, and the console copy of a failed controller.
pub const LOGS_MACHINED: &str = include_str!("../../../../tests/fixtures/talosctl/logs-machined.txt");

/// `talosctl -n 10.5.0.3 dmesg`: kernel and Talos records, one I/O error.
pub const DMESG: &str = include_str!("../../../../tests/fixtures/talosctl/dmesg.txt");
