/**
 * The hand-written part of `docs/performance.md` on imports (I1) and the CLI round trip
 * (P8): what was done, what was tried, and what holds the targets back. Rendered after
 * the main analysis; the figures quoted are from the runs named here.
 */
export const CLI_ANALYSIS = `## Imports and the CLI round trip (I1, P8)

### The CLI's start, measured again (2026-12-01)

The table's I1 and P8 rows are from \`npm run bench -- --only P8,I1\` at 02:21 UTC (load
average 21 at the start, 16 at the end; a bare \`node -e 0\` took 48.5 ms). Just before it,
the build of the commit before this work ("before") and this one ("after") ran
interleaved with their baselines and floors, 15 fresh processes each (8 for Kubernetes),
as medians (min–max) of the wall time and of the process's own CPU time
(\`process.cpuUsage()\` at exit, so at 1 ms resolution):

| command | before | after | \`docker run --rm\` / \`kubectl run --rm -i\` / \`node -e 0\` | floor: the least a Node client does |
|---|---|---|---|---|
| \`drivetrain run busybox -- true\` | 280 ms (217–430), 135 ms CPU | 249 ms (183–425), 104 ms CPU | 145 ms (112–296) | 224 ms (153–1091), 69 ms CPU |
| \`drivetrain run --driver k8s busybox -- true\` | 601 ms (530–936), 437 ms CPU | 556 ms (496–814), 416 ms CPU | 260 ms (229–398) | 231 ms (211–344), 279 ms CPU |
| \`drivetrain --help\` | 31.1 ms, 27.7 ms CPU | 30.2 ms, 26.8 ms CPU | 25.9 ms, 18.7 ms CPU | — |
| \`import('drivetrain/docker')\`, CPU of the import | 56.5 ms | 30.6 ms | — | — |
| \`import('drivetrain/k8s')\`, CPU of the import | 65.2 ms | 39.5 ms | — | — |

The Docker floor is a Node script that loads dockerode as the driver does (without its
gRPC and ssh parts) and makes only the calls \`docker run --rm\` makes: create with
AutoRemove, wait for the removal, start. The Kubernetes floor is a Node process that only
loads @kubernetes/client-node, with the compile cache on: it alone takes 231 ms and 279 ms
of CPU, about what \`kubectl run --rm -i\` takes in all (260 ms).

What was done, each measured alone:

- **\`node:http\` is required, never imported** (\`src/kit/http-modules.ts\`). An \`import\`
  of a built-in builds an ES module facade that reads every export, getters included;
  \`node:http\`'s \`WebSocket\`, \`CloseEvent\` and \`MessageEvent\` getters load the undici
  Node bundles: ~25 ms of CPU (15–20 ms less per Docker run). An import of either driver
  now loads neither \`node:http\` nor \`node:https\` until a request needs one (https alone
  is ~7 ms for TLS): with the two, an import costs 26 ms of CPU less. @kubernetes/client-node imports \`node:http\`
  itself, so a Kubernetes run still loads that undici, inside the SDK's share.
  \`test/unit/sdk-loading.test.ts\` checks that the drivers and dockerode leave it unloaded.
- **The \`drivetrain\` command is a bundle** of the CLI and its drivers (\`dist/bundle/cli\`,
  esbuild, a development dependency; dockerode, client-node, ws, tar-stream and p-retry
  stay in node_modules, so an SDK is still the user's own and \`MissingDependencyError\`
  still names it). A Docker run loads 26 of drivetrain's files instead of 77 modules:
  15–22 ms less CPU per Docker run (137 → 115 and 145 → 129 ms in two interleaved runs of
  10–12) and 30 ms less per Kubernetes run (521 → 492 ms), measured alone. The registry
  spells out each built-in driver's \`import()\` so the bundler follows it.
  \`test/cli/bundle.test.ts\` runs the bundle; \`test/package\` installs it.
- **\`--help\` requires \`node:fs\` and \`node:util\`**: their facades load fs/promises,
  readline and worker_threads (~5 ms of a 30 ms \`--help\`).
- **The compile cache stays** (7 ms of CPU per bundled run: 115 against 122 ms). Its
  default folder (\`node-compile-cache\` in the temporary directory) is made without
  recursion and only where that directory exists: Node's recursive make looped forever
  where a file system answers ENOENT under an existing parent (a \`TMPDIR\` under /proc hung
  every start), and a missing temporary directory is not the CLI's to create. With
  \`NODE_COMPILE_CACHE\` set, Node turns the cache on itself before the CLI runs.

What holds the targets back:

- **P8 Docker (1.76× \`docker run --rm\`).** The floor alone is 1.54× \`docker run --rm\`
  (224 against 145 ms): a Node process starts in ~19 ms of CPU, loads dockerode in ~20 ms
  and spends ~12 ms on its first request (Node's HTTP client code, and the IPv6 regular
  expression Node compiles for the request's server name, ~5 ms), where docker's client
  spends ~10 ms in all. drivetrain is at 1.11× that floor. Its 104 against 69 ms of CPU
  and its requests (15 to the engine and a ping, against the floor's 3) are what its
  guarantees cost: the ping that picks Docker over native; the owner record, a volume made
  before the first container (a kill in between must leave a namespace some reaper can
  take) and removed last at close; the background reap of orphans (engine info, a list of
  containers and one of volumes, beside the start); the image's user, asked beside the
  create; an inspect before the log follow and one after it, with a second log read (the
  engine's follow can end before the last messages, moby/moby#43860); the inspect after
  the wait (OOMKilled and deadline kills); the removal; the namespace's two lists at close.
  None of them can go without a guarantee going with it.
- **P8 Kubernetes (2.19× \`kubectl run --rm -i\`).** Loading @kubernetes/client-node alone
  (279 ms of CPU, 231 ms) is 0.89× of kubectl's whole run; the pod's round trip on the
  local cluster comes on top (P7). Without bundling the SDK into the package (measured
  before: 160–182 against 435 ms of CPU, not kept, see below) no change of ours brings the
  run under kubectl's.
- **\`--help\`** is met (56 ms in the bench, 30 ms alone): it costs ~8 ms of CPU over a bare
  Node process, which is the rest of it.
- **I1** is met for both entry points, time and memory (44 and 40 ms; +21.2 and +13.8 MB).

### The first round (2026-11-30)

Measured on 2026-11-30 with \`npm run bench -- --only I1,P8\` (23:03–23:05 UTC, load
average 36.8 at the start, 31.9 at the end, on two cores shared with other test suites).
At that load a bare \`node -e 0\` took 148 ms (median; 37 ms at best), so wall times are
mostly waiting for a core; the CPU time of each import or client process is the steady
figure and is given beside each.

| row | figure (median) | CPU time | target | met |
|---|---|---|---|---|
| I1 import \`drivetrain/k8s\` | 416 ms (205–591) | 105 ms | ≤ 300 ms | no at this load; yes when quiet (below) |
| I1 RSS the import adds | +30.0 MB (28.7 MiB) | — | ≤ +40 MB | yes |
| I1 import \`drivetrain/docker\` | 150 ms (89–453) | 46 ms | ≤ 150 ms | at the limit; yes when quiet |
| I1 RSS the import adds | +13.4 MB (12.8 MiB) | — | ≤ +20 MB | yes |
| P8 \`drivetrain run busybox -- true\` ÷ \`docker run --rm busybox true\` | 1944 ÷ 1050 ms = 1.85× | 140 ms ÷ 10 ms | ≤ 1.0× | no |
| P8 \`drivetrain run --driver k8s busybox -- true\` ÷ \`kubectl run t --rm -i --restart=Never\` | 3640 ÷ 1614 ms = 2.25× | 540 ms (drivetrain) | ≤ 1.0× | no |
| P8 \`drivetrain --help\` | 227 ms (97–412; \`node -e 0\`: 148 ms) | 30 ms (\`node -e 0\`: 10 ms) | ≤ 100 ms | no at this load; yes when quiet |

A quiet moment came later (23:43 UTC, load average 1.4–1.9, while the Docker engine was
being restarted, so without the P8 round trips): \`npm run bench -- --only I1\` gave
\`drivetrain/k8s\` 101 ms (88–109; 93 ms of CPU) and +28.4 MiB = 29.8 MB,
\`drivetrain/docker\` 46 ms (40–49; 41 ms of CPU) and +12.8 MiB = 13.4 MB, and 15
interleaved \`drivetrain --help\` took 36.8 ms (median; 29–45) against 28.8 ms for
\`node -e 0\`: every I1 target and the \`--help\` target are met on a quiet machine. P8
right after the engine's restart (23:52–23:54 UTC, load 1.2 at the start, 19.5 at the end
as other suites started again): \`drivetrain run busybox -- true\` 623 ms (477–833) against
\`docker run --rm\` 302 ms (217–674), 2.06×, with 130 against 10 ms of CPU; on Kubernetes
3128 ms against kubectl's 2546 ms, 1.23×, with 535 ms of CPU. Of the ~320 ms the Docker run
is behind, ~120 ms is the Node process's CPU and the rest the engine calls after the exit
(below).

Before and after, interleaved (the build of the commit before this work against this one,
8 fresh processes each, load 30–31): importing \`drivetrain/k8s\` went from 463 to 114 ms of
CPU and from +91.6 to +30.0 MB (wall 2163 → 358 ms); \`drivetrain/docker\` from 173 to 47 ms
of CPU and from +39.3 to +13.4 MB (wall 494 → 159 ms). The CPU time of the CLI process
(GNU time, 6 runs each, interleaved): \`drivetrain run busybox -- true\` 190–240 → 130–150 ms,
\`drivetrain --help\` 30–50 → 20–30 ms, \`drivetrain run --driver k8s\` 500–540 → 500–580 ms
(unchanged: see below).

### What was done (kept)

- **A driver loads its SDK when it first needs it** (\`drivers/docker/sdk.ts\`,
  \`drivers/k8s/sdk.ts\`). Importing \`drivetrain/docker\` or \`drivetrain/k8s\` loads the
  driver's own modules only. dockerode is required on the first engine call;
  @kubernetes/client-node when a k8s driver is created (it reads the kubeconfig), by a
  synchronous \`require\` of the ES module (it has no top-level await; \`require\` and
  \`import\` share one instance, so \`instanceof KubeConfig\` and \`ApiException\` hold). A
  missing SDK is still \`MissingDependencyError\` when the driver is created: the package
  is resolved, not loaded, there. \`test/unit/sdk-loading.test.ts\` checks what an import loads.
- **dockerode without the parts a run never reaches.** dockerode requires its BuildKit
  session support (\`lib/session.js\`: @grpc/grpc-js, @grpc/proto-loader, protobufjs) and
  docker-modem its \`ssh://\` transport (\`lib/ssh.js\`: ssh2) when it loads. Each is a module
  exporting one function, so a stand-in in the require cache loads the real one on its
  first call. dockerode then costs 53–60 ms of CPU and +13 MB instead of 135 ms and
  +36 MB (the session part alone was 100 ms and +30 MB, ssh2 69 ms and +19 MB). This
  lightens every process that runs Docker tasks, P6's too.
- **Parts a task run does not use, loaded on first use**: the image operations
  (\`loadImage\`, \`tagImage\`, \`pushImage\`: archive readers, registry probes, credential
  helpers), the volume copies and the tar writer of the scratch directory (tar-stream and
  its dependencies), ws (the first exec or attach). Each module costs a fresh process
  about 0.5 MB of RSS whatever its size: these took the Docker import from +21 to +13 MB.
- **The CLI imports a command's module only when that command runs**: \`--help\` and
  \`--version\` load 9 modules (38 before), and no driver.
- **Fewer round trips in a Docker run**: the image's user (does the scratch directory
  need preparing for a non-root user?) is asked beside the create instead of before it,
  and close lists containers and volumes at once; a task without services does not look
  for them after its exit and at cleanup (\`test/docker/round-trips.test.ts\`).

### Tried, measured, not kept

- **dockerode 5.0.1** (the latest): \`lib/docker.js\` still requires \`lib/session.js\`
  (gRPC, protobuf) and docker-modem 5 still requires ssh2 at load; its changes (session
  IDs from \`crypto\` instead of uuid, tar-fs 2) change nothing for the import. We stay on 4.0.12.
- **Lighter entry points into client-node**: it has no exports map, so its files can be
  imported one by one, but \`dist/config.js\` (KubeConfig) costs 385 ms of CPU and +84 MB
  against 389 ms and +86 MB for the whole package, because it imports \`gen/index.js\`:
  every generated model and API class. \`gen/apis/CoreV1Api.js\` alone: 209 ms and +54 MB;
  the model serializer (it names every model): 115 ms, +28 MB; undici, its fetch: 98 ms, +24 MB.
- **An esbuild bundle of \`drivetrain/k8s\` with client-node inside**: 160–182 ms of CPU and
  +52–58 MB against 435 ms and +90 MB, in one 8.2 MB file of which the generated API
  layers are 5.1 MB (esbuild keeps the generated classes whole) and undici 1.3 MB. Not
  kept: the package would ship its own copy of an SDK that is an optional peer dependency
  (the user's version, \`MissingDependencyError\` when absent), and it would not bring the
  Kubernetes round trip to kubectl's (below).
- **An esbuild bundle of the CLI with the SDKs outside it**: 10–20 ms less CPU per
  \`drivetrain run\` (120 against 130–150 ms), within a run's noise then; kept in the
  second round, where it measured 15–30 ms (above).
- **A larger young generation** (\`--max-semi-space-size=32\`): the same CPU for loading
  client-node (422–452 against 425–436 ms).
- **The compile cache** (kept, \`src/cli/bin.ts\`): a k8s run costs 540–640 ms of CPU with
  it and 660–720 ms without.
- **A larger young generation for the CLI** (second round, \`--min-semi-space-size\` 4 and
  16 MB on the bundled Docker run): 124–130 against 127 ms of CPU, no change.

### Where the CLI's time goes, and what holds the targets back

- **\`drivetrain run busybox -- true\` (Docker).** The process spends 130–150 ms of CPU
  where docker's Go client spends ~10 ms: Node's own start (~20 ms), loading the CLI, the
  driver and dockerode (~75 ms), the rest is the run. A run traced by its engine request
  events at load ~26: Node up at 36 ms, modules and the engine ping until 178 ms, image
  inspect beside the create, then the start: 242 ms; the wait: 120 ms; inspect, delete and
  the namespace's two lists: 60 ms; exit at 600 ms, while a \`docker run\` just after took
  280 ms. On two cores shared by 30 runnable processes every CPU millisecond costs many
  of wall time, which is why the ratio is worst under load. Besides its CPU, the driver
  makes more sequential round trips than \`docker run --rm\`: after the exit it inspects
  the container (for OOMKilled and deadline kills, \`wait()\`'s contract) and removes it,
  then closes the namespace (one list of containers and one of volumes, at once); docker's
  client has the engine remove the container itself (AutoRemove) and waits on a
  connection opened before the start.
- **Kubernetes.** The process spends ~510–540 ms of CPU, ~400 ms of it loading
  @kubernetes/client-node (~1100 modules with its dependencies: every generated model and
  API class, undici, the auth plugins), and that does not shrink without bundling the SDK. The pod's round
  trip on the local cluster (create, the kubelet's start, the terminated status, delete)
  is the P7 floor, the same for both clients; kubectl, a compiled Go program, loads no
  such library. With ~400 ms of CPU that kubectl does not spend, the k8s round trip stays
  above 1.0× on this machine: 2.25× at load 32.
- **\`--help\`** costs 30 ms of CPU against 10–20 ms for a bare \`node -e 0\`: it adds ~10
  ms to Node's own start. On a quiet moment it took 30 ms (a bare Node process 20 ms); at
  load 32 a bare Node process alone takes 148 ms (median), above the 100 ms target.
- **The imports** meet their memory targets (+30 and +13 MB); their CPU (105 and 46 ms)
  is within the time targets, and the wall times (416 and 150 ms) are what that CPU took
  on a machine where a bare Node process needs 148 ms.
`;
