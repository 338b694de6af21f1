/**
 * Circuit breaker for one endpoint. Pure: time is passed in.
 *
 * closed -> (failureThreshold consecutive failures) -> open for cooldown
 * open -> (cooldown passed) -> half_open: exactly one probe may go
 * half_open -> probe succeeds -> closed (cooldown back to its initial value)
 * half_open -> probe fails -> open again with the cooldown doubled, up to maxCooldownMs
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private opened = false;
  private cooldown: number;
  private probing = false;

  constructor(private readonly opts: BreakerOptions) {
    this.cooldown = opts.cooldownMs;
  }

  state(nowMs: number): BreakerState {
    if (!this.opened) return 'closed';
    return nowMs < this.openUntil ? 'open' : 'half_open';
  }

  acquire(nowMs: number): { allowed: true } | { allowed: false; retryAtMs: number } {
    const state = this.state(nowMs);
    if (state === 'closed') return { allowed: true };
    if (state === 'open') return { allowed: false, retryAtMs: this.openUntil };
    if (this.probing) return { allowed: false, retryAtMs: nowMs + Math.min(this.cooldown, 1000) };
    this.probing = true;
    return { allowed: true };
  }

  onSuccess(_nowMs: number): void {
    this.failures = 0;
    this.opened = false;
    this.probing = false;
    this.cooldown = this.opts.cooldownMs;
  }

  onFailure(nowMs: number): void {
    const state = this.state(nowMs);
    if (state === 'open') return; // a request that started before the breaker opened
    if (state === 'half_open') {
      if (!this.probing) return;
      this.probing = false;
      this.cooldown = Math.min(this.opts.maxCooldownMs, this.cooldown * 2);
      this.openUntil = nowMs + this.cooldown;
      return;
    }
    this.failures++;
    if (this.failures >= this.opts.failureThreshold) {
      this.opened = true;
      this.failures = 0;
      this.openUntil = nowMs + this.cooldown;
    }
  }

  /** Give back a probe slot that was acquired but not used. */
  release(): void {
    this.probing = false;
  }
}
