//! The `outbound` binary: `serve` and `migrate`. Bad configuration ends in one clear line and
//! a non-zero exit, never a panic.

use std::process::ExitCode;

use clap::Parser;
use outbound::config::{Cli, Command, Config};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "outbound=info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => outbound::web::server::serve(args).await,
        Command::Migrate(args) => {
            outbound::web::server::migrate_only(&Config::from_storage(&args)).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outbound: {e:#}");
            ExitCode::FAILURE
        }
    }
}
