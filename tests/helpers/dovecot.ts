// A real IMAP server for the mail tests: Debian's Dovecot (dovecot-imapd, installed by .ci/run),
// started in the foreground with a generated configuration in a temp dir: 127.0.0.1 on a free port,
// no TLS, plaintext login allowed, one user from a passwd-file, Maildir in the temp dir. Mail is
// delivered with IMAP APPEND (imapflow), as a delivery agent's copy would arrive.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

export const DOVECOT = '/usr/sbin/dovecot';

export interface Dovecot {
  port: number;
  user: string;
  password: string;
  dir: string;
  /** Appends a raw message to a folder; answers its UID. */
  deliver(folder: string, raw: string): Promise<number>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const accepting = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('data', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

/** The uid/gid of a system user, from /etc/passwd (Dovecot will not serve mail as root). */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** `oauth2TokeninfoUrl`: also accept XOAUTH2 / OAUTHBEARER, checking tokens at this URL (the token appended). */
export async function startDovecot(options: { oauth2TokeninfoUrl?: string } = {}): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'kept-dovecot-'));
  const port = await freePort();
  const user = 'kept-mailbox';
  const password = `pw-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const me = userInfo();
  const root = me.uid === 0;
  // As root, Dovecot's own unprivileged users serve the mail and the logins.
  const mailOwner = root ? systemUser('dovecot') : { uid: me.uid, gid: me.gid };
  if (mailOwner === undefined) throw new Error('Dovecot runs as root here but the "dovecot" system user is missing');
  const internal = root ? 'dovecot' : me.username;
  const login = root ? 'dovenull' : me.username;
  if (root) chmodSync(dir, 0o755); // Dovecot's own users read the passwd-file and reach the Maildir
  for (const d of ['run', 'state', 'mail', 'home']) mkdirSync(join(dir, d));
  if (root) for (const d of ['mail', 'home']) chownSync(join(dir, d), mailOwner.uid, mailOwner.gid);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}:${mailOwner.uid}:${mailOwner.gid}::${join(dir, 'home', user)}::\n`, { mode: 0o644 });
  const conf = `
base_dir = ${join(dir, 'run')}
state_dir = ${join(dir, 'state')}
log_path = ${join(dir, 'dovecot.log')}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login${options.oauth2TokeninfoUrl !== undefined ? ' xoauth2 oauthbearer' : ''}
default_internal_user = ${internal}
default_login_user = ${login}
first_valid_uid = ${mailOwner.uid}
first_valid_gid = ${mailOwner.gid}
mail_location = maildir:${join(dir, 'mail')}/%u
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
}
${
    options.oauth2TokeninfoUrl !== undefined
      ? `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${join(dir, 'oauth2.conf.ext')}
}
`
      : ''
  }passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${join(dir, 'passwd')}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${join(dir, 'passwd')}
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service pop3-login {
  chroot =
}
service submission-login {
  chroot =
}
`;
  writeFileSync(join(dir, 'dovecot.conf'), conf);
  if (options.oauth2TokeninfoUrl !== undefined) {
    writeFileSync(join(dir, 'oauth2.conf.ext'), `tokeninfo_url = ${options.oauth2TokeninfoUrl}\nintrospection_mode = get\nintrospection_url = ${options.oauth2TokeninfoUrl}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n`, { mode: 0o644 });
  }
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 100 && !(await accepting(port)); i++) {
    if (exited) throw new Error(`Dovecot stopped at start: ${readFileSync(join(dir, 'dovecot.log'), 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const deliver = async (folder: string, raw: string) => {
    const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: password }, logger: false });
    await c.connect();
    try {
      const r = await c.append(folder, raw);
      return r === false ? 0 : (r.uid ?? 0);
    } finally {
      await c.logout();
    }
  };
  const stop = async () => {
    if (exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
  return { port, user, password, dir, deliver, stop };
}
