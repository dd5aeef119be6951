//! `synthetic-push` and `publish --synthetic-push`: a generated push
//! (`pulse-synthetic`) as JSON lines or on the broker.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use pulse_build_monitor::Message;
use pulse_synthetic::Push;

use crate::args::SyntheticPushArgs;
use crate::error::CliError;

/// The push `--tree` and `--seed` ask for, about `tasks` tasks big.
pub fn generate(tasks: usize, tree: &str, seed: u64) -> Result<Push, CliError> {
    let push = Push::builder()
        .tree(tree)
        .tasks(tasks)
        .seed(seed)
        .try_build()
        .map_err(|e| CliError::usage(format!("--tree: {e}")))?;
    Ok(push)
}

/// Its messages, ready for the publisher.
pub fn outgoing(push: &Push) -> Vec<Message> {
    push.messages().into_iter().map(|m| m.message).collect()
}

/// `pulse-monitor synthetic-push N`: one recorded [`Message`] a line on
/// stdout, a summary on stderr.
pub fn synthetic_push(args: SyntheticPushArgs) -> Result<ExitCode, CliError> {
    let push = generate(args.tasks, &args.tree, args.seed)?;
    let messages = push.messages();
    let mut out = BufWriter::new(io::stdout().lock());
    for message in &messages {
        let line = serde_json::to_string(&message.message).expect("a message always serializes");
        if let Err(e) = writeln!(out, "{line}") {
            return written(e);
        }
    }
    if let Err(e) = out.flush() {
        return written(e);
    }
    status!(
        "synthetic-push: {} tasks, {} messages: {} revision {} (push {}, task group {})",
        push.tasks.len(),
        messages.len(),
        push.tree,
        push.revision,
        push.push_id,
        push.decision_task_id
    );
    Ok(ExitCode::SUCCESS)
}

/// A reader that stopped reading (`| head`) is no failure.
fn written(e: io::Error) -> Result<ExitCode, CliError> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::failure(format!("writing to stdout: {e}")))
    }
}
