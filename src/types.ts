import type { Readable, Writable } from 'node:stream';

/**
 * The contract every drivetrain driver implements.
 *
 * A driver runs {@link Task}s as containers (or host processes), keyed by the
 * caller's task ID, inside one drivetrain {@link Driver.namespace}. Everything a
 * driver creates carries that namespace as a label so that {@link Driver.close}
 * and `drivetrain cleanup` can reap it, and nothing of another namespace.
 */
export interface Driver extends AsyncDisposable {
  /** The registry name of the driver, e.g. `docker`, `native`, `k8s`. */
  readonly name: string;
  /** The drivetrain namespace that scopes labels and names of everything this driver makes. */
  readonly namespace: string;
  /** What this driver can do beyond the required methods. Read it before calling an optional method. */
  readonly capabilities: DriverCapabilities;

  /**
   * Starts `task` and resolves once its process has started (or already ended).
   *
   * Idempotent per `task.id` within the namespace: running an ID that already has a
   * container returns that container, also when several calls race and also from a
   * fresh driver instance. A task that can never start rejects with a typed error
   * ({@link import('./errors.js').ImagePullError}, `ContainerStartError`, `StartTimeoutError`,
   * `InvalidInputError`) and leaves nothing behind.
   */
  runContainer(task: Task, options?: OperationOptions): Promise<Container>;

  /** Finds the container of a task ID in this namespace; rejects with `ContainerNotFoundError`. */
  getContainer(id: string, options?: OperationOptions): Promise<Container>;

  /** Creates a named volume in this namespace, or returns the existing one of that name. */
  createVolume(name: string, options?: CreateVolumeOptions): Promise<Volume>;

  /**
   * Removes every container, volume and helper this namespace made, running or not,
   * and only those. Bounded in time; safe to call twice. After `close` the driver
   * must not be used again.
   */
  close(options?: OperationOptions): Promise<void>;

  /** Extracts a tar stream into the volume's root. Present when `capabilities.copyToVolume`. */
  copyToVolume?(volume: VolumeRef, tar: Readable, options?: OperationOptions): Promise<void>;

  /** The volume's whole content as a tar stream, entries relative to the volume root. Present when `capabilities.copyFromVolume`. */
  copyFromVolume?(volume: VolumeRef, options?: OperationOptions): Promise<Readable>;

  /**
   * A tar stream of just `paths` (files or directories, relative to the volume root),
   * entries relative to the volume root. A missing path rejects with `NotFoundError`.
   * Present when `capabilities.readFilesFromVolume`.
   */
  readFilesFromVolume?(volume: VolumeRef, paths: readonly string[], options?: OperationOptions): Promise<Readable>;

  /** Starts a long-lived container to run several commands in. Present when `capabilities.startSandbox`. */
  startSandbox?(task: SandboxTask, options?: OperationOptions): Promise<Sandbox>;

  /**
   * Reaps the namespaces on the same engine (cluster, root) whose every owner record is gone
   * (an expired Lease, a dead process on this host, a stale heartbeat), never this driver's
   * own nor one with a live owner; with `unowned`, also those with no owner record at all.
   * Resolves with the namespaces reaped. The built-in drivers have it (docs/reliability.md,
   * "No orphans"); `drivetrain cleanup --orphans` calls it.
   */
  reapOrphans?(options?: OperationOptions & { unowned?: boolean }): Promise<string[]>;
}

/** Optional operations and the task settings a driver can really enforce. */
export interface DriverCapabilities {
  readonly copyToVolume: boolean;
  readonly copyFromVolume: boolean;
  readonly readFilesFromVolume: boolean;
  readonly startSandbox: boolean;
  /**
   * Tasks and sandbox execs can run on a terminal ({@link TerminalOptions.tty}), resized while
   * they run. A driver without it refuses `tty` with `UnsupportedCapabilityError` (capability `tty`).
   */
  readonly tty: boolean;
  /**
   * {@link Task.services} run beside the task (and beside a sandbox), sharing its network
   * namespace. A driver without it refuses a task with services with `UnsupportedCapabilityError`
   * (capability `services`).
   */
  readonly services: boolean;
  /** Which {@link Task} settings the driver enforces; a `false` setting is accepted but has no effect (see the driver's docs). */
  readonly enforces: {
    readonly user: boolean;
    readonly privileged: boolean;
    readonly cpuShares: boolean;
    readonly memoryBytes: boolean;
    /** The task runs from `task.image` (the native driver ignores images). */
    readonly image: boolean;
  };
}

