use std::path::PathBuf;

use anyhow::Result;

/// Built-in container behaviours (run inside pods by the supervisor; not for direct use).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// HTTP server answering every request with the hostname
    HttpHostname {
        #[arg(long, default_value_t = 80)]
        port: u16,
    },
    /// A pod's sandbox: holds the pod's root filesystem and hostname (its /etc files
    /// come on stdin)
    Pause {
        /// The pod's network namespace (names the sandbox for `labctl exec`)
        #[arg(long)]
        pod: String,
        #[arg(long)]
        hostname: String,
        /// labctl's binary, shown in the pod for the built-in servers
        #[arg(long)]
        labctl: Option<PathBuf>,
        /// The lab's toolsets directory
        #[arg(long)]
        tools: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> Result<i32> {
    match args.what {
        What::HttpHostname { port } => crate::runtime::hostname_http::serve(port)?,
        What::Pause {
            pod: _,
            hostname,
            labctl,
            tools,
        } => {
            let pause = crate::runtime::sandbox::PauseArgs {
                hostname,
                labctl,
                tools,
            };
            crate::runtime::sandbox::pause(&pause)?;
        }
    }
    Ok(0)
}
