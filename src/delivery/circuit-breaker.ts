/**
 * Circuit breaker for one endpoint. Pure: time is passed in.
 *
 * closed -> (failureThreshold consecutive failures) -> open for cooldown
 * open -> (cooldown passed) -> half_open: exactly one probe may go
 * half_open -> probe succeeds -> closed (cooldown back to its initial value)
 * half_open -> probe fails -> open again with the cooldown doubled, up to maxCooldownMs
 *
 * While open, outcomes are ignored: they come from requests that started before the breaker
 * opened, and say nothing about the endpoint that the cool-down has not already accounted for.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

/** How long refused callers wait while someone else's probe is out: soon, but not a spin. */
const PROBE_WAIT_MS = 1000;

export class CircuitBreaker {
  private failures = 0;
  private opened = false;
  private openUntil = 0;
  private cooldown: number;
  private probing = false;

  constructor(private readonly opts: BreakerOptions) {
    this.cooldown = opts.cooldownMs;
  }

  state(nowMs: number): BreakerState {
    if (!this.opened) return 'closed';
    return nowMs < this.openUntil ? 'open' : 'half_open';
  }

  /** May an attempt start now? In half_open only ONE probe is allowed until it reports. */
  acquire(nowMs: number): { allowed: true } | { allowed: false; retryAtMs: number } {
    const state = this.state(nowMs);
    if (state === 'closed') return { allowed: true };
    if (state === 'open') return { allowed: false, retryAtMs: this.openUntil };
    if (this.probing) {
      // At least 1 ms ahead, so a zero cool-down cannot turn refusals into a busy loop.
      return { allowed: false, retryAtMs: nowMs + Math.max(1, Math.min(this.opts.cooldownMs, PROBE_WAIT_MS)) };
    }
    this.probing = true;
    return { allowed: true };
  }

  onSuccess(nowMs: number): void {
    if (this.state(nowMs) === 'open') return;
    // In half_open this is the probe, or a straggler that reached the endpoint after the
    // cool-down: either way the endpoint answered, which is all a probe would tell us.
    this.failures = 0;
    this.opened = false;
    this.probing = false;
    this.cooldown = this.opts.cooldownMs;
  }

  /**
   * `fromProbe`: whether this attempt was the half-open probe, when the caller knows (it
   * matters while a probe is out: a straggler's failure, from a request that started before
   * the breaker opened, must not be taken for the probe's). Unknown: taken for it.
   */
  onFailure(nowMs: number, fromProbe?: boolean): void {
    const state = this.state(nowMs);
    if (state === 'open') return;
    if (state === 'half_open') {
      // Without a probe out, or not from it, this is a straggler; the probe deserves its chance.
      if (!this.probing || fromProbe === false) return;
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

  /** Until when the breaker stays open (meaningful in state 'open'). */
  get openUntilMs(): number {
    return this.opened ? this.openUntil : 0;
  }

  /**
   * Another node found the endpoint failing and opened its breaker until `untilMs`: stop
   * sending here too. Never shortens an open period this node already has.
   */
  openFromPeer(untilMs: number, nowMs: number): void {
    if (untilMs <= nowMs) return;
    if (this.opened && this.openUntil >= untilMs) return;
    this.opened = true;
    this.failures = 0;
    this.probing = false;
    this.openUntil = untilMs;
  }

  /** Another node's probe succeeded: the endpoint answers again, so close as if ours had. */
  closeFromPeer(): void {
    this.failures = 0;
    this.opened = false;
    this.probing = false;
    this.cooldown = this.opts.cooldownMs;
  }

  /**
   * Release a probe slot without outcome (attempt abandoned). Call it only after an allowed
   * acquire() whose attempt will not run; in closed state it is a no-op.
   */
  release(): void {
    this.probing = false;
  }
}
