// Password resolution's last step: the hidden interactive prompt.
import readline from 'node:readline';

export class PasswordError extends Error {
  override name = 'PasswordError';
}

export interface PromptStreams {
  input?: NodeJS.ReadStream;
  output?: NodeJS.WritableStream;
}

/**
 * Reads a line from a TTY without echo (raw mode, via readline's keypress events).
 * Ctrl-C rejects with a PasswordError ("cancelled").
 */
export function promptHidden(
  prompt: string,
  { input = process.stdin, output = process.stderr }: PromptStreams = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!input.isTTY) {
      reject(new PasswordError('cannot prompt for a password: standard input is not a terminal'));
      return;
    }
    readline.emitKeypressEvents(input);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    output.write(prompt);
    input.resume();
    let value = '';
    const done = (err?: Error) => {
      input.off('keypress', onKey);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onKey = (str: string | undefined, key: readline.Key | undefined) => {
      if (key?.ctrl && key.name === 'c') return done(new PasswordError('password prompt cancelled'));
      if (key?.ctrl && key.name === 'd') {
        if (value === '') return done(new PasswordError('password prompt cancelled (end of input)'));
        return;
      }
      if (key?.name === 'return' || key?.name === 'enter') return done();
      if (key?.name === 'backspace') {
        value = value.slice(0, -1);
        return;
      }
      if (str && !key?.ctrl && !key?.meta) value += str;
    };
    input.on('keypress', onKey);
  });
}

export interface PasswordNeed {
  /** The password resolved from flag, env or config, if any. */
  password: string | undefined;
  /** false with --no-password-prompt. */
  promptAllowed: boolean;
  user: string;
  host: string;
  streams?: PromptStreams;
}

/** The password from earlier sources or, failing that, the prompt; otherwise a clear error. */
export async function obtainPassword(need: PasswordNeed): Promise<{ password: string; prompted: boolean }> {
  if (need.password !== undefined) return { password: need.password, prompted: false };
  const input = need.streams?.input ?? process.stdin;
  if (!need.promptAllowed) {
    throw new PasswordError(
      '-p asks for a password but the prompt is disabled (--no-password-prompt); give it as -pSECRET, --password=SECRET, TIDB_PASSWORD or in the config file',
    );
  }
  if (!input.isTTY) {
    throw new PasswordError(
      '-p asks for a password but standard input is not a terminal, so no prompt is possible; give it as -pSECRET, --password=SECRET, TIDB_PASSWORD or database.password in the config file (no -p at all: an empty password)',
    );
  }
  const password = await promptHidden(`Password for ${need.user}@${need.host}: `, need.streams);
  return { password, prompted: true };
}
