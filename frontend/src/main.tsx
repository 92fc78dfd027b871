import { render } from 'preact';
import { loadConfig, errorText } from './api/client';
import { initRouter, parseRoute, route, setRouteBase } from './state/router';
import { initTheme } from './state/theme';
import { App } from './App';
import './styles.css';

async function start(): Promise<void> {
  initTheme();
  const root = document.getElementById('app')!;
  try {
    const cfg = await loadConfig();
    setRouteBase(cfg.baseUrl);
    route.set(parseRoute(location.pathname));
  } catch (e) {
    root.textContent = `kubelantern: cannot load /api/config — ${errorText(e)}`;
    return;
  }
  initRouter();
  render(<App />, root);
}

start();
