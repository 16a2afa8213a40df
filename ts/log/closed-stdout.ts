// A closed standard output (`test-rig run | head -2`) is no error, as for any Unix
// tool: what would have been written is dropped and the command goes on to its
// end, so a run still finishes its cases, reports and clean-up (scratch
// databases) and exits with its own code, and no EPIPE stack trace is printed.

/** Installs the handler once per process, before anything is written. */
export function tolerateClosedStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stream.write = (() => true) as typeof stream.write;
  });
}