/** Options every async operation takes. */
export interface OperationOptions {
  /** Aborts the operation; whatever it had started is stopped and removed. */
  signal?: AbortSignal;
}

/** Bytes or text to feed a task's standard input; the stream is read as it goes, never buffered whole. */
export type StdinSource = Readable | AsyncIterable<Uint8Array> | string | Uint8Array;

/** The size of a terminal, in character cells. */
export interface TerminalSize {
  /** Width in columns: a positive integer (at most 65535). */
  columns: number;
  /** Height in rows: a positive integer (at most 65535). */
  rows: number;
}

/**
 * Running a process on a terminal, as `docker run -it` and `kubectl exec -it` do. Present
 * when the driver's `capabilities.tty`; a driver without it refuses `tty` with
 * `UnsupportedCapabilityError`.
 */
export interface TerminalOptions {
  /**
   * Runs the process on a terminal of that size (`true`: 80 columns × 24 rows, `DEFAULT_TERMINAL_SIZE`).
   * The output is then the terminal's stream: every byte goes to stdout as the terminal gave
   * it (CRLF line ends, echo of the input, escape sequences), stderr gets nothing. Standard
   * input goes to the terminal, so its line discipline applies: a 0x03 byte is Ctrl-C (SIGINT
   * to the foreground process), 0x04 at the start of a line is end of input. The exit code is
   * the process's own, as without a terminal.
   * @default false: no terminal, stdout and stderr apart
   */
  tty?: boolean | TerminalSize;
  /**
   * New sizes of the terminal while the process runs (like client-go's TerminalSizeQueue):
   * each size it yields resizes the terminal (SIGWINCH to the process). The driver stops
   * reading it when the process ends; a size that is not valid is ignored. Only with `tty`.
   * @default none: the terminal keeps its size
   */
  terminalSizes?: AsyncIterable<TerminalSize>;
}

/** One unit of work: a command in an image. */
export interface Task extends TerminalOptions {
  /** The caller's task ID: the idempotency key. Any non-empty string without NUL, up to 1024 characters. */
  id: string;
  /** Image reference, e.g. `busybox`, `alpine:3.20`, `ghcr.io/org/app@sha256:…`. */
  image: string;
  /** The command and its arguments, run directly (no shell). Must be non-empty. */
  command: readonly string[];
  /**
   * Variables the task sees, on top of the image's own (e.g. its `PATH`; the native driver
   * adds a minimal `PATH` when none is given). The host's environment is never passed on.
   */
  env?: Readonly<Record<string, string>>;
  /**
   * Absolute working directory inside the container.
   * @default a per-task scratch directory, {@link defaultWorkDir}
   */
  workDir?: string;
  /** `uid`, `uid:gid`, or a user name known to the image. @default the image's user */
  user?: string;
  /** Runs the container privileged. @default false */
  privileged?: boolean;
  /** Standard input; the process sees EOF after the last byte. @default no stdin (immediate EOF) */
  stdin?: StdinSource;
  /** Volumes to mount. Relative paths resolve against `workDir`. */
  mounts?: readonly Mount[];
  /** Resource limits. */
  limits?: Limits;
  /** Extra labels for the container. Keys starting with `drivetrain.` are reserved. */
  labels?: Readonly<Record<string, string>>;
  /**
   * Wall-clock limit for the task in milliseconds; past it the process is killed and the
   * status reports `reason: 'DeadlineExceeded'`. @default no limit
   */
  timeoutMs?: number;
  /**
   * Service containers (a database, a cache) started before the task and beside it: they
   * share its network namespace, so the task reaches each at `localhost:PORT`; each must
   * pass its readiness check before the task's process starts; they are stopped and removed
   * with the task. Their output is read with `container.logs({ service })`. Present when
   * `capabilities.services`. @default none
   */
  services?: readonly Service[];
}

/** A service container of a task (see {@link Task.services}). */
export interface Service {
  /** Unique within the task: lower-case letters, digits and `-`, 1 to 40 characters, starting with a letter, not `task`. */
  name: string;
  /** Image reference, as for a task. */
  image: string;
  /** The command and its arguments, run directly. @default the image's own entrypoint and command */
  command?: readonly string[];
  /** Variables the service sees, on top of the image's own. */
  env?: Readonly<Record<string, string>>;
  /** When the service counts as ready. @default ready once its process runs */
  ready?: ServiceReadiness;
}

