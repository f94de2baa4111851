import { showBuild } from './build-view.js';
import { showList } from './list-view.js';

/** `?id=N` shows one build, anything else the list (every page is /ui/, so relative URLs hold). */
function start(): void {
  const main = document.getElementById('main');
  if (!main) return;
  const params = new URLSearchParams(location.search);
  const id = params.get('id');
  const page = id !== null && /^\d{1,10}$/.test(id) ? showBuild(main, Number(id)) : showList(main, params);
  page.catch((err: unknown) => {
    main.replaceChildren();
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = `The page could not load: ${err instanceof Error ? err.message : String(err)}`;
    main.append(p);
  });
}

start();
