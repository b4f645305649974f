//! Running checks for real: each step's command inside its pod (with the pod's resolv.conf,
//! hosts, hostname and container environment, as `labctl exec` runs it) or node, bounded by
//! a timeout; a failed check is tried again a few times (connections through a VIP pick
//! endpoints at random, and a lab that was just scaled settles in a moment).

use std::collections::BTreeSet;
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::cluster::LabState;
use crate::kernel::enter::joined_command;
use crate::kernel::exec::{ExecOptions, command_in, exit_code};
use crate::runtime::sandbox;
use crate::store::Store;

use super::derive::{Check, Expect, Place, Step};
use super::report::CheckResult;

/// Seconds one command may run.
const STEP_TIMEOUT: u32 = 20;
const ATTEMPTS: u32 = 3;
const PARALLEL: usize = 8;

/// Runs every check (several at a time); `on_result` sees each result in check order, as
/// soon as it and every check before it are done.
pub fn run_all(lab: &LabState, checks: &[Check], on_result: &mut (dyn FnMut(&CheckResult) + Send)) -> Vec<CheckResult> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<CheckResult>>> = checks.iter().map(|_| Mutex::new(None)).collect();
    let printed = Mutex::new((0usize, on_result));
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL.min(checks.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(check) = checks.get(i) else { break };
                    let result = run_check(lab, check);
                    *slots[i].lock().unwrap() = Some(result);
                    let mut guard = printed.lock().unwrap();
                    let (done, on_result) = &mut *guard;
                    while *done < slots.len() {
                        let slot = slots[*done].lock().unwrap();
                        let Some(result) = slot.as_ref() else { break };
                        on_result(result);
                        *done += 1;
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| s.into_inner().unwrap().expect("every check ran"))
        .collect()
}

pub fn run_check(lab: &LabState, check: &Check) -> CheckResult {
    let start = Instant::now();
    let outcome = match &check.problem {
        Some(problem) => Err(problem.clone()),
        None => {
            let mut outcome = Err(String::new());
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    std::thread::sleep(Duration::from_millis(500));
                }
                // labctl's own checks use the host's tools (their expectations are
                // iputils', BIND's); a topology's checks run as `labctl exec` would.
                let tools_first = if check.group == "topology" {
                    Tools::Image
                } else {
                    Tools::Host
                };
                outcome = check.steps.iter().try_for_each(|step| run_step(lab, step, tools_first));
                if outcome.is_ok() {
                    break;
                }
            }
            outcome
        }
    };
    CheckResult {
        name: check.name.clone(),
        group: check.group.to_string(),
        passed: outcome.is_ok(),
        reason: outcome.err(),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Whose commands come first on a pod's PATH.
#[derive(Clone, Copy)]
enum Tools {
    /// The container's image toolset (`cluster::images`).
    Image,
    /// The host's.
    Host,
}

fn run_step(lab: &LabState, step: &Step, tools_first: Tools) -> Result<(), String> {
    let (code, output) = execute(lab, &step.place, &step.argv, tools_first)?;
    judge(&step.expect, code, &output)
        .map_err(|why| format!("{} in {}: {why}", shell_words(&step.argv), step.place.describe()))
}

/// Runs `argv` in the place under `timeout`; returns the exit code and stdout+stderr.
fn execute(lab: &LabState, place: &Place, argv: &[String], tools_first: Tools) -> Result<(i32, String), String> {
    let mut full = vec!["timeout".to_string(), "-k".into(), "2".into(), STEP_TIMEOUT.to_string()];
    full.extend(argv.iter().cloned());
    let out = match place {
        Place::Node(name) => {
            let node = lab.node(name).ok_or_else(|| format!("no node {name}"))?;
            let options = ExecOptions {
                hostname: Some(node.name.clone()),
                etc_overlay: false,
            };
            command_in(&node.netns, &options, &full)
                .map_err(|e| format!("{e:#}"))?
                .stdin(Stdio::null())
                .output()
        }
        Place::Pod { namespace, name } => {
            let pod = lab
                .pod(namespace, name)
                .ok_or_else(|| format!("no pod {namespace}/{name}"))?;
            let target = Store::open()
                .lab_dir(&lab.name)
                .and_then(|dir| sandbox::target(&dir, pod))
                .map_err(|e| format!("{e:#}"))?;
            let mut cmd = joined_command(target.pid, &target.workdir, &full).map_err(|e| format!("{e:#}"))?;
            if let Some(c) = pod.containers.first() {
                cmd.command
                    .env_clear()
                    .envs(crate::runtime::env::container_env(lab, pod, c));
                // The host's PATH too, as the container's may not know where the host
                // keeps its tools.
                let host = std::env::var("PATH").unwrap_or_default();
                let image = crate::runtime::env::container_path(&c.image);
                let path = match tools_first {
                    Tools::Image => format!("{image}:{host}"),
                    Tools::Host => format!("{host}:{image}"),
                };
                cmd.command.env("PATH", path);
            }
            cmd.command.stdin(Stdio::null());
            cmd.output()
        }
    };
    let out = out.map_err(|e| format!("run {}: {e}", argv.first().map_or("", |s| s.as_str())))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((exit_code(out.status), text))
}

fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,".contains(c)) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn shown(output: &str) -> String {
    let trimmed = output.trim();
    if trimmed.is_empty() {
        "no output".to_string()
    } else {
        format!("got: {trimmed}")
    }
}

