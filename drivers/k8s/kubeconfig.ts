import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { InvalidInputError } from '../../src/errors.js';
import { clientNode } from './sdk.js';

/** Where the kubeconfig comes from: an object, a path, and the context to use. */
export interface KubeConfigSource {
  kubeconfig?: string;
  kubeConfig?: KubeConfig;
  context?: string;
}

/**
 * Loads the KubeConfig: `kubeConfig` > `kubeconfig` path > `KUBECONFIG` > `~/.kube/config` >
 * in-cluster service account (in a pod: `KUBERNETES_SERVICE_HOST` set); none of them is an
 * InvalidInputError. Nothing is contacted here.
 */
export function loadKubeConfig(options: KubeConfigSource, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const { KubeConfig } = clientNode();
  let kc: KubeConfig;
  if (options.kubeConfig !== undefined) {
    if (!(options.kubeConfig instanceof KubeConfig)) throw new InvalidInputError('options.kubeConfig', 'a KubeConfig object from @kubernetes/client-node', options.kubeConfig);
    kc = options.kubeConfig;
  } else if (options.kubeconfig !== undefined) {
    if (typeof options.kubeconfig !== 'string' || !existsSync(options.kubeconfig)) {
      throw new InvalidInputError('options.kubeconfig', 'the path of an existing kubeconfig file', options.kubeconfig);
    }
    kc = mergeKubeconfigFiles([options.kubeconfig]);
  } else if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    // Missing files in the list are skipped, as kubectl does.
    const files = env.KUBECONFIG.split(delimiter).filter((file) => file !== '' && existsSync(file));
    if (files.length === 0) throw new InvalidInputError('KUBECONFIG', 'a list of existing kubeconfig files', env.KUBECONFIG);
    kc = mergeKubeconfigFiles(files);
  } else if (existsSync(join(homeOf(env), '.kube', 'config'))) {
    kc = mergeKubeconfigFiles([join(homeOf(env), '.kube', 'config')]);
  } else if ((env.KUBERNETES_SERVICE_HOST ?? '') !== '') {
    kc = new KubeConfig();
    kc.loadFromCluster();
  } else {
    // Outside a pod, client-node's in-cluster config would name server https://undefined:undefined.
    throw new InvalidInputError('kubeconfig', "a kubeconfig: KUBECONFIG, ~/.kube/config, or a pod's service account (KUBERNETES_SERVICE_HOST)");
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null) {
      throw new InvalidInputError('options.context', `one of the kubeconfig's contexts (${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`, options.context);
    }
    kc.setCurrentContext(options.context);
  }
  if (kc.getCurrentCluster() === null) throw new InvalidInputError('kubeconfig', 'a kubeconfig whose current context names a cluster');
  return kc;
}

/** The home directory as `os.homedir()` finds it (HOME, else USERPROFILE, else the system's), read from `env`. */
function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || homedir();
}

/**
 * The kubeconfig files merged as kubectl merges a `KUBECONFIG` list (client-go
 * `tools/clientcmd/loader.go`, `ClientConfigLoadingRules.Load`): the first file to define a
 * cluster, user or context of a given name wins and later entries of that name are ignored
 * whole; `current-context` is the first one set. Empty files are skipped; relative paths are
 * resolved against the file that holds them (client-node's `loadFromFile` does that).
 */
export function mergeKubeconfigFiles(files: readonly string[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  const { KubeConfig } = clientNode();
  let currentContext = '';
  for (const file of files) {
    if (readFileSync(file, 'utf8').trim() === '') continue;
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (error) {
      throw new InvalidInputError(file === files[0] && files.length === 1 ? 'kubeconfig' : 'KUBECONFIG', `a readable kubeconfig file (${file}: ${(error as Error).message})`, undefined, { cause: error });
    }
    for (const cluster of one.getClusters()) if (!clusters.has(cluster.name)) clusters.set(cluster.name, cluster);
    for (const user of one.getUsers()) if (!users.has(user.name)) users.set(user.name, user);
    for (const context of one.getContexts()) if (!contexts.has(context.name)) contexts.set(context.name, context);
    if (currentContext === '' && one.getCurrentContext()) currentContext = one.getCurrentContext();
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext });
  return kc;
}

/**
 * A hash of the API server and user `kc` reaches, and of `more`: equal for equal kubeconfigs
 * whatever object holds them (what the process shares per cluster is keyed by it).
 */
export function clusterIdentity(kc: KubeConfig, more: readonly unknown[] = []): string {
  return createHash('sha256').update(JSON.stringify([kc.getCurrentCluster(), kc.getCurrentUser(), ...more])).digest('hex');
}
