//! The `bitmoe` binary: all logic lives in the library; this only reports errors.

fn main() -> std::process::ExitCode {
    match bitmoe::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