/**
 * A service's readiness check, tried every 250 ms until it
 * passes or `timeoutMs` has passed (then the task fails with `ServiceNotReadyError`).
 * `tcpPort`: something accepts connections on that port at `localhost` in the task's
 * network namespace. `command`: the command, run inside the service's container, exits 0.
 */
export type ServiceReadiness = ({ tcpPort: number; command?: never } | { command: readonly string[]; tcpPort?: never }) & {
  /** How long the service may take to become ready, in milliseconds. @default 60000 */
  timeoutMs?: number;
};

/** A task for {@link Driver.startSandbox}: the container idles until it is cleaned up. */
export type SandboxTask = Omit<Task, 'command' | 'stdin' | 'timeoutMs' | 'tty' | 'terminalSizes'>;

/** A volume mounted into a task. */
export interface Mount {
  /** Name of a volume created with {@link Driver.createVolume} (created on demand when missing). */
  volume: string;
  /** Where to mount it: absolute, or relative to the task's `workDir`. */
  path: string;
  /** @default false */
  readOnly?: boolean;
}

/** Resource limits. Drivers that cannot enforce one say so in `capabilities.enforces`. */
export interface Limits {
  /** Relative CPU weight, Docker-style (1024 = one full share). Kubernetes maps it to millicores (shares × 1000 / 1024). */
  cpuShares?: number;
  /** Memory limit in bytes. */
  memoryBytes?: number;
}

/** Options of {@link Driver.createVolume}. */
export interface CreateVolumeOptions extends OperationOptions {
  /** Requested size in bytes, where the driver can size volumes. @default the driver's default */
  sizeBytes?: number;
}

/** A named volume of one namespace. */
export interface Volume {
  readonly name: string;
  /** The requested size in bytes, when one was given or the driver knows it. */
  readonly sizeBytes?: number;
  /** Removes the volume; "already gone" is success. */
  cleanup(options?: OperationOptions): Promise<void>;
}

/** A volume, by object or by name. */
export type VolumeRef = Volume | string;

/**
 * What is known of a task's process.
 *
 * Exit codes are never invented: `exitCode` is the process's own code, 128+n for a
 * process killed by signal n, and `null` when no process ran or the code is unknown,
 * in which case `reason` says why.
 */
export interface ContainerStatus {
  /** The process has ended (or can never run). */
  done: boolean;
  /** The process's exit code once done; `null` while running or when unknown. */
  exitCode: number | null;
  /** Why it ended or why the code is unknown: `OOMKilled`, `Deleted`, `DeadlineExceeded`, `Error`, … */
  reason?: string;
  /** A human-readable detail from the engine. */
  message?: string;
}

/** Options of {@link Container.logs}. */
export interface LogOptions extends OperationOptions {
  /** Where the task's standard output goes. @default discarded */
  stdout?: Writable;
  /** Where the task's standard error goes. @default discarded */
  stderr?: Writable;
  /**
   * Stream live: resolves once the container has exited and all output was delivered.
   * Without follow, writes everything so far and resolves; repeatable after exit.
   * @default false
   */
  follow?: boolean;
  /**
   * Read the output of this service of the task (see {@link Task.services}) instead of the
   * task's own. A name the task has no service of rejects with `NotFoundError`.
   * @default the task's own output
   */
  service?: string;
}

/** Options of {@link Sandbox.logs}: the service is required (a sandbox's own process prints nothing). */
export interface ServiceLogOptions extends LogOptions {
  service: string;
}

/** What a {@link Container.logs} call delivered. */
export interface LogResult {
  /**
   * `separate`: stdout and stderr went to their own destinations. `combined`: the engine
   * cannot tell them apart (Kubernetes before 1.32, or without the `PodLogsQuerySplitStreams`
   * feature gate): the interleaved log went to `stdout`, each byte once, and `stderr` got nothing.
   */
  streams: 'separate' | 'combined';
}

/** A task's container. */
export interface Container extends AsyncDisposable {
  /** The task ID it runs. */
  readonly id: string;
  /** The current status. */
  status(options?: OperationOptions): Promise<ContainerStatus>;
  /** Resolves with the final status once the process has ended (event-driven where the engine offers events). */
  wait(options?: OperationOptions): Promise<ContainerStatus>;
  /**
   * Writes the task's output to `stdout`/`stderr`, kept apart where the engine can (see
   * {@link LogResult}), and says how. The destinations are not ended.
   */
  logs(options?: LogOptions): Promise<LogResult>;
  /** Stops and removes the container; idempotent. Volumes are kept. */
  cleanup(options?: OperationOptions): Promise<void>;
}

