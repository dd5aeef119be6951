//! The command's one-line errors and exit codes.

use std::process::ExitCode;

/// An error that ends the command: printed as one `error:` line on stderr.
#[derive(Debug)]
pub struct CliError {
    message: String,
    code: u8,
}

/// Exit code for a bad flag, flag value or filter.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for everything else that failed.
pub const EXIT_FAILURE: u8 = 1;

impl CliError {
    /// The user asked for something that cannot be: exit code 2.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }

    /// Something failed: exit code 1.
    pub fn failure(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: EXIT_FAILURE,
        }
    }

    /// Prints the error and returns its exit code.
    pub fn exit(self) -> ExitCode {
        status!("error: {}", one_line(&self.message));
        ExitCode::from(self.code)
    }
}

/// Error texts from below (amiquip, serde, the OS) may span lines; the
/// command's contract is one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Prints clap's help and version as clap does, and its usage errors as
/// one `error:` line that keeps clap's possible values and tips.
pub fn clap_exit(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return ExitCode::from(if error.use_stderr() { EXIT_USAGE } else { 0 });
    }
    let rendered = error.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // "the following required arguments were not provided:" lists them on
    // the lines after it, up to the usage.
    let listed = message.ends_with(':');
    let mut items = Vec::new();
    for line in lines {
        if line.starts_with("Usage:") {
            break;
        }
        if line.starts_with("[possible values") || line.starts_with("tip:") {
            message.push_str("; ");
            message.push_str(line.trim_start_matches('[').trim_end_matches(']'));
        } else if listed {
            items.push(line);
        }
    }
    if !items.is_empty() {
        message.push(' ');
        message.push_str(&items.join(", "));
    }
    message.push_str("; see pulse-monitor --help");
    CliError::usage(message).exit()
}
