import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_TOKEN } from '../tls.js';
import { SYSTEM_MASTERS, type UserInfo } from './user.js';

/**
 * Static bearer tokens, kept in `<stateDir>/tokens.csv` in kube-apiserver's
 * `--token-auth-file` format (`token,user,uid,"group1,group2"`, read as
 * k8s.io/apiserver/plugin/pkg/authenticator/token/tokenfile/tokenfile.go `NewCSV` reads it),
 * so a restarted server knows the same users and the file can be edited by hand.
 */

/** Who the token of the kubeconfig every cluster writes is: in system:masters, bound to cluster-admin, as kubeadm's admin.conf user was. */
export const ADMIN_USER: UserInfo = { name: 'kubernetes-admin', uid: 'kubernetes-admin', groups: [SYSTEM_MASTERS] };

/** Splits one CSV record (quotes as encoding/csv reads them). */
function csvRecord(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === '') (quoted = true), (field = '');
    else if (c === ',') fields.push(field.trimStart()), (field = '');
    else field += c;
  }
  fields.push(field.trimStart());
  return fields;
}

const csvField = (value: string) => (/[",\s]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

export class TokenFile {
  readonly path: string;
  private tokens = new Map<string, UserInfo>();

  constructor(stateDir: string) {
    this.path = join(stateDir, 'tokens.csv');
    if (!existsSync(this.path)) writeFileSync(this.path, `${this.line(LOCAL_TOKEN, ADMIN_USER)}\n`, { mode: 0o600 });
    this.reload();
  }

  private line(token: string, user: UserInfo): string {
    return [token, user.name, user.uid ?? '', user.groups.join(',')].map(csvField).join(',');
  }

  /** Reads the file again: lines of at least 3 fields, an empty token skipped, a later duplicate wins. */
  reload(): void {
    const tokens = new Map<string, UserInfo>();
    for (const raw of readFileSync(this.path, 'utf8').split('\n')) {
      if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
      const [token, name, uid, groups] = csvRecord(raw);
      if (!token || name === undefined || uid === undefined) continue;
      tokens.set(token, { name, uid, groups: groups ? groups.split(',') : [] });
    }
    this.tokens = tokens;
  }

  lookup(token: string): UserInfo | undefined {
    const user = this.tokens.get(token);
    return user && structuredClone(user);
  }

  /** Adds a new random token for `user` and returns it. */
  issue(user: UserInfo): string {
    const token = randomBytes(24).toString('base64url');
    appendFileSync(this.path, `${this.line(token, user)}\n`);
    this.tokens.set(token, structuredClone(user));
    return token;
  }
}
