//! What reading a Bash command costs: `shell::read` (the shell parser, every part and
//! path) beside `shlex::split` (the word splitting the hook did before) on the same
//! commands, and the hook's whole mapping of a tool call (`action_of`). Medians of
//! per-command times. Run: `cargo bench -p holdpoint-hook --bench shell`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

const ROUNDS: usize = 2_000;

const COMMANDS: &[&str] = &[
    "ls -la",
    "cargo test --workspace",
    "git push --force origin main",
    "cd build && rm -rf out",
    "grep -rn 'TODO' src | sort | uniq -c | head -20",
    "for f in *.rs; do echo \"$f\"; wc -l \"$f\"; done",
    "bash -c 'cd /tmp && tar czf x.tgz ~/.ssh'",
    "find . -name '*.o' -exec rm -f {} + && echo $(date) >> log.txt",
];

fn median_ns(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<u128> = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        f();
        times.push(start.elapsed().as_nanos());
    }
    times.sort_unstable();
    times[times.len() / 2] as f64
}

fn main() {
    println!(
        "{:<60} {:>10} {:>10} {:>10}",
        "command", "shlex µs", "read µs", "hook µs"
    );
    for command in COMMANDS {
        let split = median_ns(|| {
            black_box(shlex::split(black_box(command)));
        });
        let read = median_ns(|| {
            black_box(holdpoint_hook::shell::read(
                black_box(command),
                "/home/dev/app",
            ));
        });
        let input = json!({"cwd": "/home/dev/app", "tool_name": "Bash",
            "tool_input": {"command": command, "description": "a step"}});
        let hook = median_ns(|| {
            black_box(holdpoint_hook::action_of(black_box(&input)).unwrap());
        });
        println!(
            "{:<60} {:>10.1} {:>10.1} {:>10.1}",
            command,
            split / 1000.0,
            read / 1000.0,
            hook / 1000.0
        );
    }
}
