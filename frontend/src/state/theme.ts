// Light / dark / follow-the-system theme, remembered in localStorage.
import { Value } from './value';

export type Theme = 'light' | 'dark' | 'system';
const THEME_KEY = 'kubelantern.theme';
export const theme = new Value<Theme>((localStorage.getItem(THEME_KEY) as Theme) || 'system');

export function effectiveTheme(t: Theme = theme.value): 'light' | 'dark' {
  if (t !== 'system') return t;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(): void {
  document.documentElement.dataset.theme = effectiveTheme();
}

export function toggleTheme(): void {
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME_KEY, next);
  theme.set(next);
  applyTheme();
}

export function followSystemTheme(): void {
  localStorage.removeItem(THEME_KEY);
  theme.set('system');
  applyTheme();
}

export function initTheme(): void {
  applyTheme();
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
}