fn output_lines(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(";;"))
        .map(String::from)
        .collect()
}

fn join<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let all: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if all.is_empty() {
        "nothing".into()
    } else {
        all.join(", ")
    }
}

/// Whether the output (and exit code) is what `expect` asks for; if not, why.
pub fn judge(expect: &Expect, code: i32, output: &str) -> Result<(), String> {
    match expect {
        Expect::Anything => Ok(()),
        Expect::Lines(want) => {
            let got = output_lines(output);
            if &got == want {
                Ok(())
            } else {
                Err(format!("expected {}, {}", join(want), shown(output)))
            }
        }
        Expect::Srv(want) => {
            let got: BTreeSet<(u16, String)> = output
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    match f.as_slice() {
                        [_prio, _weight, port, target] => Some((port.parse().ok()?, target.to_string())),
                        _ => None,
                    }
                })
                .collect();
            if &got == want {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, {}",
                    join(want.iter().map(|(p, t)| format!("{p} {t}"))),
                    shown(output)
                ))
            }
        }
        Expect::LineWithAll(fragments) => {
            if output.lines().any(|l| fragments.iter().all(|f| l.contains(f.as_str()))) {
                Ok(())
            } else {
                Err(format!("no line with {}; {}", join(fragments), shown(output)))
            }
        }
        Expect::NoLineWithAny(fragments) => match output
            .lines()
            .find(|l| fragments.iter().any(|f| l.contains(f.as_str())))
        {
            None => Ok(()),
            Some(line) => Err(format!("unexpected rule: {line}")),
        },
        Expect::Contains(text) => {
            if output.contains(text.as_str()) {
                Ok(())
            } else {
                Err(format!("expected \"{text}\", {}", shown(output)))
            }
        }
        Expect::ContainsAny(texts) => {
            if texts.iter().any(|t| output.contains(t.as_str())) {
                Ok(())
            } else {
                Err(format!(
                    "expected one of \"{}\", {}",
                    texts.join("\", \""),
                    shown(output)
                ))
            }
        }
        Expect::ReplySources(want) => {
            let got = reply_sources(output);
            if &got == want {
                Ok(())
            } else {
                Err(format!("connections reached {}, expected {}", join(&got), join(want)))
            }
        }
        Expect::Custom { regex, exit_code } => {
            if let Some(want) = exit_code
                && *want != code
            {
                return Err(format!("exit code {code}, expected {want}; {}", shown(output)));
            }
            match regex {
                Some(re) => match grep_e(re, output) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(format!("output does not match /{re}/; {}", shown(output))),
                    Err(e) => Err(e),
                },
                None => Ok(()),
            }
        }
    }
}

