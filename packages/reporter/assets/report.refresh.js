// Auto-refresh of report.html while the run is going: a countdown, a pause button, and never a reload under a
// playing video or a half-typed search. Part of the page's one script (see src/html/script.ts).

/**
 * Reloads the page every `seconds` s (0: never). `hold.held()` says whether the user paused it; `hold.toggle()`
 * flips that (and keeps it in the URL, so the choice survives the reload).
 */
function startRefresh(seconds, search, hold) {
  if (!(seconds > 0)) return;
  const holder = document.getElementById('refresh');
  const label = h('span');
  const button = h('button', { type: 'button' });
  holder.replaceChildren(label, button);
  let due = Date.now() + seconds * 1000;
  let lastInput = 0;
  search.addEventListener('input', () => {
    lastInput = Date.now();
  });
  button.addEventListener('click', () => {
    hold.toggle();
    due = Date.now() + seconds * 1000;
    tick();
  });
  const tick = () => {
    button.textContent = hold.held() ? 'resume' : 'pause';
    if (hold.held()) {
      label.textContent = 'auto-refresh paused';
      return;
    }
    const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
    label.textContent = `refreshing in ${left} s`;
    if (left > 0) return;
    // Never yank a playing video or a half-typed search away.
    const busy = [...document.querySelectorAll('video')].some((v) => !v.paused) || Date.now() - lastInput < 3000;
    if (busy) due = Date.now() + 5000;
    else location.reload();
  };
  tick();
  setInterval(tick, 1000);
}
