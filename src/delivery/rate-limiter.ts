/**
 * Token bucket for per-subscription rate limits (the seeds' "30 requests per second to a
 * mail provider"). Pure: time is passed in. The default burst is a tenth of a second's
 * worth, so a 30/s limit never fires 30 requests at once.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private rate: number;
  private burst: number;

  constructor(ratePerSecond: number, burst: number | undefined, nowMs: number) {
    this.rate = ratePerSecond;
    this.burst = burst ?? TokenBucket.defaultBurst(ratePerSecond);
    this.tokens = this.burst;
    this.last = nowMs;
  }

  static defaultBurst(rate: number): number {
    return Math.max(1, Math.ceil(rate / 10));
  }

  /** 0 when a token was taken; otherwise the ms until one is available (nothing taken). */
  tryTake(nowMs: number): number {
    if (this.rate <= 0) return 0;
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
  }

  setRate(ratePerSecond: number, nowMs: number): void {
    this.refill(nowMs);
    this.rate = ratePerSecond;
    this.burst = TokenBucket.defaultBurst(ratePerSecond);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  private refill(nowMs: number): void {
    // A clock stepping backwards mints nothing.
    const elapsed = Math.max(0, nowMs - this.last);
    this.last = Math.max(this.last, nowMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
  }
}
