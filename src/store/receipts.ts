/**
 * Receipts, the same in every store. A receipt names one receive of one queue message: its
 * row and a random nonce that is replaced on every receive, so only the latest receive can
 * ack or extend it. A message never received stores nonce 0, which no receipt may carry:
 * otherwise "<row>.0" would ack a message nobody had received.
 */
export function formatReceipt(seq: number, nonce: number): string {
  return `${seq.toString(36)}.${nonce.toString(36)}`;
}

export function parseReceipt(receipt: string): { seq: number; nonce: number } | null {
  if (typeof receipt !== 'string') return null;
  const dot = receipt.indexOf('.');
  if (dot <= 0 || receipt.length > 40) return null;
  const seq = parseInt(receipt.slice(0, dot), 36);
  const nonce = parseInt(receipt.slice(dot + 1), 36);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(nonce) || nonce <= 0) return null;
  return { seq, nonce };
}
