//! The `outbound` binary: `serve`, `migrate`, `backup` and `restore`. Bad configuration ends in
//! one clear line and a non-zero exit, never a panic.

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
        Command::Backup(args) => {
            outbound::backup::backup(&Config::from_storage(&args.storage), &args.to)
                .await
                .map(|s| {
                    println!(
                        "backup of the {} database and {} file(s) ({} bytes) written to {}",
                        s.backend,
                        s.files,
                        s.bytes,
                        args.to.display()
                    );
                })
        }
        Command::Restore(args) => {
            outbound::backup::restore(&args.from, &Config::from_storage(&args.storage))
                .await
                .map(|s| {
                    println!(
                        "restored the {} database and {} file(s) ({} bytes) into {}",
                        s.backend,
                        s.files,
                        s.bytes,
                        args.storage.data_dir.display()
                    );
                })
        }
        Command::Generate(args) => outbound::generate::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outbound: {e:#}");
            ExitCode::FAILURE
        }
    }
}
