import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

/** What the driver needs of an undici dispatcher. */
interface Dispatcher {
  close(): Promise<void>;
}

/**
 * A view of `kc` whose API clients share one connection pool. @kubernetes/client-node 2.0.1
 * makes a new undici Agent for every request (`KubeConfig.applySecurityAuthentication` calls
 * `createDispatcher`, which caches nothing), so every request opens a TLS connection of its
 * own, and a process making thousands of requests grows its native memory by tens of MiB
 * (docs/performance.md, Scale and P6k). Clients made with `makeApiClient` on the view get
 * their credentials from `kc` as before, on every request, and the first dispatcher it made
 * for every later request. Only for credentials that cannot change while the process runs:
 * with an exec plugin or an auth provider (which may hand out client certificates that
 * rotate) the view is `kc` itself.
 */
export function sharingConnections(kc: KubeConfig): KubeConfig {
  const user = kc.getCurrentUser();
  if (user?.exec !== undefined || user?.authProvider !== undefined) return kc;
  let shared: Dispatcher | undefined;
  const view = Object.create(kc) as KubeConfig;
  view.applySecurityAuthentication = async (context: RequestContext): Promise<void> => {
    await kc.applySecurityAuthentication(context);
    const made = context.getDispatcher() as Dispatcher | undefined;
    if (made === undefined) return;
    shared ??= made;
    if (made === shared) return;
    context.setDispatcher(shared as never);
    // Nothing was sent through it: closing it frees its pool at once.
    void made.close().catch(() => undefined);
  };
  return view;
}
