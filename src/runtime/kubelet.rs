//! The supervisor's kubelet: runs each pod's init containers in order, then its
//! containers, restarts them with back-off, runs readiness probes, and reports each
//! pod's READY / STATUS / RESTARTS. Each pod has a sandbox process holding its root
//! filesystem and hostname (`sandbox`); each container is PID 1 of a PID namespace
//! of its own inside the pod's namespaces.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::cluster::state::{ContainerState, LabState, OwnerKind, PodPhase, PodState};
use crate::files;
use crate::kernel::enter;
use crate::spec::{Probe, RestartPolicy};
use crate::store;

use super::env::{container_env, exec_size, service_link_count};
use super::probe;
use super::sandbox::{self, SandboxKit};
use crate::cluster::images::{Launch, launch};

/// kubelet starts at 10 s and doubles to 5 min; a lab wants to see a crash loop
/// within seconds, so labctl starts at 1 s (same doubling and cap).
const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
const FIRST_PROBE_RETRY: Duration = Duration::from_millis(20);
const FIRST_READY_PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// What `get pods` shows for a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodStatus {
    pub ready: bool,
    /// kubectl's STATUS column: Pending, Init:0/1, Running, CrashLoopBackOff, Completed, Error...
    pub status: PodPhase,
    pub restarts: u32,
}

pub struct Kubelet {
    kit: SandboxKit,
    lab_dir: PathBuf,
    pods: BTreeMap<(String, String), PodRun>,
}

struct PodRun {
    uid: String,
    /// The pod's sandbox process, once started.
    sandbox: Option<Child>,
    sandbox_ready: bool,
    sandbox_next_start: Instant,
    init_done: usize,
    /// Restarts of the init containers that have completed.
    init_restarts: u32,
    init: Option<ContainerRun>,
    containers: Vec<ContainerRun>,
}

struct ContainerRun {
    name: String,
    launch: Launch,
    child: Option<Child>,
    started: Option<Instant>,
    next_start: Instant,
    backoff: Duration,
    restarts: u32,
    last_exit: Option<i32>,
    probe: Option<ProbeRun>,
    ready: bool,
}

struct ProbeRun {
    probe: Probe,
    next: Instant,
    running: Option<JoinHandle<bool>>,
    successes: u32,
    failures: u32,
}

impl Kubelet {
    pub fn new(lab_dir: PathBuf) -> Kubelet {
        let template = crate::kernel::pod_root::template_namespace()
            .map_err(|e| eprintln!("supervisor: pods start from the host's mount namespace: {e:#}"))
            .ok();
        let tools = super::toolsets::prepare(&lab_dir)
            .map_err(|e| eprintln!("supervisor: no image toolsets: {e:#}"))
            .ok();
        let kit = SandboxKit {
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe")),
            template,
            tools,
        };
        Kubelet {
            kit,
            lab_dir,
            pods: BTreeMap::new(),
        }
    }

    /// One pass over every pod: start, reap, restart, probe. Returns every pod's status.
    pub fn tick(&mut self, state: &LabState) -> BTreeMap<(String, String), PodStatus> {
        let wanted: BTreeMap<(String, String), &PodState> = state
            .pods
            .iter()
            .map(|p| ((p.namespace.clone(), p.name.clone()), p))
            .collect();
        let gone: Vec<_> = self
            .pods
            .iter()
            .filter(|(key, run)| wanted.get(*key).is_none_or(|p| p.uid != run.uid))
            .map(|(key, _)| key.clone())
            .collect();
        for key in gone {
            if let Some(mut run) = self.pods.remove(&key) {
                run.kill();
            }
        }
        let mut statuses = BTreeMap::new();
        for pod in &state.pods {
            let key = (pod.namespace.clone(), pod.name.clone());
            let may_start = self.predecessor_ready(state, pod, &statuses);
            if !self.pods.contains_key(&key) {
                if !may_start {
                    statuses.insert(key, pending());
                    continue;
                }
                self.pods.insert(key.clone(), PodRun::new(pod));
            }
            let run = self.pods.get_mut(&key).expect("inserted above");
            let status = run.step(state, pod, &self.kit, &self.lab_dir);
            statuses.insert(key, status);
        }
        statuses
    }

