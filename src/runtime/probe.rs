//! Readiness probes, run like kubelet runs them: exec inside the container's
//! namespaces, tcpSocket and httpGet against the pod IP — from a thread that joined
//! the pod's network namespace, so nothing crosses the host's.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::cluster::state::{ContainerState, PodState};
use crate::kernel::enter;
use crate::spec::{IntOrString, ProbeAction};

/// Runs one probe to completion (at most `timeout`); true on success.
/// `target` is the container's process, whose namespaces an exec probe joins.
pub fn run(pod: &PodState, container: &ContainerState, target: u32, action: &ProbeAction, timeout: Duration) -> bool {
    match action {
        ProbeAction::Exec { command } => exec(container, target, command, timeout),
        ProbeAction::TcpSocket { port } => match port_number(container, port) {
            Some(p) => in_pod_netns(pod, move |ip| connect(ip, p, timeout).is_some()),
            None => false,
        },
        ProbeAction::HttpGet { path, port } => match port_number(container, port) {
            Some(p) => {
                let path = path.clone();
                in_pod_netns(pod, move |ip| http_ok(ip, p, &path, timeout))
            }
            None => false,
        },
    }
}

/// A named probe port is one of the container's ports.
fn port_number(c: &ContainerState, port: &IntOrString) -> Option<u16> {
    match port {
        IntOrString::Int(n) => Some(*n),
        IntOrString::Str(name) => c
            .ports
            .iter()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port),
    }
}

/// Runs on a thread of its own (it joins the container's PID namespace for its child).
fn exec(container: &ContainerState, target: u32, command: &[String], timeout: Duration) -> bool {
    let workdir = container.working_dir.as_deref().unwrap_or("/");
    let Ok(mut cmd) = enter::joined_command(target, workdir, command) else {
        return false;
    };
    cmd.command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env_clear()
        .env("PATH", super::env::container_path(&container.image));
    let Ok(mut child) = cmd.spawn() else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

fn in_pod_netns(pod: &PodState, check: impl FnOnce(Ipv4Addr) -> bool + Send + 'static) -> bool {
    let Ok(ns) = crate::kernel::netns::open(&pod.netns) else {
        return false;
    };
    let ip = pod.ip;
    std::thread::spawn(move || crate::kernel::threads::enter_netns(&ns).is_ok() && check(ip))
        .join()
        .unwrap_or(false)
}

fn connect(ip: Ipv4Addr, port: u16, timeout: Duration) -> Option<TcpStream> {
    TcpStream::connect_timeout(&SocketAddr::from((ip, port)), timeout).ok()
}

/// kubelet counts 200–399 as success (pkg/probe/http/http.go).
fn http_ok(ip: Ipv4Addr, port: u16, path: &str, timeout: Duration) -> bool {
    let Some(mut s) = connect(ip, port, timeout) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {ip}:{port}\r\nUser-Agent: kube-probe/1.28\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    if s.read_exact(&mut head).is_err() {
        return false;
    }
    let code: u16 = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (200..400).contains(&code)
}
