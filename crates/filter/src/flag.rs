//! A rule's command-line flags, as data: the `pulse-monitor` command builds
//! its filter flags from these, so a new rule needs no command-line code.

use std::fmt;

use crate::FilterSpec;

/// One command-line flag of a filter rule ([`Rule::flags`](crate::Rule::flags)):
/// its name, help, and how what it was given goes into a [`FilterSpec`].
///
/// A flag either takes values (repeatable, each a comma list: `--tree
/// a,b --tree c`) or is a switch (`--talos`). This crate does not parse
/// command lines; a program declares each flag to its own parser.
#[derive(Clone, Copy)]
pub struct Flag {
    long: &'static str,
    alias: Option<&'static str>,
    value_name: Option<&'static str>,
    help: &'static str,
    conflicts_with: Option<&'static str>,
    apply: Apply,
}

/// What a given flag does to the spec.
#[derive(Clone, Copy)]
enum Apply {
    /// Adds one value (a comma list) to the rule.
    Values(fn(&mut FilterSpec, &str)),
    /// Turns the switch on.
    Switch(fn(&mut FilterSpec)),
}

impl Flag {
    /// A repeatable flag taking comma lists, `--long VALUE_NAME`, also
    /// spelt `--alias`; `add` puts one value into the spec.
    pub const fn values(
        long: &'static str,
        alias: &'static str,
        value_name: &'static str,
        help: &'static str,
        add: fn(&mut FilterSpec, &str),
    ) -> Flag {
        Flag {
            long,
            alias: Some(alias),
            value_name: Some(value_name),
            help,
            conflicts_with: None,
            apply: Apply::Values(add),
        }
    }

    /// A switch, `--long`; `set` turns it on in the spec.
    pub const fn switch(long: &'static str, help: &'static str, set: fn(&mut FilterSpec)) -> Flag {
        Flag {
            long,
            alias: None,
            value_name: None,
            help,
            conflicts_with: None,
            apply: Apply::Switch(set),
        }
    }

    /// The same flag, refused together with the flag named `long`.
    pub const fn conflicts_with(self, long: &'static str) -> Flag {
        Flag {
            conflicts_with: Some(long),
            ..self
        }
    }

    /// The flag's name without dashes, e.g. `tree`; also its id.
    pub fn long(&self) -> &'static str {
        self.long
    }

    /// A second, visible name, e.g. `trees` (the rule's JSON key).
    pub fn alias(&self) -> Option<&'static str> {
        self.alias
    }

    /// How help names the value, e.g. `TREE[,TREE…]`; `None` for a switch.
    pub fn value_name(&self) -> Option<&'static str> {
        self.value_name
    }

    /// One line of help, without a final period (as clap writes help).
    pub fn help(&self) -> &'static str {
        self.help
    }

    /// The flag (by [`long`](Flag::long)) this one cannot be given with.
    pub fn conflicts(&self) -> Option<&'static str> {
        self.conflicts_with
    }

    /// Puts what the command line gave this flag into `spec`: each value
    /// in turn for a flag taking values; a switch is turned on (call this
    /// only when it was given; `values` is then empty).
    pub fn apply(&self, spec: &mut FilterSpec, values: &[String]) {
        match self.apply {
            Apply::Values(add) => values.iter().for_each(|value| add(spec, value)),
            Apply::Switch(set) => set(spec),
        }
    }
}

impl fmt::Debug for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flag")
            .field("long", &self.long)
            .field("alias", &self.alias)
            .field("value_name", &self.value_name)
            .field("conflicts_with", &self.conflicts_with)
            .finish_non_exhaustive()
    }
}