    /// StatefulSets start pods in order (OrderedReady): pod N waits for pod N-1 Ready.
    fn predecessor_ready(
        &self,
        state: &LabState,
        pod: &PodState,
        so_far: &BTreeMap<(String, String), PodStatus>,
    ) -> bool {
        let Some(owner) = pod.owner.as_ref().filter(|o| o.kind == OwnerKind::StatefulSet) else {
            return true;
        };
        let Some(ordinal) = pod
            .name
            .strip_prefix(&format!("{}-", owner.name))
            .and_then(|o| o.parse::<u32>().ok())
        else {
            return true;
        };
        if ordinal == 0 {
            return true;
        }
        let previous = (pod.namespace.clone(), format!("{}-{}", owner.name, ordinal - 1));
        let exists = state
            .pods
            .iter()
            .any(|p| p.namespace == previous.0 && p.name == previous.1);
        !exists || so_far.get(&previous).is_some_and(|s| s.ready)
    }

    /// Kills every container (the supervisor is stopping).
    pub fn shutdown(&mut self) {
        for run in self.pods.values_mut() {
            run.kill();
        }
        self.pods.clear();
    }

    /// Where a container's output goes (what `labctl logs` prints).
    pub fn log_path(lab_dir: &std::path::Path, pod: &PodState, container: &str) -> PathBuf {
        lab_dir
            .join("logs")
            .join(&pod.namespace)
            .join(&pod.name)
            .join(format!("{container}.log"))
    }
}

fn pending() -> PodStatus {
    PodStatus {
        ready: false,
        status: PodPhase::Pending,
        restarts: 0,
    }
}

impl PodRun {
    fn new(pod: &PodState) -> PodRun {
        PodRun {
            uid: pod.uid.clone(),
            sandbox: None,
            sandbox_ready: false,
            sandbox_next_start: Instant::now(),
            init_done: 0,
            init_restarts: 0,
            init: None,
            containers: pod
                .containers
                .iter()
                .map(|c| ContainerRun::new(c, launch_or_explain(c)))
                .collect(),
        }
    }

    fn step(&mut self, state: &LabState, pod: &PodState, kit: &SandboxKit, lab_dir: &std::path::Path) -> PodStatus {
        let now = Instant::now();
        let total_init = pod.init_containers.len();
        let Some(sandbox) = self.sandbox_pid(state, pod, kit, now) else {
            let restarts: u32 = self.containers.iter().map(|c| c.restarts).sum();
            if self.init_done < total_init {
                let phase = PodPhase::Init {
                    done: self.init_done,
                    total: total_init,
                };
                return status(false, phase, restarts);
            }
            return status(false, PodPhase::ContainerCreating, restarts);
        };
        if self.init_done < total_init {
            let spec = &pod.init_containers[self.init_done];
            let run = self
                .init
                .get_or_insert_with(|| ContainerRun::new(spec, launch_or_explain(spec)));
            match run.reap() {
                Some(0) => {
                    self.init_done += 1;
                    self.init_restarts += run.restarts;
                    self.init = None;
                }
                Some(code) => {
                    if pod.restart_policy == RestartPolicy::Never {
                        return status(false, PodPhase::InitError, self.init_restarts + run.restarts);
                    }
                    run.schedule_restart(now, code);
                }
                None => {}
            }
            if let Some(run) = &mut self.init {
                if run.child.is_none() && now >= run.next_start {
                    run.start(state, pod, spec, sandbox, lab_dir);
                }
                let restarts = self.init_restarts + run.restarts;
                if run.child.is_none() && run.restarts > 0 {
                    return status(false, PodPhase::InitCrashLoopBackOff, restarts);
                }
                let phase = PodPhase::Init {
                    done: self.init_done,
                    total: total_init,
                };
                return status(false, phase, restarts);
            }
            if self.init_done < total_init {
                // the next init container starts on the next pass
                let phase = PodPhase::Init {
                    done: self.init_done,
                    total: total_init,
                };
                return status(false, phase, self.init_restarts);
            }
        }
        for (run, spec) in self.containers.iter_mut().zip(&pod.containers) {
            if let Some(code) = run.reap() {
                let restart = match pod.restart_policy {
                    RestartPolicy::Never => false,
                    RestartPolicy::OnFailure => code != 0,
                    RestartPolicy::Always => true,
                };
                if restart {
                    run.schedule_restart(now, code);
                } else {
                    run.next_start = now + Duration::from_secs(u64::MAX / 4);
                }
            }
            if run.child.is_none() && run.launch != Launch::ClusterDns && now >= run.next_start {
                run.start(state, pod, spec, sandbox, lab_dir);
            }
            if run.launch == Launch::ClusterDns && run.started.is_none() {
                run.started = Some(now);
            }
            run.update_readiness(pod, spec, sandbox, now);
        }
        let restarts: u32 = self.containers.iter().map(|c| c.restarts).sum();
        let all_ready = self.containers.iter().all(|c| c.ready);
        let waiting = self.containers.iter().find(|c| !c.is_running());
        let text = match waiting {
            None => PodPhase::Running,
            Some(c) if c.last_exit == Some(0) && pod.restart_policy != RestartPolicy::Always => PodPhase::Completed,
            Some(c) if c.restarts > 0 && pod.restart_policy == RestartPolicy::Always => PodPhase::CrashLoopBackOff,
            Some(c) if c.last_exit.is_some() => PodPhase::Error,
            Some(_) => PodPhase::ContainerCreating,
        };
        status(all_ready && waiting.is_none(), text, restarts)
    }