/// The endpoints conntrack saw answering: the reply tuple's source of each entry.
pub fn reply_sources(conntrack: &str) -> BTreeSet<Ipv4Addr> {
    conntrack
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .filter_map(|f| f.strip_prefix("src="))
                .nth(1)
                .and_then(|ip| ip.parse().ok())
        })
        .collect()
}

/// POSIX extended regular expression match, as `grep -E` does it (on the host).
fn grep_e(regex: &str, text: &str) -> Result<bool, String> {
    let mut child = Command::new("grep")
        .args(["-Eq", "-e", regex])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run grep: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // grep -q may stop reading at the first match.
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| format!("grep: {e}"))?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(format!(
            "expect: invalid regular expression /{regex}/: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conntrack_reply_sources() {
        let out = "tcp      6 117 TIME_WAIT src=192.168.0.67 dst=10.96.204.67 sport=40000 dport=80 src=192.168.0.66 dst=192.168.0.67 sport=80 dport=40000 [ASSURED] mark=0 use=1\n\
tcp      6 117 TIME_WAIT src=192.168.0.67 dst=10.96.204.67 sport=40002 dport=80 src=192.168.0.130 dst=192.168.0.67 sport=80 dport=40002 [ASSURED] mark=0 use=1\n\
conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n";
        let want: BTreeSet<Ipv4Addr> = ["192.168.0.66".parse().unwrap(), "192.168.0.130".parse().unwrap()].into();
        assert_eq!(reply_sources(out), want);
        assert!(judge(&Expect::ReplySources(want), 0, out).is_ok());
    }

    #[test]
    fn lines_ignore_order_and_blank_lines() {
        let want = Expect::Lines(["10.0.0.2".to_string(), "10.0.0.1".to_string()].into());
        assert!(judge(&want, 0, "10.0.0.1\n\n10.0.0.2\n").is_ok());
        let err = judge(&want, 0, "10.0.0.1\n").unwrap_err();
        assert_eq!(err, "expected 10.0.0.1, 10.0.0.2, got: 10.0.0.1");
    }

    #[test]
    fn srv_ignores_priority_and_weight() {
        let want = Expect::Srv([(80, "a.svc.".to_string()), (80, "b.svc.".to_string())].into());
        assert!(judge(&want, 0, "0 50 80 a.svc.\n0 50 80 b.svc.\n").is_ok());
        assert!(judge(&want, 0, "0 100 80 a.svc.\n").is_err());
    }

    #[test]
    fn custom_exit_code_and_regex() {
        let both = Expect::Custom {
            regex: Some("role:(master|slave)".into()),
            exit_code: Some(0),
        };
        assert!(judge(&both, 0, "# Replication\nrole:master\n").is_ok());
        assert!(
            judge(&both, 1, "role:master")
                .unwrap_err()
                .starts_with("exit code 1, expected 0")
        );
        assert!(judge(&both, 0, "nothing").unwrap_err().contains("does not match"));
        let bad = Expect::Custom {
            regex: Some("(".into()),
            exit_code: None,
        };
        assert!(judge(&bad, 0, "x").unwrap_err().contains("invalid regular expression"));
    }

    #[test]
    fn absent_rules() {
        let want = Expect::NoLineWithAny(vec!["\"default/web:".into(), "\"default/web ".into()]);
        let rules = "-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment \"default/webapp:http cluster IP\" -j KUBE-SVC-X\n";
        assert!(judge(&want, 0, rules).is_ok());
        let bad = "-A KUBE-SERVICES -m comment --comment \"default/web:http cluster IP\" -j KUBE-SVC-X\n";
        assert!(judge(&want, 0, bad).is_err());
    }
}
