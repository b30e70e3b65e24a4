/**
 * The hand-written part of `docs/performance.md`: what the figures mean, the floor,
 * and why a target is missed. Figures quoted here are from the run the document was
 * last rendered with; re-check them against the table above after a new run.
 */
export const ANALYSIS = `## The floor: what the engines themselves cost

- **Docker.** The \`floor\` row of P1 times only the engine's create → start → wait of the
  same container, with nothing read and nothing removed. Every client pays it; reading
  the log (~1 ms) and removing the container (10–40 ms) come on top. The driver's round
  trip is at that floor (1.03×) and at the bare dockerode sequence (1.03× in sequence,
  0.96–0.97× at 1 and 10 at once). Its requests are exactly the bare sequence's plus
  one inspect after \`wait\` (to tell OOMKilled / deadline kills from other exits, ~1 ms);
  the scratch working directory is prepared only for non-root users, so a default task
  makes no archive request. Under load the engine is the bottleneck: create and start
  take 30–190 ms each, everything else is noise.
- **Kubernetes (local API server).** One request costs ~5 ms (\`GET /version\` row). A
  pod's round trip is dominated by the local kubelet starting a Docker container and
  reporting the terminated status; the P7 \`floor\` row (bare client-node create → one
  watch → log → delete) measures that, and the driver is at 1.03× of it.

## Node 26 and the dependency upgrades: before and after

The table above was measured on Node 20 with @kubernetes/client-node 1.4. The runtime and
dependency upgrades were measured side by side on 2026-11-30, with one commit's build in
four configurations: **A** Node 20.20.2, client-node 1.4.0, p-retry 7.1.1 (before); **B**
the same on Node 26.10.0; **C** then client-node 2.0.1; **D** then p-retry 9.0.0 (after).
P1, P3 and P7 ran twice each, in the order A B C D D C B A, on one Docker engine; I1's
imports interleaved the configurations, 15 fresh processes each. Other suites loaded the
two cores all along (load average 20–50), so wall times are noisy; CPU time, memory and
request counts are steady.

| measure | A: before | B: Node 26 | C: + client-node 2 | D: + p-retry 9 |
|---|---|---|---|---|
| I1 \`drivetrain/k8s\` import, CPU time (median) | 549 ms | 365 ms | 425 ms | 416 ms |
| I1 \`drivetrain/k8s\` import, wall time (median) | 1406 ms | 1128 ms | 1456 ms | 1069 ms |
| I1 RSS after importing \`drivetrain/k8s\` (import's share) | 110.8 MiB (+69.7) | 120.2 MiB (+76.1) | 129.2 MiB (+85.3) | 129.7 MiB (+86.5) |
| I1 \`drivetrain/docker\` import, CPU time | 190 ms | 164 ms | 157 ms | 156 ms |
| I1 \`drivetrain/docker\` import, wall time | 525 ms | 519 ms | 382 ms | 293 ms |
| I1 RSS after importing \`drivetrain/docker\` (import's share) | 70.0 MiB (+28.8) | 80.8 MiB (+36.7) | 80.8 MiB (+36.6) | 80.8 MiB (+36.6) |
| a bare Node process's RSS | 41.1 MiB | 44.2 MiB | 44.2 MiB | 44.2 MiB |
| P1 20 in sequence, driver median (two runs) | 302, 465 ms | 296, 485 ms | 419, 525 ms | 452, 360 ms |
| P1 20 in sequence, driver ÷ bare dockerode | 0.94×, 1.13× | 0.93×, 1.05× | 0.84×, 1.08× | 1.17×, 0.78× |
| P3 requests per task: 1 task; 10 × 1 s; 10 × 10 s; 50 × 1 s | 7; 4.5; 4.5; 4.7–5.1 | 7; 4.4–4.6; 4.4–4.9; 4.4–4.7 | 7; 4.6–4.7; 4.3–4.5; 4.8–4.9 | 7; 4.7; 4.3–4.7; 4.5–4.7 |
| P7 driver median (two runs) | 738, 819 ms | 949, 734 ms | 682, 1036 ms | 952, 806 ms |
| P7 driver ÷ \`kubectl run --rm -i\` | 0.84×, 0.75× | 0.86×, 0.84× | 0.90×, 0.94× | 0.89×, 0.76× |
| P7 driver ÷ floor (bare client-node of the same version) | 0.88×, 0.92× | 1.02×, 0.95× | 0.88×, 1.09× | 1.07×, 0.92× |

- **Node 26** imports the k8s driver with a third less CPU than Node 20 (549 → 365 ms) and
  the Docker driver with 14 % less, but its processes are bigger: 3 MiB more at start and
  7–8 MiB more for the same imports (80.8 MiB with dockerode loaded, from 70.0).
- **client-node 2** costs the k8s import ~60 ms of CPU and ~9 MiB (its fetch transport,
  undici, comes on top of what it kept); requests per task and round trips do not change.
- **p-retry 9** changes nothing measurable.
- **P1, P3, P7**: the same requests per task in every configuration; the round trips'
  ratios to their interleaved baselines scatter as much between two runs of one
  configuration as between configurations, so no change is visible under this load.
- **The other lines**, final build: Node 22.23.5 imports the k8s driver in 535 ms of CPU
  (131.6 MiB RSS) and the Docker driver in 176 ms (74.2 MiB); Node 24.22.3 in 438 ms
  (129.5 MiB) and 156 ms (79.8 MiB).
- **The CLI's compile cache** (\`module.enableCompileCache()\` in \`src/cli/bin.ts\`): ten
  \`drivetrain doctor\` runs each with a warm cache and without one cost the same CPU
  (k8s: 395 against 375 ms median, Docker: 160 against 157 ms, at 10 ms resolution): V8
  compiles lazily, and here reading a module costs more than compiling what runs of it.

## Where a target is missed, and why

The run above was made while other test suites shared the machine (load average ~10
on two cores); the full bench took 6 min (7.5 min in an earlier run at load 30).
Spreads (min–max) are wide accordingly.

- **P1 at 50 at once (1.14× the bare sequence, n = 3).** Within noise: the ranges overlap
  and the run at load 30 gave 1.04×. At 50 at once the engine's starts are the queue;
  the driver makes the bare sequence's requests plus one inspect per task.
- **P2 (≤ 0.8× fifty \`docker run\`).** The driver is at 0.81× (0.89× in the run at load 30). Fifty tasks at once on two
  cores are bound by the engine's container starts; the bare dockerode sequence costs the
  same per task (P1 at 50 at once: 1.04–1.14× the bare sequence, ranges overlapping), so no driver change reaches 0.8×
  here: the target sits at or below the engine floor on this machine. The only removable
  cost left is the inspect after \`wait\` in \`drivers/docker/container.ts\` (skip it when
  the wait response's \`StatusCode\` is 0 and no deadline is armed): one ~1 ms request per
  task, well within the noise.
- **P3 at one task.** A task costs three requests — create, read the log, delete — and
  nothing else: the start wait decides first on the pod its create returned (no GET), the
  log reads only the streams asked for, and a removal that hears its pod deleted before it
  waits does not GET it. What comes on top is once per process and cluster: the informer's
  LIST and WATCH (shared by every driver, see P9) and the probe of split log streams
  (learnt once per cluster and user). A lone task in a fresh process pays all three alone
  (@@P3ONE@@ requests); ten of them one after the other cost @@P3SEQ@@ per task, and 10 or 50 at
  once @@P3MANY@@: flat in task length and concurrency. Only the lone task misses ≤ 4, by its
  share of the one-off LIST and WATCH; a WATCH that starts with the current state
  (\`sendInitialEvents\`, KEP-3157, which the local server does not serve) would fold the
  LIST into it.
- **P7 (≤ 0.5× \`kubectl run --rm -i\`).** The driver is at 0.87× kubectl (1.09× at load 30) and
  1.03× of the floor, and the floor itself is only ~15 % faster than kubectl: \`kubectl run -i\` streams the output
  through attach and stops when the stream ends, deleting the pod without waiting, while
  the driver (and the floor) wait for the kubelet to report the pod terminated — that is
  \`wait()\`'s contract, not overhead. 0.5× is out of reach on this local server; nothing
  in the driver stands between it and the floor. Seen on the way: a \`kubectl run -i\`
  sometimes hangs, or exits 0 without the output, on the local server when the container
  exits as the attach begins
  (\`test/k8s-server/node/streams/attach.ts\` should finish the session when the attached
  container is not running any more, and replay the log as kubectl expects); the bench
  retries such a run and says so.
- **P6 (≤ 100 MB for 1000 finished Docker tasks).** Missed by about 6 %: 101 MiB = 106 MB
  with 1000 real tasks held, read after the process had been quiet for 3 s and V8 had run a
  memory-reducing GC (103 MiB right after the burst). Of V8's 45 MiB heap only 11.7 MiB is in
  use, and the live heap grows by ~2 MiB from 250 to 1000 handles: the handles themselves are
  small. The rest is what V8 keeps committed after 1000 tasks' worth of HTTP traffic, plus
  the process: Node ~41 MB and ~25 MB for loading dockerode (it requires @grpc/grpc-js and
  protobufjs for BuildKit sessions, and ssh2, at import), before any task. RSS varies by
  ~15 MB from run to run here: ad-hoc runs of the same 1000 tasks without the quarter-way
  reading measured 74–89 MiB. The native driver holds 1000 tasks in ~69 MiB. The lever is
  the import: calling the engine through \`docker-modem\` alone (dockerode's own transport,
  without the gRPC and protobuf modules) would save ~10 MB. The bench gives each run one
  deadline signal: a fresh \`AbortSignal.timeout\` per \`wait()\` keeps a thousand pending
  timers alive and added 4–10 MiB that were the bench's, not the driver's.

## How the figures grow

- P1: per-task time falls from one at a time to 10 and 50 at once (the engine overlaps
  work), and the driver tracks the bare sequence at every level.
- P3: requests per task stay flat from 10 to 50 tasks at once and from 1 s to 10 s tasks;
  the polling baseline grows linearly with task length.
- P5: throughput is the same at 5 and 50 MiB; this process is idle most of the time
  (~60 % of a core), waiting on the engine's log reader; the driver reads 1.6–1.8× faster
  than \`docker logs -f\` delivers to a pipe.
- P6: native tasks cost ~20 KiB RSS each (the process record), Docker handles less heap.

## Method

Each measure runs its subject and baselines interleaved, the order rotating each round,
so load drifts hit all alike. P3 counts requests on the local API server's own metrics
(the node part talks to the store directly, so only client requests are counted). P4's
exit moment is the engine's \`die\` event (\`timeNano\`, same host clock); for Kubernetes it
is the \`die\` event of the Docker container the local kubelet runs for the pod, because
\`finishedAt\` has second precision. P5 reads a finished container's log, so the figure is
the log path, not the producer. I1 imports each entry point of the compiled build in a
fresh child process. P6 runs in a child Node process on the compiled build
(a TypeScript loader would add ~40 MB of its own); Docker tasks are run for real, 500 of
them (the engine starts ~5–10 a second here), and the figure for 1000 is extrapolated
from the growth between 125 and 500 tasks (the growth slows as tasks accumulate, so the
extrapolation errs high: see the P6 paragraph above for a real 1000).
`;