/** Options of {@link Sandbox.exec}. `env`, `workDir` and the terminal apply to that call only. */
export interface ExecOptions extends OperationOptions, TerminalOptions {
  env?: Readonly<Record<string, string>>;
  /** Absolute, or relative to the sandbox's `workDir`. */
  workDir?: string;
  stdin?: StdinSource;
  stdout?: Writable;
  stderr?: Writable;
}

/** A long-lived container to run several commands in. */
export interface Sandbox extends AsyncDisposable {
  /** The task ID it was started for. */
  readonly id: string;
  /**
   * Runs `command` (no shell) and resolves with its status; a non-zero exit is a status, not an
   * exception. A stream lost before the command reported its exit (an API server restart, a
   * half-open connection) resolves `{ done: true, exitCode: null, reason: 'StreamLost' }`.
   */
  exec(command: readonly string[], options?: ExecOptions): Promise<ContainerStatus>;
  /**
   * Writes the output of one of the sandbox's services, as {@link Container.logs} does for a
   * task's. Present when the driver's `capabilities.services`.
   */
  logs?(options: ServiceLogOptions): Promise<LogResult>;
  /** Stops and removes the sandbox at once; idempotent. */
  cleanup(options?: OperationOptions): Promise<void>;
}

/** Options every driver factory takes. */
export interface BaseDriverOptions {
  /**
   * The drivetrain namespace: scopes labels and names. Lower-case letters, digits and
   * `-` (not first or last, never two in a row), 1 to 40 characters. @default a random one (`dt-` + 8 hex characters)
   */
  namespace?: string;
  /**
   * Where the driver logs its lifecycle events (see docs/events.md): any object with `debug`,
   * `info`, `warn` and `error`, such as `console` or a pino logger, called as
   * `logger.info(fields, message)`. The same events are published on `diagnostics_channel`
   * whether or not a logger is set. @default none: nothing is printed
   */
  logger?: Logger;
}

/**
 * Any logger with the four usual levels: `console`, pino, bunyan, winston, … Each event is
 * logged as `logger[level](fields, message)`, the shape pino and bunyan take (console prints both).
 */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Makes a driver from its options; `namespace` is always set (a random one when the caller gave none). */
export type DriverFactory<O extends BaseDriverOptions = BaseDriverOptions> = (options: O & { namespace: string }) => Driver | Promise<Driver>;

/** One line of a driver's doctor report. `ok: null` means it could not be verified. */
export interface DoctorCheck {
  name: string;
  ok: boolean | null;
  detail: string;
}

/** What a driver's `doctor` found. `ok` is false when any check failed (unverifiable checks do not fail it). */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  /** Where the checks looked, in words (`server https://…`, `engine unix:///var/run/docker.sock`), when known. */
  where?: string;
  /**
   * The check that stopped the others (no engine, no kubeconfig): when set, it is the whole
   * report, the rest could not even be tried.
   */
  blockedBy?: DoctorCheck;
}

/** Options of a driver's `doctor` and `available`. */
export interface DoctorOptions {
  /** How long each engine call may take, in milliseconds. @default 5000 */
  timeoutMs?: number;
}

/**
 * What a driver's entry point (`drivetrain/docker`, …) gives the registry, as its export
 * `driverEntry`: the factory, and optionally the driver's own checks of its environment.
 * The registry loads an entry point only when its driver is first asked for.
 */
export interface DriverEntry<O extends BaseDriverOptions = BaseDriverOptions> {
  create: DriverFactory<O>;
  /** Checks that the driver's environment works (the CLI's `drivetrain doctor --driver NAME`). */
  doctor?: (options?: DoctorOptions) => Promise<DoctorReport>;
  /** Whether the driver's engine answers, quickly (the CLI's default driver is the first that does). */
  available?: (options?: DoctorOptions) => Promise<boolean>;
}

/**
 * Options of each driver by name, for `createDriver(name, options)`: each driver's entry point
 * adds its own name (module augmentation), so the options type follows the name wherever that
 * driver's types are loaded, e.g. `import type {} from 'drivetrain/docker'`.
 */
export interface DriverOptionsByName {}
