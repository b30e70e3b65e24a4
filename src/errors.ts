/**
 * drivetrain's typed errors. Each has a stable `name` and `code`; the engine's own
 * error is chained as `cause`. SDK errors are turned into these once, at the driver
 * boundary, by status code — never by message text.
 */

/** Base class of every error drivetrain throws on purpose. */
export class DrivetrainError extends Error {
  override name = 'DrivetrainError';
  /** Stable machine-readable code, e.g. `ERR_CONTAINER_NOT_FOUND`. */
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'ERR_DRIVETRAIN';
  }
}

/** A thing that was asked for does not exist. */
export class NotFoundError extends DrivetrainError {
  override name = 'NotFoundError';
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, { code: 'ERR_NOT_FOUND', ...options });
  }
}

/** No container of that task ID exists in the namespace. */
export class ContainerNotFoundError extends NotFoundError {
  override name = 'ContainerNotFoundError';
  readonly taskId: string;
  constructor(taskId: string, options: { namespace?: string; cause?: unknown } = {}) {
    const where = options.namespace === undefined ? '' : ` in namespace "${options.namespace}"`;
    super(`no container for task "${taskId}"${where}`, { code: 'ERR_CONTAINER_NOT_FOUND', cause: options.cause });
    this.taskId = taskId;
  }
}

/** A name is taken by something drivetrain may not adopt (another task, another namespace), or a write raced. */
export class ConflictError extends DrivetrainError {
  override name = 'ConflictError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'ERR_CONFLICT', ...options });
  }
}

/** The image is missing, invalid, or could not be pulled. */
export class ImagePullError extends DrivetrainError {
  override name = 'ImagePullError';
  readonly image: string;
  /** The engine's reason, e.g. `ErrImagePull`, `InvalidImageName`, `ErrImageNeverPull`, `NotFound`. */
  readonly reason: string;
  constructor(image: string, reason: string, message: string, options: { cause?: unknown } = {}) {
    super(`image "${image}": ${message}`, { code: 'ERR_IMAGE_PULL', ...options });
    this.image = image;
    this.reason = reason;
  }
}

/** The engine refused to create or start the container (bad config, command not startable, …). */
export class ContainerStartError extends DrivetrainError {
  override name = 'ContainerStartError';
  /** The engine's reason, e.g. `CreateContainerConfigError`, `StartError`. */
  readonly reason: string;
  constructor(reason: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'ERR_CONTAINER_START', ...options });
    this.reason = reason;
  }
}

/** The task did not start within the driver's start timeout. */
export class StartTimeoutError extends DrivetrainError {
  override name = 'StartTimeoutError';
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    super(message, { code: 'ERR_START_TIMEOUT', ...options });
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Bad input: names the field, what was expected, and what was received.
 * TypeError-like: thrown before anything is created.
 */
export class InvalidInputError extends DrivetrainError {
  override name = 'InvalidInputError';
  /** Path of the offending field, e.g. `task.mounts[1].path`. */
  readonly field: string;
  /** What a valid value looks like. */
  readonly expected: string;
  constructor(field: string, expected: string, received?: unknown, options: { cause?: unknown } = {}) {
    const got = received === undefined ? '' : `, received ${describe(received)}`;
    super(`invalid ${field}: expected ${expected}${got}`, { code: 'ERR_INVALID_INPUT', ...options });
    this.field = field;
    this.expected = expected;
  }
}

/** The engine (Docker daemon, Kubernetes API server) cannot be reached or keeps failing. */
export class EngineUnavailableError extends DrivetrainError {
  override name = 'EngineUnavailableError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'ERR_ENGINE_UNAVAILABLE', ...options });
  }
}

/** The engine answered with an error drivetrain has no better name for (e.g. 403 Forbidden). */
export class EngineError extends DrivetrainError {
  override name = 'EngineError';
  /** The engine's status code (HTTP status for Docker and Kubernetes). */
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode: number | undefined, options: { cause?: unknown } = {}) {
    super(message, { code: 'ERR_ENGINE', ...options });
    this.statusCode = statusCode;
  }
}

/** Why a registry refused or failed an operation. */
export type RegistryErrorReason = 'Unauthorized' | 'Unreachable' | 'Failed';

/**
 * An image registry refused or failed a push: `Unauthorized` (credentials missing or
 * refused), `Unreachable` (nothing answers at the registry's address), `Failed`
 * (anything else; the engine's message says what).
 */
