// @ts-check

/**
 * Resolves after `ms`, or at once when `signal` aborts.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
export const sleep = (ms, signal) =>
  new Promise((r) => {
    // The abort listener goes with the wait: a page left open would otherwise gain one every wait.
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", wake);
      r();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener("abort", wake, { once: true });
  });
