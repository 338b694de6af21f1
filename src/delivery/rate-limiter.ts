/**
 * Token bucket for per-subscription rate limits (the seeds' "30 requests per second to a
 * mail provider"). Pure: time is passed in. The default burst is a tenth of a second's
 * worth, so a 30/s limit never fires 30 requests at once.
 */

// Refill adds elapsed * rate in floating point; after waiting exactly the advertised time the
// bucket can hold 0.9999999999 tokens. The slack keeps "wait the returned ms, then take" true.
const EPSILON = 1e-9;

/** Rate 0 (and anything that is not a positive finite number) means unlimited. */
const limited = (rate: number): boolean => rate > 0 && Number.isFinite(rate);

/**
 * What a delivery lane asks before each request: 0 = go (a token was taken), otherwise the
 * ms to wait. A TokenBucket answers for one node; the cluster's shared limiter for all.
 */
export interface RateGate {
  tryTake(nowMs: number): number;
  setRate(ratePerSecond: number, nowMs: number): void;
}

export class TokenBucket implements RateGate {
  private tokens: number;
  private last: number;
  private rate: number;
  private burst: number;
  private readonly fixedBurst: number | undefined;

  constructor(ratePerSecond: number, burst: number | undefined, nowMs: number) {
    // A burst below one token could never pay for a request.
    this.fixedBurst = burst === undefined ? undefined : Math.max(1, burst);
    this.rate = ratePerSecond;
    this.burst = this.fixedBurst ?? TokenBucket.defaultBurst(ratePerSecond);
    this.tokens = this.burst;
    this.last = nowMs;
  }

  static defaultBurst(ratePerSecond: number): number {
    return limited(ratePerSecond) ? Math.max(1, Math.ceil(ratePerSecond / 10)) : 1;
  }

  /** 0 when a token was taken; otherwise the ms until one is available (nothing taken). */
  tryTake(nowMs: number): number {
    if (!limited(this.rate)) return 0;
    this.refill(nowMs);
    if (this.tokens >= 1 - EPSILON) {
      this.tokens -= 1;
      return 0;
    }
    // Measured from `last`, not `nowMs`: after the clock stepped back, refill resumes from there.
    const readyAt = this.last + ((1 - this.tokens) / this.rate) * 1000;
    return Math.max(1, Math.ceil(readyAt - nowMs));
  }

  /** Change the rate, keeping the tokens already earned (up to the new burst). */
  setRate(ratePerSecond: number, nowMs: number): void {
    const wasLimited = limited(this.rate);
    this.refill(nowMs);
    this.rate = ratePerSecond;
    this.burst = this.fixedBurst ?? TokenBucket.defaultBurst(ratePerSecond);
    // Coming from unlimited, nothing was being counted: start full, as a new bucket would.
    this.tokens = wasLimited ? Math.min(this.tokens, this.burst) : this.burst;
  }

  private refill(nowMs: number): void {
    // A clock stepping backwards mints nothing, and does not move `last` back either, so
    // the same interval is never paid out twice.
    const elapsed = Math.max(0, nowMs - this.last);
    this.last = Math.max(this.last, nowMs);
    if (limited(this.rate)) this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
  }
}