export class RegistryError extends DrivetrainError {
  override name = 'RegistryError';
  /** The registry host, e.g. `ghcr.io`, `127.0.0.1:5000`, `docker.io`. */
  readonly registry: string;
  readonly reason: RegistryErrorReason;
  constructor(registry: string, reason: RegistryErrorReason, message: string, options: { cause?: unknown } = {}) {
    super(`registry ${registry}: ${message}`, { code: 'ERR_REGISTRY', ...options });
    this.registry = registry;
    this.reason = reason;
  }
}

/**
 * Registry credentials could not be read: a Docker config file that is not valid JSON or
 * holds a malformed entry, or a credential helper (`docker-credential-*`) that is missing
 * or fails.
 */
export class CredentialsError extends DrivetrainError {
  override name = 'CredentialsError';
  /** Where the credentials were to come from: a config file path, `DOCKER_AUTH_CONFIG`, or a helper program's name. */
  readonly source: string;
  constructor(source: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'ERR_CREDENTIALS', ...options });
    this.source = source;
  }
}

/**
 * The driver cannot do what was asked: the capability named is `false` in its
 * `capabilities` (e.g. `tty` on a driver without terminals). Read `driver.capabilities` first.
 */
export class UnsupportedCapabilityError extends DrivetrainError {
  override name = 'UnsupportedCapabilityError';
  /** The capability of `DriverCapabilities` that is missing, e.g. `tty`. */
  readonly capability: string;
  /** The registry name of the driver that refused, e.g. `k8s`. */
  readonly driver: string;
  constructor(driver: string, capability: string, what: string, options: { cause?: unknown } = {}) {
    super(`the ${driver} driver cannot ${what} (capabilities.${capability} is false)`, { code: 'ERR_UNSUPPORTED_CAPABILITY', ...options });
    this.capability = capability;
    this.driver = driver;
  }
}

/** The driver was closed and cannot be used again. */
export class DriverClosedError extends DrivetrainError {
  override name = 'DriverClosedError';
  constructor(driverName: string) {
    super(`the ${driverName} driver was closed; create a new one`, { code: 'ERR_DRIVER_CLOSED' });
  }
}

/**
 * `close` did not finish within the driver's `closeTimeoutMs`. What it had not removed yet is
 * still labelled with the namespace: a later `close()` (of this or a fresh instance of the
 * namespace) or `drivetrain cleanup --namespace <namespace>` removes it.
 */
export class CloseTimeoutError extends DrivetrainError {
  override name = 'CloseTimeoutError';
  /** The drivetrain namespace that was being closed. */
  readonly namespace: string;
  /** The bound that ran out, in milliseconds. */
  readonly timeoutMs: number;
  constructor(driverName: string, namespace: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    super(
      `the ${driverName} driver did not finish closing namespace "${namespace}" within ${timeoutMs} ms; what is left is removed by a later close() or \`drivetrain cleanup --driver ${driverName} --namespace ${namespace}\``,
      { code: 'ERR_CLOSE_TIMEOUT', ...options },
    );
    this.namespace = namespace;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A driver's SDK is not installed: the SDKs are optional peer dependencies of the package,
 * installed by whoever uses that driver (`npm install dockerode`).
 */
export class MissingDependencyError extends DrivetrainError {
  override name = 'MissingDependencyError';
  /** The npm package to install, e.g. `dockerode`, `@kubernetes/client-node`. */
  readonly packageName: string;
  constructor(what: string, packageName: string, options: { cause?: unknown } = {}) {
    super(`${what} needs the package "${packageName}", which is not installed: npm install ${packageName}`, { code: 'ERR_MISSING_DEPENDENCY', ...options });
    this.packageName = packageName;
  }
}

/** Short, safe description of a received value: never prints long strings whole. */
function describe(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    return `${JSON.stringify(shown)} (string of length ${value.length})`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}

/** Why a service did not become ready: its check kept failing until the timeout, or its process ended. */
export type ServiceNotReadyReason = 'Timeout' | 'Exited';

/**
 * A service of the task (see `Task.services`) did not become ready, so the task was not
 * started; everything made for it (the task's container and every service) was removed.
 */
export class ServiceNotReadyError extends DrivetrainError {
  override name = 'ServiceNotReadyError';
  /** The service's name. */
  readonly service: string;
  readonly reason: ServiceNotReadyReason;
  /** The service's readiness timeout, in milliseconds. */
  readonly timeoutMs: number;
  constructor(service: string, reason: ServiceNotReadyReason, detail: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    const why = reason === 'Timeout' ? `did not become ready within ${timeoutMs} ms` : 'ended before it was ready';
    super(`service "${service}" ${why}${detail === '' ? '' : ` (${detail})`}; the task was not started`, { code: 'ERR_SERVICE_NOT_READY', ...options });
    this.service = service;
    this.reason = reason;
    this.timeoutMs = timeoutMs;
  }
}
