//! `tc-treeherder.v2.<project>.<revision>[.<pushid>]` routes: the push a
//! task belongs to.

use crate::{Error, ErrorKind};

/// What a `tc-treeherder` route says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TreeherderRoute {
    /// The project (tree), e.g. `autoland`.
    pub(super) project: String,
    /// The hg revision, 12 to 40 hex digits.
    pub(super) revision: String,
    /// The pushlog id, when the route has one.
    pub(super) push_id: Option<u64>,
}

/// Reads `tc-treeherder.v2.<project>.<revision>[.<pushid>]`, with or
/// without a leading `route.`. `Ok(None)` for routes of other kinds
/// (`index.…`, `tc-treeherder-staging.…`, `primary.…`).
pub(super) fn parse_treeherder_route(route: &str) -> Result<Option<TreeherderRoute>, Error> {
    let route = route.strip_prefix("route.").unwrap_or(route);
    let Some(rest) = route.strip_prefix("tc-treeherder.") else {
        return Ok(None);
    };
    let bad = || {
        Error::new(ErrorKind::BadTreeherderRoute {
            route: route.to_string(),
        })
    };
    let mut parts = rest.split('.');
    let (Some("v2"), Some(project), Some(revision)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let push_id = parts.next();
    if parts.next().is_some() {
        return Err(bad());
    }
    let project_ok = !project.is_empty()
        && project
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let revision_ok = (12..=40).contains(&revision.len())
        && revision
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !project_ok || !revision_ok {
        return Err(bad());
    }
    let push_id = match push_id {
        Some(id) => Some(id.parse().map_err(|_| bad())?),
        None => None,
    };
    Ok(Some(TreeherderRoute {
        project: project.to_string(),
        revision: revision.to_string(),
        push_id,
    }))
}

/// The first well-formed `tc-treeherder` route; a malformed one is an
/// error only when no other route names the push.
pub(super) fn find_treeherder_route<'r>(
    routes: impl Iterator<Item = &'r str>,
    task_id: &str,
) -> Result<TreeherderRoute, Error> {
    let mut first_error = None;
    for route in routes {
        match parse_treeherder_route(route) {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => {}
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        Error::new(ErrorKind::MissingTreeherderRoute {
            task_id: task_id.to_string(),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treeherder_routes() {
        let route = parse_treeherder_route(
            "route.tc-treeherder.v2.autoland.fb6b61e49217d835b2d6e435560424aab10d5475.105840",
        )
        .unwrap()
        .unwrap();
        assert_eq!(route.project, "autoland");
        assert_eq!(route.revision, "fb6b61e49217d835b2d6e435560424aab10d5475");
        assert_eq!(route.push_id, Some(105840));
        let short = parse_treeherder_route("tc-treeherder.v2.try.52eb0cec7ba8")
            .unwrap()
            .unwrap();
        assert_eq!((short.project.as_str(), short.push_id), ("try", None));
        for other in [
            "index.gecko.v2.autoland.latest.firefox.linux64-opt",
            "tc-treeherder-staging.v2.try.52eb0cec7ba8e7306b2ce7f04e389a483b011170.1",
            "primary.A35mWTRuQmyj88yMnIF0fA.0._._.aws.gecko-t-linux-large.gecko-level-3.X._",
            "checks",
            "",
        ] {
            assert_eq!(parse_treeherder_route(other).unwrap(), None, "{other}");
        }
        for bad in [
            "tc-treeherder.v2",
            "tc-treeherder.v2.autoland",
            "tc-treeherder.try.52eb0cec7ba8e7306b2ce7f04e389a483b011170",
            "tc-treeherder.v2.autoland.NOTAREVISION",
            "tc-treeherder.v2.autoland.52eb0cec7ba8.notanumber",
            "tc-treeherder.v2..52eb0cec7ba8.1",
            "tc-treeherder.v2.autoland.52eb0cec7ba8.1.extra",
        ] {
            let err = parse_treeherder_route(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                &ErrorKind::BadTreeherderRoute { route: bad.into() },
                "{bad}"
            );
        }
    }
}
