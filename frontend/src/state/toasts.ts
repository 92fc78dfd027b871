// Short messages in the corner ("deleted", "copied", failures).
import { Value } from './value';

export interface Toast {
  id: number;
  text: string;
  tone: 'ok' | 'bad' | 'info';
}
export const toasts = new Value<Toast[]>([]);
let toastId = 0;
export function toast(text: string, tone: Toast['tone'] = 'info'): void {
  const t = { id: ++toastId, text, tone };
  toasts.set([...toasts.value, t]);
  setTimeout(() => toasts.set(toasts.value.filter((x) => x.id !== t.id)), tone === 'bad' ? 9000 : 4000);
}
