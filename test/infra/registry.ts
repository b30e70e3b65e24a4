/**
 * The local image registry test/infra/setup.sh runs (Debian's docker-registry with
 * htpasswd auth on 127.0.0.1): the same address and credentials as the script.
 */
export const LOCAL_REGISTRY = {
  host: `127.0.0.1:${process.env.DRIVETRAIN_REGISTRY_PORT ?? '5000'}`,
  username: 'drivetrain',
  password: 'drivetrain-local-registry',
} as const;

/** busybox as the setup pushed it. */
export const REGISTRY_BUSYBOX = `${LOCAL_REGISTRY.host}/busybox:latest`;

/** The `.dockerconfigjson` of a kubernetes.io/dockerconfigjson Secret for the local registry. */
export function dockerConfigJson(username: string = LOCAL_REGISTRY.username, password: string = LOCAL_REGISTRY.password): string {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  return JSON.stringify({ auths: { [LOCAL_REGISTRY.host]: { username, password, auth } } });
}
