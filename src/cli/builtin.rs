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
}

pub fn run(args: Args) -> Result<i32> {
    match args.what {
        What::HttpHostname { port } => crate::runtime::hostname_http::serve(port)?,
    }
    Ok(0)
}
