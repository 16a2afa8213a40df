// The server's clock, read once: one `SELECT NOW(6), UNIX_TIMESTAMP(NOW(6))` at start,
// then advanced with the local monotonic clock. Server times (Start_Time, …) and "now"
// are both session wall-clock values, so elapsed = now − Start_Time never mixes zones.
import { performance } from 'node:perf_hooks';
import { formatWall, wallMs } from './parse.js';
import type { QueryRunner } from './types.js';

export class ServerClock {
  private constructor(
    private readonly wallAtSync: number,
    private readonly perfAtSync: number,
    /** Session wall clock minus UTC, in ms (e.g. +05:30 → 19 800 000). */
    readonly tzOffsetMs: number,
  ) {}

  static async sync(conn: QueryRunner): Promise<ServerClock> {
    const before = performance.now();
    const { rows } = await conn.query('SELECT NOW(6) AS now_wall, UNIX_TIMESTAMP(NOW(6)) AS now_unix');
    const after = performance.now();
    const wall = wallMs(rows[0]?.now_wall);
    const unix = Number(rows[0]?.now_unix);
    if (wall === null || !Number.isFinite(unix)) throw new Error('could not read the server clock (NOW(6))');
    // The server evaluated NOW() somewhere within the round trip; the midpoint is the best guess.
    const offset = Math.round((wall - unix * 1000) / 1000) * 1000;
    return new ServerClock(wall, (before + after) / 2, offset);
  }

  /** For tests and benchmarks: a clock fixed to a given wall time. */
  static fixed(wall: number, tzOffsetMs = 0): ServerClock {
    return new ServerClock(wall, performance.now(), tzOffsetMs);
  }

  /** The server's current session wall-clock time (ms on the zone-less axis of wallMs). */
  now(): number {
    return this.wallAtSync + (performance.now() - this.perfAtSync);
  }

  format(ms = this.now(), fraction = false): string {
    return formatWall(ms, fraction);
  }
}
