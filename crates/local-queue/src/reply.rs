//! [`Reply`]: what a local queue answers at one path, and how it is
//! written on the wire.

use std::io::{Cursor, Write};

use tiny_http::{Header, Request, Response};

/// What a [`LocalQueue`](crate::LocalQueue) answers at one path.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reply {
    /// 200 with a JSON body.
    Json(serde_json::Value),
    /// 200 with these bytes, as `application/octet-stream`.
    Bytes(Vec<u8>),
    /// 200 with these bytes gzipped, `Content-Encoding: gzip`, as the
    /// queue's storage serves logs.
    Gzip(Vec<u8>),
    /// 303 to this path on the same server, as the queue redirects an
    /// artifact to where it is stored.
    Redirect(String),
    /// This status with a Taskcluster-style JSON error body.
    Status(u16),
    /// `status` for the first `times` requests, then `then`.
    FailFirst {
        /// How many requests fail.
        times: usize,
        /// With which status.
        status: u16,
        /// What the later ones get.
        then: Box<Reply>,
    },
    /// Reads the request and never answers: the connection stays open
    /// until the local queue is dropped.
    Hang,
}

impl From<pulse_synthetic::ApiAnswer> for Reply {
    fn from(answer: pulse_synthetic::ApiAnswer) -> Reply {
        match answer {
            pulse_synthetic::ApiAnswer::Json(value) => Reply::Json(value),
            pulse_synthetic::ApiAnswer::Bytes(bytes) => Reply::Bytes(bytes),
        }
    }
}

/// Answers `request`, the `seen`th to its path, on a server at `root`;
/// gives the request back when it is to hang.
pub(crate) fn answer(request: Request, reply: &Reply, seen: usize, root: &str) -> Option<Request> {
    let response = match reply {
        Reply::Json(value) => Response::from_data(value.to_string())
            .with_header(header("Content-Type", "application/json")),
        Reply::Bytes(bytes) => Response::from_data(bytes.clone())
            .with_header(header("Content-Type", "application/octet-stream")),
        Reply::Gzip(bytes) => Response::from_data(gzip(bytes))
            .with_header(header("Content-Type", "text/plain"))
            .with_header(header("Content-Encoding", "gzip")),
        Reply::Redirect(path) => Response::from_data(Vec::new())
            .with_status_code(303)
            .with_header(header("Location", &format!("{root}{path}"))),
        Reply::Status(status) => error_response(*status),
        Reply::FailFirst {
            times,
            status,
            then,
        } => {
            if seen <= *times {
                error_response(*status)
            } else {
                return answer(request, then, seen - times, root);
            }
        }
        Reply::Hang => return Some(request),
    };
    if let Err(e) = request.respond(response) {
        log::debug!("a local queue's answer was not read: {e}");
    }
    None
}

/// The queue's error body for `status`.
pub(crate) fn error_response(status: u16) -> Response<Cursor<Vec<u8>>> {
    let body = format!(
        "{{\"code\": \"Status{status}\", \"message\": \"answered {status} by a local queue\"}}"
    );
    Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).expect("the local queue's headers are ASCII")
}
