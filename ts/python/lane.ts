// The lane a machine's Python handlers share, and what happens when JS gives
// up on it. Rule: a lane with a job JS stopped waiting for (a timeout, an
// abort) is abandoned — interrupted (python/test_rig/_lane.py interrupt_lane)
// and never given another job — and the handlers go on with a fresh lane. So
// a visit still running in Python can never collide with the next one.
import type { PythonRuntime } from './runtime.js';

/** Where one Python thread of a case is (python/test_rig/_lane.py threads_where). */
export interface ThreadAt {
  /** 'handler' for the case's lane, else the thread's name. */
  thread: string;
  method: string | null;
  file?: string;
  line?: number;
  function?: string;
}

/** Where a lane was when it was given up on (python/test_rig/_lane.py where_stuck). */
export interface StuckAt {
  /** The handler method running: enter, execute or exit (null: none known). */
  method: string | null;
  /** The innermost line of the user's code there. */
  file?: string;
  line?: number;
  function?: string;
}

export class MachineLane {
  readonly #rt: PythonRuntime;
  #id: number | undefined;
  /** Whether #id came from the pool and goes back to it (a caller's lane does not). */
  #owned: boolean;
  #stuck: StuckAt | undefined;

  /** `id`: a lane the caller owns and releases itself; none: one from the pool, acquired on first use. */
  constructor(rt: PythonRuntime, id?: number) {
    this.#rt = rt;
    this.#id = id;
    this.#owned = id === undefined;
  }

  /** The lane to use now (a fresh one after abandon()). */
  get id(): number {
    if (this.#id === undefined) {
      this.#id = this.#rt.acquireLane();
      this.#owned = true;
    }
    return this.#id;
  }

  /** Where the last abandoned lane was stuck, if it was running a handler. */
  get stuck(): StuckAt | undefined {
    return this.#stuck;
  }

  /**
   * Gives up on lane `id` (default: the current one) if it is still this
   * machine's: notes where it is stuck, interrupts it, and forgets it.
   */
  abandon(id: number | undefined = this.#id): void {
    if (id === undefined || id !== this.#id) return;
    this.#id = undefined;
    try {
      this.#stuck = (this.#rt.call(this.#rt.fn.where_stuck, null, [id]) as StuckAt | null) ?? undefined;
    } catch {
      this.#stuck = undefined;
    }
    try {
      this.#rt.abandonLane(id);
    } catch {
      /* the lane is gone either way */
    }
  }

  /** Where the current lane is now, if it runs a handler (nothing is acquired or abandoned). */
  whereNow(): StuckAt | undefined {
    if (this.#id === undefined) return undefined;
    return (this.#rt.call(this.#rt.fn.where_stuck, null, [this.#id]) as StuckAt | null) ?? undefined;
  }

  /**
   * Where every Python thread of the case is now: the lane (thread 'handler')
   * and the threads running code under `folder` (the suite) that it started.
   */
  threadsNow(folder: string): ThreadAt[] {
    if (this.#id === undefined) return [];
    return (this.#rt.call(this.#rt.fn.threads_where, null, [this.#id, folder]) as ThreadAt[] | null) ?? [];
  }

  /** Gives the lane back to the pool (when it came from there). */
  release(): void {
    if (this.#id !== undefined && this.#owned) this.#rt.releaseLane(this.#id);
    this.#id = undefined;
  }
}
