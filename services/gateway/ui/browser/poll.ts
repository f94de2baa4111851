/**
 * Runs `fn` every `ms` after the previous run ended (never two at once),
 * skipping while the tab is hidden, until `fn` returns false.
 */
export function every(ms: number, fn: () => Promise<boolean | void>): void {
  const tick = async (): Promise<void> => {
    if (document.visibilityState !== 'hidden' && (await fn()) === false) return;
    setTimeout(() => void tick(), ms);
  };
  setTimeout(() => void tick(), ms);
}
