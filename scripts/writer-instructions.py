#!/usr/bin/env python3
"""The store writer's instructions per physical activation and per UK port-in, counted by
callgrind: a figure that does not move with the machine's speed, for changes too small
for `simgw bench --port-in`'s ratio to show on a noisy machine.

    scripts/writer-instructions.py ./target/release/simgw [SMALL LARGE]

Runs four benches under `valgrind --tool=callgrind --separate-threads=yes` (about five
minutes; needs Debian's `valgrind`): `bench --activations N` and `bench --port-in --rounds 1
--activations N`, each with N = SMALL and LARGE (300 and 900 by default), 16 clients. In
each, the store writer's thread is the one that runs `commit_group`; what counts is the
instructions inside `Command::apply` (the commands' own work), since how many commits a
run makes depends on timing, and under valgrind each commit's fixed cost is large. The
difference between the LARGE and SMALL runs divided by LARGE - SMALL leaves the seeding
out: per physical activation from the first pair, per port-in from the second pair minus
that (its runs also make as many physical activations).
"""
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile

APPLY = "gateway::store::embedded::writer::Command::apply"


def inclusive(path):
    """Instructions per function, its own plus those of its calls (callgrind's format)."""
    names, own, calls = {}, collections.Counter(), collections.Counter()
    fn = cfn = None
    in_call = False

    def name(spec):
        m = re.match(r"\((\d+)\)(?:\s+(.*))?", spec)
        if not m:
            return spec
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), m.group(1))

    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("fn="):
                fn = name(line[3:].strip())
            elif line.startswith("cfn="):
                cfn = name(line[4:].strip())
            elif line.startswith("calls="):
                in_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) < 2 or not parts[1].isdigit():
                    continue
                if in_call:
                    if cfn != fn:
                        calls[fn] += int(parts[1])
                    in_call = False
                else:
                    own[fn] += int(parts[1])
    return {k: own[k] + calls[k] for k in set(own) | set(calls)}


def writer_apply(directory):
    best = None
    for path in glob.glob(os.path.join(directory, "callgrind.out.*-*")):
        costs = inclusive(path)
        if APPLY in costs and (best is None or costs[APPLY] > best):
            best = costs[APPLY]
    if best is None:
        sys.exit(f"no store writer thread in {directory}")
    return best


def run(simgw, directory, args):
    os.makedirs(directory)
    cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes", simgw, "bench", *args,
           "--concurrency", "16", "--baseline-requests", "0"]
    env = dict(os.environ, SIMGW_LOG="warn")
    with open(os.path.join(directory, "out.txt"), "w") as out:
        subprocess.run(cmd, cwd=directory, env=env, stdout=out, stderr=subprocess.STDOUT,
                       check=True)
    return writer_apply(directory)


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit(__doc__)
    simgw = os.path.abspath(sys.argv[1])
    small, large = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) == 4 else (300, 900)
    with tempfile.TemporaryDirectory(prefix="writer-instructions-") as tmp:
        counts = {}
        for kind, extra in (("physical", []), ("port-in", ["--port-in", "--rounds", "1"])):
            for n in (small, large):
                counts[kind, n] = run(simgw, os.path.join(tmp, f"{kind}-{n}"),
                                      [*extra, "--activations", str(n)])
    span = large - small
    physical = (counts["physical", large] - counts["physical", small]) / span
    port_in = (counts["port-in", large] - counts["port-in", small]) / span - physical
    print(f"store writer instructions in Command::apply: per physical activation "
          f"{physical / 1e3:.0f} k, per UK port-in {port_in / 1e3:.0f} k, "
          f"ratio {physical / port_in:.3f}")


if __name__ == "__main__":
    main()
