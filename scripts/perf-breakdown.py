#!/usr/bin/env python3
"""Where the CPU goes in `simgw bench`: sorts the samples of a perf profile into the areas
README's "Where the time goes" names.

    perf record -F 400 --call-graph dwarf,32768 -o bench.perf \
        ./target/release/simgw bench --activations 6000 --concurrency 64 --baseline-requests 0
    perf script -i bench.perf -F comm,tid,ip,sym,dso > bench.stacks
    scripts/perf-breakdown.py bench.stacks

A sample under the store writer's apply of a create or a state change, or under its commit,
counts there whatever it does below (B-tree work, encoding, fdatasync's CPU). Any other
sample counts by the first frame from the leaf, past kernel and libc frames, that names an
area (so a socket write counts as the TLS or HTTP code that asked for it).
"""
import collections
import re
import sys

# Searched anywhere in the stack, in this order.
ANCHORS = [
    ("store: create commit (apply in the writer)", r"apply::Tables::create_activation"),
    ("store: state commits (apply in the writer)", r"apply::Tables::advance_order"),
    ("store: durable commit (redb write-out, fdatasync)",
     r"WriteTransaction::commit|writer::commit_group|writer::commit_alone"),
]
# Searched from the leaf up, first match wins.
AREAS = [
    ("bench load generator", r"gateway::bench::"),
    ("TLS (rustls, ring)", r"rustls|ring::|ring_core|aes_hw|aes_nohw|gcm_|x25519|ecp_nistz|p256|"
     r"sha256_block|sha512_block|bn_mul|chacha|poly1305"),
    ("JSON (serde_json)", r"serde_json|serde::de|serde::ser"),
    ("HLR round trip: CAI3G XML codec, client, simulator",
     r"quick_xml|adapters::cai3g|conformance::hlr_sim"),
    ("store: reads (API, engine, bench polling)", r"redb::|gateway::store"),
    ("crypto at rest (AES-GCM sealing)", r"gateway::crypto"),
    ("HTTP (hyper, h2, axum, tower)", r"hyper::|h2::|hyper_util|axum|tower|^http::|httparse|matchit"),
    ("engine", r"gateway::engine"),
    ("API handlers", r"gateway::api|gateway::admission|gateway::server"),
    ("tokio runtime, sockets, epoll, wakeups", r"tokio::|mio::"),
]
ANCHOR_RE = [(n, re.compile(p)) for n, p in ANCHORS]
AREA_RE = [(n, re.compile(p)) for n, p in AREAS]
FRAME = re.compile(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def area(frames):
    stack = " | ".join(sym for sym, _ in frames)
    for name, r in ANCHOR_RE:
        if r.search(stack):
            return name
    for sym, dso in frames:
        if "kernel" in dso or "libc" in dso or "ld-linux" in dso:
            continue
        for name, r in AREA_RE:
            if r.search(sym):
                return name
    return "other (kernel, allocator, unattributed)"


def main(path):
    counts = collections.Counter()
    frames = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if not line.strip() or not line[0].isspace():
            if frames:
                counts[area(frames)] += 1
            frames = []
            continue
        m = FRAME.match(line)
        if m:
            frames.append((m.group(1), m.group(2)))
    if frames:
        counts[area(frames)] += 1
    total = sum(counts.values()) or 1
    print("| Area | Share of CPU samples |")
    print("| --- | --- |")
    for name, n in counts.most_common():
        print(f"| {name} | {100 * n / total:.1f} % |")
    print(f"\n{total} samples")


if __name__ == "__main__":
    main(sys.argv[1])
