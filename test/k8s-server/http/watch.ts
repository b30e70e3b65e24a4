import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../api.js';
import { parseFieldSelector, parseLabelSelector } from '../store/selectors.js';
import type { HistoryEvent } from '../store/store.js';
import { errors } from '../status.js';
import type { HttpContext, OpenWatch, Route } from './context.js';

/** A slow watcher that buffers more than this is dropped rather than slowing writes. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Turns an event object into what goes on the wire (the object itself, or a one-row Table). */
export type Render = (object: KObject) => unknown;

/**
 * Serves `?watch=true`: newline-delimited JSON events, flushed one by one, with
 * selector enter/leave translated to ADDED/DELETED, resume from a resourceVersion
 * out of the kept history (410 Expired when too old), bookmarks and timeoutSeconds.
 */
export function serveWatch(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse, render: Render): void {
  const { info, namespace, query } = route;
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(info.plural, query.get('fieldSelector'));
  const matches = (o: KObject | undefined) => !!o && (namespace === undefined || o.metadata.namespace === namespace) && labels(o.metadata.labels) && fields(o);
  const rvParam = query.get('resourceVersion') ?? '';
  if (rvParam !== '' && rvParam !== '0' && !/^\d+$/.test(rvParam)) throw errors.badRequest(`invalid resource version: ${rvParam}`);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  let closed = false;
  let silenced = false;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearTimeout(timeoutTimer);
    clearTimeout(bookmarkTimer);
    ctx.watches.delete(open);
    // A silenced watch never ends: the client sees nothing until it gives up itself.
    if (!silenced) res.end();
  };
  const open: OpenWatch = {
    // A cut drops the connection without a clean end, as a broken network would.
    cut: () => {
      close();
      res.socket?.destroy();
    },
    silence: () => {
      silenced = true;
    },
  };
  const write = (type: string, object: unknown) => {
    if (closed || silenced) return;
    res.write(`${JSON.stringify({ type, object })}\n`);
    if (res.writableLength > MAX_BUFFERED_BYTES) open.cut();
  };

  let sentUpTo = 0;
  const deliver = (event: HistoryEvent) => {
    if (event.resource !== info.plural || event.rv <= sentUpTo) return;
    sentUpTo = event.rv;
    const now = matches(event.object);
    if (event.type === 'MODIFIED') {
      const before = matches(event.previous);
      if (now && before) write('MODIFIED', render(event.object));
      else if (now) write('ADDED', render(event.object));
      else if (before) write('DELETED', render(event.object));
      return;
    }
    if (now) write(event.type, render(event.object));
  };
  const unsubscribe = ctx.store.subscribeHistory(deliver);
  ctx.watches.add(open);
  req.on('close', close);
  res.on('error', close);

  if (rvParam === '' || rvParam === '0') {
    sentUpTo = Number(ctx.store.resourceVersion);
    for (const object of ctx.store.list(info.plural, namespace)) if (matches(object)) write('ADDED', render(object));
  } else {
    const since = ctx.store.eventsSince(Number(rvParam));
    if (!since) {
      const expired = errors.expired(`too old resource version: ${rvParam} (${ctx.store.oldestResourceVersion})`);
      write('ERROR', expired.status);
      close();
      return;
    }
    sentUpTo = Number(rvParam);
    for (const event of since) deliver(event);
  }

  const timeout = Number(query.get('timeoutSeconds') ?? '0');
  if (timeout > 0) timeoutTimer = setTimeout(close, timeout * 1000).unref();
  if (query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1') {
    const bookmark = () => {
      if (closed) return;
      const rv = String(Math.max(sentUpTo, Number(ctx.store.resourceVersion)));
      sentUpTo = Number(rv);
      write('BOOKMARK', { kind: info.kind, apiVersion: info.group ? `${info.group}/${info.version}` : info.version, metadata: { resourceVersion: rv } });
      bookmarkTimer = setTimeout(bookmark, ctx.bookmarkIntervalMs).unref();
    };
    bookmarkTimer = setTimeout(bookmark, ctx.bookmarkIntervalMs).unref();
  }
}
