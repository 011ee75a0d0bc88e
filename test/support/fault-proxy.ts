import { createConnection, createServer, type Socket } from 'node:net';

/**
 * What the proxy does to the requests it picks (`match` tests the request line, e.g.
 * `PUT /b/k?partNumber=2&uploadId=… HTTP/1.1`; every request when absent), to the first `times`
 * of them (all when absent):
 * - `stall`: forwards the first `afterBytes` bytes of the request (head included), then nothing
 *   more either way on that connection, which stays open;
 * - `reset`: forwards `afterBytes` bytes, then resets the connection (RST: ECONNRESET);
 * - `slowDown`: answers HTTP 503 with S3's SlowDown error (the body read and dropped), then closes;
 * - `outage`: every connection is closed as it opens (and the open ones at once).
 * Requests not picked pass through untouched.
 */
export type Fault =
  | { kind: 'pass' }
  | { kind: 'stall' | 'reset'; afterBytes: number; match?: RegExp; times?: number }
  | { kind: 'slowDown'; match?: RegExp; times?: number }
  | { kind: 'outage' };

export interface FaultProxy {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  set(fault: Fault): void;
  /** Requests the current fault has picked so far. */
  readonly picked: number;
  close(): Promise<void>;
}

const SLOW_DOWN_BODY =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-proxy</RequestId></Error>';

/**
 * A TCP proxy on 127.0.0.1 in front of an HTTP/1.1 server (the loopback S3 server) that injects
 * network faults into the requests it picks. It reads the request heads going through (keep-alive
 * connections carry several) to know where each request starts. It closes itself after
 * `lifetimeMs` (default 5 minutes) whatever happens, so a test that forgets cannot leave it behind.
 */
export async function startFaultProxy(target: string, { lifetimeMs = 300_000 } = {}): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost')
    throw new Error(`the fault proxy only fronts a loopback server, not ${hostname}`);
  let fault: Fault = { kind: 'pass' };
  let picked = 0;
  const sockets = new Set<Socket>();

  const pick = (requestLine: string): boolean => {
    if (fault.kind === 'pass' || fault.kind === 'outage') return false;
    if (fault.match && !fault.match.test(requestLine)) return false;
    if (picked >= (fault.times ?? Infinity)) return false;
    picked++;
    return true;
  };

  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (fault.kind === 'outage') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: Number(port) });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!stalled) client.destroy();
    });
    upstream.on('error', () => undefined);
    client.on('close', () => upstream.destroy());

    let stalled = false;
    let head = Buffer.alloc(0);
    let bodyLeft = 0; // bytes of the current request's body still to come
    let opaque = false; // a body without Content-Length: forward the rest as is
    let action: { kind: 'stall' | 'reset'; left: number } | { kind: 'slowDown' } | undefined;

    upstream.on('data', (data: Buffer) => {
      if (!stalled) client.write(data);
    });

    const answerSlowDown = () => {
      client.end(
        `HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(SLOW_DOWN_BODY)}\r\nConnection: close\r\n\r\n${SLOW_DOWN_BODY}`,
      );
      upstream.destroy();
    };

    /** Forwards bytes of the current request, applying its action. */
    const forward = (bytes: Buffer) => {
      if (action?.kind === 'slowDown') return; // dropped: the request is answered here
      if (action) {
        const sent = bytes.subarray(0, action.left);
        action.left -= sent.length;
        if (sent.length) upstream.write(sent);
        if (action.left > 0) return;
        if (action.kind === 'reset') {
          client.resetAndDestroy();
          upstream.destroy();
        } else {
          stalled = true;
          client.pause();
        }
        return;
      }
      upstream.write(bytes);
    };

    client.on('data', (data: Buffer) => {
      // `forward` may stall or reset the connection between two pieces.
      const halted = () => stalled || client.destroyed;
      if (halted()) return;
      let rest = data;
      while (rest.length > 0 && !halted()) {
        if (opaque) {
          forward(rest);
          return;
        }
        if (bodyLeft > 0) {
          const body = rest.subarray(0, bodyLeft);
          rest = rest.subarray(body.length);
          bodyLeft -= body.length;
          forward(body);
          if (bodyLeft === 0 && action?.kind === 'slowDown') answerSlowDown();
          continue;
        }
        head = Buffer.concat([head, rest]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headBytes = head.subarray(0, end + 4);
        rest = head.subarray(end + 4);
        head = Buffer.alloc(0);
        const text = headBytes.toString('latin1');
        const lines = text.split('\r\n');
        const header = (name: string) =>
          lines
            .find((l) => l.toLowerCase().startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const length = header('content-length');
        opaque = length === undefined && header('transfer-encoding') !== undefined;
        bodyLeft = Number(length ?? 0);
        action = undefined;
        if (pick(lines[0])) {
          if (fault.kind === 'slowDown') {
            action = { kind: 'slowDown' };
            if (bodyLeft === 0) answerSlowDown();
            else if (header('expect')?.toLowerCase() === '100-continue') client.write('HTTP/1.1 100 Continue\r\n\r\n');
            continue;
          }
          if (fault.kind === 'stall' || fault.kind === 'reset') action = { kind: fault.kind, left: fault.afterBytes };
        }
        forward(headBytes);
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fault proxy: no port');

  const close = async () => {
    clearTimeout(lifetime);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const lifetime = setTimeout(() => void close(), lifetimeMs);
  lifetime.unref();

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    set(next) {
      fault = next;
      picked = 0;
      if (next.kind === 'outage') for (const socket of sockets) socket.destroy();
    },
    get picked() {
      return picked;
    },
    close,
  };
}