    /// The pid of the pod's sandbox once it is ready; starts it (again) when it is
    /// not running. A sandbox that ended takes the pod's containers with it, as
    /// kubelet restarts them all in a new sandbox.
    fn sandbox_pid(&mut self, state: &LabState, pod: &PodState, kit: &SandboxKit, now: Instant) -> Option<u32> {
        if let Some(child) = &mut self.sandbox
            && let Ok(Some(exit)) = child.try_wait()
        {
            eprintln!(
                "supervisor: the sandbox of pod {}/{} ended ({exit})",
                pod.namespace, pod.name
            );
            self.sandbox = None;
            self.sandbox_ready = false;
            self.sandbox_next_start = now + BACKOFF_START;
            self.kill_containers();
        }
        match &self.sandbox {
            Some(child) if self.sandbox_ready => Some(child.id()),
            Some(child) => {
                self.sandbox_ready = sandbox::is_ready(child.id());
                self.sandbox_ready.then(|| child.id())
            }
            None if now >= self.sandbox_next_start => {
                match sandbox::spawn(kit, state, pod) {
                    Ok(child) => self.sandbox = Some(child),
                    Err(e) => {
                        eprintln!("supervisor: {e:#}");
                        self.sandbox_next_start = now + BACKOFF_START;
                    }
                }
                None
            }
            None => None,
        }
    }

    fn kill_containers(&mut self) {
        for c in self.init.iter_mut().chain(self.containers.iter_mut()) {
            c.kill();
        }
    }

    fn kill(&mut self) {
        self.kill_containers();
        if let Some(mut sandbox) = self.sandbox.take() {
            let _ = sandbox.kill();
            let _ = sandbox.wait();
        }
    }
}

/// Why execve(2) refused the container with E2BIG, and the way out Kubernetes offers.
fn too_big(state: &LabState, pod: &PodState, spec: &ContainerState, argv: &[String]) -> String {
    let env = container_env(state, pod, spec);
    let links = service_link_count(state, pod);
    let size = exec_size(argv, &env);
    let mut why = format!(
        "cannot start container {}: argument list too long: its command and {} environment variables take {size} bytes, more than execve(2) accepts",
        spec.name,
        env.len()
    );
    if links > 0 {
        why.push_str(&format!(
            "; {links} of the variables are service links for the services of namespace {}: set `enableServiceLinks: false` in the pod spec to leave them out",
            pod.namespace
        ));
    }
    why
}

/// A container that cannot run (only possible with a hand-edited lab state, since
/// deploy validates images) says why in its log and fails, as a bad image would.
fn launch_or_explain(c: &ContainerState) -> Launch {
    launch(c).unwrap_or_else(|why| {
        Launch::Process(vec![
            "sh".into(),
            "-c".into(),
            format!("echo 'labctl: {}' >&2; exit 1", why.replace('\'', "")),
        ])
    })
}

fn status(ready: bool, phase: PodPhase, restarts: u32) -> PodStatus {
    PodStatus {
        ready,
        status: phase,
        restarts,
    }
}

impl ContainerRun {
    fn new(spec: &ContainerState, launch: Launch) -> ContainerRun {
        ContainerRun {
            name: spec.name.clone(),
            launch,
            child: None,
            started: None,
            next_start: Instant::now(),
            backoff: BACKOFF_START,
            restarts: 0,
            last_exit: None,
            probe: spec.readiness_probe.clone().map(|probe| ProbeRun {
                next: Instant::now(),
                probe,
                running: None,
                successes: 0,
                failures: 0,
            }),
            ready: false,
        }
    }

    fn is_running(&self) -> bool {
        self.child.is_some() || (self.launch == Launch::ClusterDns && self.started.is_some())
    }

