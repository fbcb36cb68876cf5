// A fix for kafkajs 2.2.4 (unmaintained; the fix was never released), applied once on import.
//
// Every broker connection's request queue re-arms a timer after each check even when nothing is pending
// and nothing is throttled, with a negative delay (1 ms): a setTimeout loop per connection, forever
// (upstream tulios/kafkajs#1556, #1704; the fix below is the one proposed in #1667 and #1768): an idle
// service wakes thousands of times a second and spends CPU for nothing.
//
// Safe to skip the timer in that case: a request pushed later checks the queue itself, and a response
// that frees an in-flight slot does too (RequestQueue.push and fulfillRequest).
import { createRequire } from 'node:module';

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const version = (require('kafkajs/package.json') as { version: string }).version;
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue };
/** kafkajs's own CHECK_PENDING_REQUESTS_INTERVAL. */
const recheckMs = 10;

if (version !== '2.2.4') {
  // Another version may have fixed it, or changed the queue: say so rather than patch blindly.
  process.emitWarning(`common/kafkajs-fix.ts was written for kafkajs 2.2.4, found ${version}: not applied`);
} else {
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (this.throttleCheckTimeoutId) return;
    let scheduleAt = this.throttledUntil - Date.now();
    if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : recheckMs;
    else if (scheduleAt <= 0) return; // nothing waits and nothing is throttled: no timer
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, scheduleAt);
  };
}
