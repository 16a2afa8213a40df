// The `host:port` form, IPv6 included: its parser (for -H, TIDB_HOST,
// database.host, the config command, --hosts and the addresses handlers pass)
// and its formatter.
import net from 'node:net';

export const DEFAULT_PORT = 4000; // TiDB's default SQL port

export interface HostPort {
  host: string;
  port: number;
}

/** A `host:port` that cannot be read; the message says what is wrong. */
export class AddressError extends Error {
  override name = 'AddressError';
}

/**
 * Accepts `host`, `host:port`, `1.2.3.4:port`, `[::1]`, `[::1]:port` and a bare
 * IPv6 address (`::1`, which is always an address without a port: write
 * `[::1]:4000` for one). Surrounding whitespace is ignored; a missing port
 * gives `defaultPort`.
 */
export function parseHostPort(address: string, defaultPort = DEFAULT_PORT): HostPort {
  const text = address.trim();
  const bad = (why: string) => new AddressError(`invalid host:port '${address}': ${why}`);
  if (text === '') throw bad('empty address');

  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw bad("missing ']' after the IPv6 address");
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad("expected ':port' after ']'");
    portText = rest === '' ? undefined : rest.slice(1);
    if (!host.includes(':')) throw bad('brackets are only for IPv6 addresses');
  } else {
    const colons = text.split(':').length - 1;
    if (colons > 1) {
      if (!net.isIPv6(text))
        throw bad('not an IPv6 address; write IPv6 addresses in brackets, e.g. [::1]:4000');
      [host, portText] = [text, undefined];
    } else {
      [host, portText] = colons === 1 ? (text.split(':') as [string, string]) : [text, undefined];
    }
  }
  if (host === '') throw bad('missing host');
  if (/\s/.test(host)) throw bad('host contains whitespace');
  return { host, port: portText === undefined ? defaultPort : parsePort(portText, bad) };
}

function parsePort(text: string, bad: (why: string) => Error): number {
  if (!/^\d+$/.test(text)) throw bad(`port '${text}' is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw bad(`port ${port} is out of range 1-65535`);
  return port;
}

/** Formats host and port back into the -H form (brackets around IPv6). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
