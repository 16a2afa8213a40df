// The supervisor's silence watch: it gives up on a run process only while a
// case runs and only after the timeout plus the grace period without a beat.
import assert from 'node:assert/strict';
import { graceMs, SilenceWatch, stuckFailure } from '../../ts/runner/escalate.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runner: escalation of a run process that stops beating', function () {
  this.timeout(30_000);

  it('the grace period is the timeout, within 3–30 s', () => {
    assert.equal(graceMs(1), 3000);
    assert.equal(graceMs(5000), 5000);
    assert.equal(graceMs(300_000), 30_000);
  });

  it('fires once when silent past timeout + grace while a case runs; never while none runs or while it beats', async () => {
    let idleFired = 0;
    let beatingFired = 0;
    let silentFired = 0;
    const idle = new SilenceWatch(
      100,
      () => false,
      () => idleFired++,
    );
    const beating = new SilenceWatch(
      100,
      () => true,
      () => beatingFired++,
    );
    const silent = new SilenceWatch(
      100,
      () => true,
      () => silentFired++,
    );
    const beats = setInterval(() => beating.beat(), 200);
    try {
      await sleep(2500);
      assert.equal(silentFired, 0, 'not before timeout + grace (3.1 s)');
      await sleep(2500);
      assert.equal(silentFired, 1);
      assert.equal(silent.fired, true);
      await sleep(1200);
      assert.equal(silentFired, 1, 'once');
      assert.equal(idleFired, 0);
      assert.equal(beatingFired, 0);
    } finally {
      clearInterval(beats);
      for (const w of [idle, beating, silent]) w.stop();
    }
  });

  it('names an inline handler only when the case is inline', () => {
    assert.match(
      stuckFailure(1000, 3000, 1, true).message,
      /^timed out after 1s and did not stop after its deadline: an inline handler .*; the run process was killed 3s later$/,
    );
    assert.match(
      stuckFailure(1500, 3000, 2, false).message,
      /JS thread stopped answering .* \(one of 2 cases past their deadline held it\)/,
    );
  });
});