    fn start(
        &mut self,
        state: &LabState,
        pod: &PodState,
        spec: &ContainerState,
        sandbox: u32,
        lab_dir: &std::path::Path,
    ) {
        let argv = match &self.launch {
            Launch::Process(argv) => argv.clone(),
            Launch::HostnameHttp { port } => vec![
                sandbox::LABCTL_IN_POD.to_string(),
                "builtin".into(),
                "http-hostname".into(),
                "--port".into(),
                port.to_string(),
            ],
            Launch::ClusterDns => return,
        };
        let log = Kubelet::log_path(lab_dir, pod, &self.name);
        let spawned = (|| -> anyhow::Result<Child> {
            files::create_dir_all_with_mode(log.parent().expect("log has a directory"), store::PRIVATE_DIR_MODE)?;
            // A restarted container starts a new log; the last one is `logs --previous`.
            if self.restarts > 0 && log.exists() {
                fs::rename(&log, log.with_extension("previous.log"))?;
            }
            let out = store::open_private(OpenOptions::new().create(true).append(true), &log)?;
            let workdir = spec.working_dir.as_deref().unwrap_or("/");
            let mut cmd = enter::container_command(sandbox, workdir, &argv)?;
            cmd.env_clear()
                .envs(container_env(state, pod, spec))
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out)
                .process_group(0);
            // PID 1 of its own PID namespace, killed with the supervisor's thread
            // that started it (PR_SET_PDEATHSIG): its descendants go with it.
            Ok(enter::spawn_as_init(&mut cmd)?)
        })();
        match spawned {
            Ok(child) => {
                self.child = Some(child);
                self.started = Some(Instant::now());
                if let Some(p) = &mut self.probe {
                    p.next = Instant::now() + Duration::from_secs(p.probe.initial_delay_seconds as u64);
                    p.successes = 0;
                    p.failures = 0;
                }
            }
            Err(e) => {
                let why = match e.downcast_ref::<std::io::Error>() {
                    Some(error) if error.raw_os_error() == Some(libc::E2BIG) => too_big(state, pod, spec, &argv),
                    _ => format!("start {argv:?}: {e:#}"),
                };
                let _ = store::open_private(OpenOptions::new().create(true).append(true), &log)
                    .and_then(|mut f| std::io::Write::write_all(&mut f, format!("labctl: {why}\n").as_bytes()));
                self.last_exit = Some(127);
                self.schedule_restart(Instant::now(), 127);
            }
        }
    }

    /// The exit code if the process has just ended.
    fn reap(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                self.ready = false;
                let code = crate::kernel::exec::exit_code(status);
                self.last_exit = Some(code);
                Some(code)
            }
            _ => None,
        }
    }

    fn schedule_restart(&mut self, now: Instant, code: i32) {
        self.last_exit = Some(code);
        self.restarts += 1;
        // kubelet resets the back-off after a container ran fine for 10 minutes.
        if self
            .started
            .is_some_and(|s| now.duration_since(s) > Duration::from_secs(600))
        {
            self.backoff = BACKOFF_START;
        }
        self.next_start = now + self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }

    fn update_readiness(&mut self, pod: &PodState, spec: &ContainerState, sandbox: u32, now: Instant) {
        if !self.is_running() {
            self.ready = false;
            return;
        }
        let Some(p) = &mut self.probe else {
            self.ready = true;
            return;
        };
        if let Some(handle) = p.running.take_if(|h| h.is_finished()) {
            let ok = handle.join().unwrap_or(false);
            if ok {
                p.successes += 1;
                p.failures = 0;
                if p.successes >= p.probe.success_threshold.max(1) {
                    self.ready = true;
                }
            } else {
                p.failures += 1;
                p.successes = 0;
                if p.failures >= p.probe.failure_threshold.max(1) {
                    self.ready = false;
                }
            }
        }
        if p.running.is_none() && now >= p.next {
            let (pod, spec, action) = (pod.clone(), spec.clone(), p.probe.action.clone());
            let timeout = Duration::from_secs(p.probe.timeout_seconds.max(1) as u64);
            // exec probes run in the container (the sandbox for the in-process DNS server)
            let target = self.child.as_ref().map_or(sandbox, Child::id);
            p.running = Some(std::thread::spawn(move || {
                probe::run(&pod, &spec, target, &action, timeout)
            }));
            let period = Duration::from_secs(p.probe.period_seconds.max(1) as u64);
            // Until a container is first Ready labctl probes sooner than every period
            // (20 ms, doubling with each failure up to 250 ms), so that a lab comes up
            // in about a second; afterwards probes run at the manifest's period, as
            // kubelet runs them.
            let soon = FIRST_PROBE_RETRY
                .saturating_mul(1 << p.failures.min(8))
                .min(FIRST_READY_PROBE_INTERVAL);
            p.next = now + if self.ready { period } else { period.min(soon) };
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}
