//! What a container runs. Images are never pulled: `command`/`args` run the host's
//! binaries; without a command, the image name picks a built-in behaviour
//! (DESIGN.md): `*nginx*`, `*hostname*`, `*echo*` → an HTTP server answering with the
//! pod's hostname; `*redis*` → the host's `redis-server`; toolbox images → idle;
//! CoreDNS → labctl's own cluster DNS server, run by the supervisor.

use crate::cluster::state::ContainerState;

/// Images that only provide tools for `labctl exec`; they idle.
const TOOLBOX_IMAGES: &[&str] = &[
    "busybox",
    "multitool",
    "dnsutils",
    "netshoot",
    "alpine",
    "ubuntu",
    "debian",
    "curl",
    "toolbox",
    "nicolaka",
    "praqma",
    "fedora",
    "centos",
    "python",
    "bash",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Run this host command (argv[0] looked up in PATH).
    Process(Vec<String>),
    /// labctl's built-in HTTP server on `port`, answering with the pod's hostname.
    HostnameHttp { port: u16 },
    /// Served by the supervisor itself (the CoreDNS pods).
    ClusterDns,
}

/// How `c` runs, or why it cannot.
pub fn launch(c: &ContainerState) -> Result<Launch, String> {
    let image = image_name(&c.image);
    if !c.command.is_empty() {
        return Ok(Launch::Process(c.command.iter().chain(&c.args).cloned().collect()));
    }
    if image.contains("coredns") {
        return Ok(Launch::ClusterDns);
    }
    if ["nginx", "hostname", "echo", "httpd", "whoami"]
        .iter()
        .any(|n| image.contains(n))
    {
        let port = c.ports.first().map(|p| p.container_port).unwrap_or(80);
        return Ok(Launch::HostnameHttp { port });
    }
    if image.contains("redis") {
        let mut argv = vec!["redis-server".to_string()];
        if c.args.is_empty() {
            argv.extend(["--protected-mode".into(), "no".into(), "--save".into(), String::new()]);
        }
        argv.extend(c.args.iter().cloned());
        return Ok(Launch::Process(argv));
    }
    if TOOLBOX_IMAGES.iter().any(|n| image.contains(n)) {
        if c.args.is_empty() {
            return Ok(Launch::Process(vec!["sleep".into(), "infinity".into()]));
        }
        return Ok(Launch::Process(c.args.clone()));
    }
    Err(format!(
        "image {:?} has no built-in behaviour in labctl and the container has no command",
        c.image
    ))
}

/// The image's repository name without registry, tag or digest, lower-case:
/// `registry.k8s.io/coredns/coredns:v1.10.1` → `coredns/coredns`.
fn image_name(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let mut parts: Vec<&str> = without_digest.split('/').collect();
    if parts.len() > 1 && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost") {
        parts.remove(0);
    }
    let path = parts.join("/");
    let name = match path.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name.to_string(),
        _ => path,
    };
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::state::ContainerPortState;
    use crate::spec::Protocol;

    fn container(image: &str, command: &[&str], args: &[&str], port: Option<u16>) -> ContainerState {
        ContainerState {
            name: "c".into(),
            image: image.into(),
            command: command.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec![],
            ports: port
                .map(|p| ContainerPortState {
                    name: None,
                    container_port: p,
                    protocol: Protocol::Tcp,
                })
                .into_iter()
                .collect(),
            readiness_probe: None,
        }
    }

    #[test]
    fn a_command_always_wins() {
        let c = container("nginx:1.25", &["sh", "-c"], &["echo hi"], Some(80));
        assert_eq!(
            launch(&c),
            Ok(Launch::Process(vec!["sh".into(), "-c".into(), "echo hi".into()]))
        );
    }

    #[test]
    fn web_images_serve_their_hostname_on_the_first_port() {
        assert_eq!(
            launch(&container("nginx:1.25", &[], &[], Some(8080))),
            Ok(Launch::HostnameHttp { port: 8080 })
        );
        assert_eq!(
            launch(&container("k8s.gcr.io/serve_hostname", &[], &[], None)),
            Ok(Launch::HostnameHttp { port: 80 })
        );
    }

    #[test]
    fn redis_runs_the_host_redis_server_with_its_args() {
        let c = container("redis:7.2", &[], &["--appendonly", "yes"], Some(6379));
        assert_eq!(
            launch(&c),
            Ok(Launch::Process(vec![
                "redis-server".into(),
                "--appendonly".into(),
                "yes".into()
            ]))
        );
    }

    #[test]
    fn toolboxes_idle_and_coredns_is_served_in_process() {
        assert_eq!(
            launch(&container("wbitt/network-multitool:latest", &[], &[], None)),
            Ok(Launch::Process(vec!["sleep".into(), "infinity".into()]))
        );
        assert_eq!(
            launch(&container("registry.k8s.io/coredns/coredns:v1.10.1", &[], &[], None)),
            Ok(Launch::ClusterDns)
        );
    }

    #[test]
    fn an_unknown_image_without_command_is_refused() {
        let err = launch(&container("example.com/team/payments:v3", &[], &[], None)).unwrap_err();
        assert!(err.contains("no built-in behaviour"), "{err}");
    }

    #[test]
    fn image_names_drop_registry_tag_and_digest() {
        assert_eq!(image_name("registry.k8s.io/coredns/coredns:v1.10.1"), "coredns/coredns");
        assert_eq!(image_name("localhost:5000/Redis:7@sha256:abc"), "redis");
        assert_eq!(image_name("busybox"), "busybox");
    }
}
