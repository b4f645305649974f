//! What a container of an image runs and which tools it sees first. Images are never
//! pulled: `command`/`args` run the host's binaries inside the pod's root; without a
//! command, the image name picks a built-in behaviour (DESIGN.md). One table,
//! [`IMAGES`], says both; the first row whose pattern is in the image's name wins.

use crate::cluster::state::ContainerState;

/// One row of the image table.
pub struct ImageKind {
    /// Substrings of the image's repository name (`image_name`).
    pub patterns: &'static [&'static str],
    /// What a container without `command` runs.
    pub default: Behaviour,
    /// What the container sees first on its PATH, if anything.
    pub toolset: Option<Toolset>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Served by the supervisor itself (CoreDNS).
    ClusterDns,
    /// labctl's built-in HTTP server, answering with the pod's hostname.
    WebServer,
    /// The host's `redis-server`.
    Redis,
    /// Its args, or else `sleep infinity`: a toolbox for `labctl exec`.
    Idle,
}

/// A directory of commands put first on a container's PATH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toolset {
    /// Its directory's name.
    pub name: &'static str,
    pub tools: Tools,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tools {
    /// Every applet of the host's busybox.
    BusyboxApplets,
    /// These commands, from the host (else from busybox when it has the applet).
    Commands(&'static [&'static str]),
}

const BUSYBOX: Toolset = Toolset {
    name: "busybox",
    tools: Tools::BusyboxApplets,
};
const DNSUTILS: Toolset = Toolset {
    name: "dnsutils",
    tools: Tools::Commands(&["dig", "nslookup", "host"]),
};
const MULTITOOL: Toolset = Toolset {
    name: "multitool",
    tools: Tools::Commands(&["curl", "dig", "nslookup", "host", "nc", "ip", "ping", "traceroute"]),
};
const REDIS: Toolset = Toolset {
    name: "redis",
    tools: Tools::Commands(&["redis-server", "redis-cli"]),
};

/// The image table (README "Images").
pub const IMAGES: &[ImageKind] = &[
    ImageKind {
        patterns: &["coredns"],
        default: Behaviour::ClusterDns,
        toolset: None,
    },
    ImageKind {
        patterns: &["nginx", "httpd", "hostname", "echo", "whoami"],
        default: Behaviour::WebServer,
        toolset: None,
    },
    ImageKind {
        patterns: &["redis"],
        default: Behaviour::Redis,
        toolset: Some(REDIS),
    },
    ImageKind {
        patterns: &["busybox"],
        default: Behaviour::Idle,
        toolset: Some(BUSYBOX),
    },
    ImageKind {
        patterns: &["dnsutils"],
        default: Behaviour::Idle,
        toolset: Some(DNSUTILS),
    },
    ImageKind {
        patterns: &["multitool", "netshoot"],
        default: Behaviour::Idle,
        toolset: Some(MULTITOOL),
    },
    ImageKind {
        patterns: &[
            "alpine", "ubuntu", "debian", "curl", "toolbox", "fedora", "centos", "python", "bash",
        ],
        default: Behaviour::Idle,
        toolset: None,
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Run this command (argv[0] looked up in the container's PATH).
    Process(Vec<String>),
    /// labctl's built-in HTTP server on `port`, answering with the pod's hostname.
    HostnameHttp { port: u16 },
    /// Served by the supervisor itself (the CoreDNS pods).
    ClusterDns,
}

fn kind_of(image: &str) -> Option<&'static ImageKind> {
    let name = image_name(image);
    IMAGES
        .iter()
        .find(|kind| kind.patterns.iter().any(|p| name.contains(p)))
}

/// What a container of `image` sees first on its PATH.
pub fn toolset(image: &str) -> Option<Toolset> {
    kind_of(image).and_then(|kind| kind.toolset)
}

/// Every toolset of the table, once each.
pub fn toolsets() -> Vec<Toolset> {
    let mut all: Vec<Toolset> = IMAGES.iter().filter_map(|kind| kind.toolset).collect();
    all.dedup_by_key(|t| t.name);
    all
}

/// How `c` runs, or why it cannot.
pub fn launch(c: &ContainerState) -> Result<Launch, String> {
    if !c.command.is_empty() {
        return Ok(Launch::Process(c.command.iter().chain(&c.args).cloned().collect()));
    }
    let Some(kind) = kind_of(&c.image) else {
        return Err(format!(
            "image {:?} has no built-in behaviour in labctl and the container has no command",
            c.image
        ));
    };
    Ok(match kind.default {
        Behaviour::ClusterDns => Launch::ClusterDns,
        Behaviour::WebServer => Launch::HostnameHttp {
            port: c.ports.first().map(|p| p.container_port).unwrap_or(80),
        },
        Behaviour::Redis => {
            let mut argv = vec!["redis-server".to_string()];
            if c.args.is_empty() {
                argv.extend(["--protected-mode".into(), "no".into(), "--save".into(), String::new()]);
            }
            argv.extend(c.args.iter().cloned());
            Launch::Process(argv)
        }
        Behaviour::Idle if c.args.is_empty() => Launch::Process(vec!["sleep".into(), "infinity".into()]),
        Behaviour::Idle => Launch::Process(c.args.clone()),
    })
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
            working_dir: None,
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
    fn toolsets_follow_the_image_name() {
        assert_eq!(toolset("busybox:1.36"), Some(BUSYBOX));
        assert_eq!(toolset("docker.io/library/busybox"), Some(BUSYBOX));
        assert_eq!(toolset("tutum/dnsutils"), Some(DNSUTILS));
        assert_eq!(toolset("wbitt/network-multitool:latest"), Some(MULTITOOL));
        assert_eq!(toolset("nicolaka/netshoot"), Some(MULTITOOL));
        assert_eq!(toolset("redis:7.2"), Some(REDIS));
        assert_eq!(toolset("nginx:1.25"), None);
        assert_eq!(toolset("example.com/team/payments:v3"), None);
    }

    #[test]
    fn every_toolset_is_listed_once() {
        let names: Vec<&str> = toolsets().iter().map(|t| t.name).collect();
        assert_eq!(names, ["redis", "busybox", "dnsutils", "multitool"]);
    }

    #[test]
    fn image_names_drop_registry_tag_and_digest() {
        assert_eq!(image_name("registry.k8s.io/coredns/coredns:v1.10.1"), "coredns/coredns");
        assert_eq!(image_name("localhost:5000/Redis:7@sha256:abc"), "redis");
        assert_eq!(image_name("busybox"), "busybox");
    }
}
