//! `mamori serve`: the review screen in a browser (see `mamori::web`), on
//! a site's store or, with `--central URL`, on the central database.
//! Wires the configuration and the command line to the server and says
//! where it listens (on stdout, for people and for tests using port 0).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use mamori::cli::ServeArgs;
use mamori::config::Config;
use mamori::web::{serve, ServeOptions};

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)?;
    let listen = match args.listen {
        Some(a) => a,
        None => config
            .web
            .listen
            .parse()
            .with_context(|| format!("[web] listen {:?}", config.web.listen))?,
    };
    serve(
        ServeOptions {
            config,
            listen,
            insecure_http: args.insecure_http,
            central: super::central::target(&args.central)?,
        },
        |addr, scheme| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "mamori serve: listening on {scheme}://{addr}/");
            let _ = out.flush();
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
