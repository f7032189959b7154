//! Flags as the program will read them. Combined short flags are split (`-rf` is `-r`
//! and `-f`), except for programs whose single-dash words are long options (`find
//! -delete`, `terraform -auto-approve`). For the programs the starter policies know, a
//! short flag also gives its long name (`rm -f` is `--force` too) and a long flag
//! abbreviated as the program allows is expanded (`git push --forc`): to every option it
//! could abbreviate, so an ambiguous prefix is judged as the strictest it could mean.

/// Programs whose single-dash words are options of their own, not combined letters.
const SINGLE_DASH_LONG: &[&str] = &[
    "find",
    "java",
    "go",
    "gcc",
    "g++",
    "cc",
    "clang",
    "terraform",
    "tofu",
    "dd",
    "ffmpeg",
];

/// `(program, subcommand)` → (short letter → long name) and the long options.
struct Options {
    program: &'static str,
    subcommand: Option<&'static str>,
    shorts: &'static [(char, &'static str)],
    longs: &'static [&'static str],
}

const TABLES: &[Options] = &[
    Options {
        program: "rm",
        subcommand: None,
        shorts: &[
            ('r', "--recursive"),
            ('R', "--recursive"),
            ('f', "--force"),
            ('d', "--dir"),
        ],
        longs: &[
            "--recursive",
            "--force",
            "--dir",
            "--interactive",
            "--one-file-system",
            "--no-preserve-root",
            "--preserve-root",
            "--verbose",
            "--help",
            "--version",
        ],
    },
    Options {
        program: "cp",
        subcommand: None,
        shorts: &[('r', "--recursive"), ('R', "--recursive"), ('f', "--force")],
        longs: &[
            "--recursive",
            "--force",
            "--remove-destination",
            "--archive",
        ],
    },
    Options {
        program: "mv",
        subcommand: None,
        shorts: &[('f', "--force")],
        longs: &["--force", "--no-clobber", "--interactive"],
    },
    Options {
        program: "chmod",
        subcommand: None,
        shorts: &[('R', "--recursive")],
        longs: &[
            "--recursive",
            "--reference",
            "--changes",
            "--silent",
            "--quiet",
        ],
    },
    Options {
        program: "chown",
        subcommand: None,
        shorts: &[('R', "--recursive")],
        longs: &[
            "--recursive",
            "--reference",
            "--changes",
            "--silent",
            "--quiet",
        ],
    },
    Options {
        program: "chgrp",
        subcommand: None,
        shorts: &[('R', "--recursive")],
        longs: &[
            "--recursive",
            "--reference",
            "--changes",
            "--silent",
            "--quiet",
        ],
    },
    Options {
        program: "git",
        subcommand: Some("gc"),
        shorts: &[],
        longs: &[
            "--prune",
            "--no-prune",
            "--aggressive",
            "--auto",
            "--quiet",
            "--force",
        ],
    },
    Options {
        program: "git",
        subcommand: Some("restore"),
        shorts: &[('s', "--source"), ('W', "--worktree"), ('S', "--staged")],
        longs: &[
            "--source",
            "--worktree",
            "--staged",
            "--overlay",
            "--no-overlay",
        ],
    },
    Options {
        program: "git",
        subcommand: Some("push"),
        shorts: &[
            ('f', "--force"),
            ('d', "--delete"),
            ('u', "--set-upstream"),
            ('n', "--dry-run"),
        ],
        longs: &[
            "--force",
            "--force-with-lease",
            "--force-if-includes",
            "--delete",
            "--mirror",
            "--all",
            "--branches",
            "--tags",
            "--prune",
            "--set-upstream",
            "--dry-run",
            "--no-verify",
            "--verify",
            "--atomic",
            "--follow-tags",
            "--repo",
            "--push-option",
            "--porcelain",
            "--progress",
            "--quiet",
            "--verbose",
            "--receive-pack",
            "--exec",
            "--ipv4",
            "--ipv6",
            "--signed",
            "--thin",
            "--recurse-submodules",
        ],
    },
    Options {
        program: "git",
        subcommand: Some("clean"),
        shorts: &[('f', "--force"), ('n', "--dry-run"), ('i', "--interactive")],
        longs: &[
            "--force",
            "--dry-run",
            "--quiet",
            "--interactive",
            "--exclude",
        ],
    },
    Options {
        program: "git",
        subcommand: Some("reset"),
        shorts: &[],
        longs: &[
            "--hard", "--soft", "--mixed", "--merge", "--keep", "--quiet",
        ],
    },
    Options {
        program: "git",
        subcommand: Some("branch"),
        shorts: &[
            ('D', "--force"),
            ('d', "--delete"),
            ('f', "--force"),
            ('D', "--delete"),
        ],
        longs: &["--delete", "--force", "--move", "--copy", "--list", "--all"],
    },
    Options {
        program: "git",
        subcommand: Some("checkout"),
        shorts: &[('f', "--force")],
        longs: &["--force", "--ours", "--theirs", "--track", "--detach"],
    },
];

fn table(program: &str, subcommand: Option<&str>) -> Option<&'static Options> {
    TABLES
        .iter()
        .find(|t| t.program == program && (t.subcommand.is_none() || t.subcommand == subcommand))
}

/// The flags `words` give `program` (each word starts with `-`), normalized.
pub fn normalize(program: &str, subcommand: Option<&str>, words: &[&str]) -> Vec<String> {
    let known = table(program, subcommand);
    let mut flags: Vec<String> = Vec::new();
    let mut add = |flag: String| {
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    };
    for word in words {
        if let Some(long) = word.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            let written = format!("--{name}");
            add(written.clone());
            if let Some(known) = known {
                for full in expansions(&written, known.longs) {
                    add(full.to_string());
                }
            }
        } else if SINGLE_DASH_LONG.contains(&program) {
            add(word.to_string());
        } else {
            for letter in word.chars().skip(1) {
                add(format!("-{letter}"));
                for (short, long) in known.map(|k| k.shorts).unwrap_or_default() {
                    if *short == letter {
                        add((*long).to_string());
                    }
                }
            }
        }
    }
    flags
}

/// The long options `written` stands for: itself if it is one, else every one it
/// abbreviates.
fn expansions<'a>(written: &str, longs: &'a [&'a str]) -> Vec<&'a str> {
    if longs.contains(&written) {
        return Vec::new();
    }
    if written.len() < 3 {
        return Vec::new();
    }
    longs
        .iter()
        .copied()
        .filter(|full| full.starts_with(written))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_flags_are_split_and_named() {
        let flags = normalize("rm", None, &["-rf"]);
        assert!(flags.contains(&"--recursive".to_string()));
        assert!(flags.contains(&"--force".to_string()));
        let push = normalize("git", Some("push"), &["-uf"]);
        assert!(push.contains(&"--force".to_string()));
        assert_eq!(
            normalize("find", None, &["-delete"]),
            vec!["-delete".to_string()]
        );
    }

    #[test]
    fn abbreviated_long_flags_expand_to_all_they_could_mean() {
        let push = normalize("git", Some("push"), &["--forc"]);
        assert!(push.contains(&"--force".to_string()));
        assert!(push.contains(&"--force-with-lease".to_string()));
        let rm = normalize("rm", None, &["--recur"]);
        assert!(rm.contains(&"--recursive".to_string()));
        let lease = normalize("git", Some("push"), &["--force-with-lease=main"]);
        assert!(lease.contains(&"--force-with-lease".to_string()));
    }
}
