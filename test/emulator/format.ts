// Value formats TiDB uses in SHOW IMPORT JOBS (peers.md §D.1): go-units BytesSize
// ("16B", "1.192KiB") for Source_File_Size, HumanSize ("4.55GB") for the step sizes,
// "HH:MM:SS" for the ETA, and TIMESTAMP(6) rendered in the session time zone.

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

function sized(bytes: number, base: number, units: string[]): string {
  let v = bytes;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  // Go's %.4g: four significant digits, trailing zeros dropped.
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** go-units BytesSize: binary prefixes, as TiDB prints Source_File_Size. */
export function bytesSize(bytes: number): string {
  return sized(bytes, 1024, BINARY);
}

/** go-units HumanSize: decimal prefixes, as in Cur_Step_Processed_Size / _Speed. */
export function humanSize(bytes: number): string {
  return sized(bytes, 1000, DECIMAL);
}

export function hms(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
}

/** Renders an instant as 'YYYY-MM-DD HH:MM:SS.ffffff' in a zone `offsetSeconds` east of UTC. */
export function timestampIn(epochMs: number, offsetSeconds: number): string {
  const d = new Date(epochMs + offsetSeconds * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}000`
  );
}
