// A few line icons (inline SVG, no icon font: the CSP allows only same-origin resources).
const P: Record<string, string> = {
  cluster: 'M12 2l8.5 5v10L12 22l-8.5-5V7z M12 8v8 M8 10l8 4 M16 10l-8 4',
  ns: 'M3 6h7l2 2h9v11H3z',
  search: 'M10.5 17a6.5 6.5 0 1 0 0-13 6.5 6.5 0 0 0 0 13z M15.5 15.5L21 21',
  theme: 'M12 3a9 9 0 1 0 9 9A7 7 0 0 1 12 3z',
  help: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6v.6 M12 17h.01',
  plug: 'M9 2v5 M15 2v5 M6 7h12v4a6 6 0 0 1-12 0z M12 17v5',
  logs: 'M4 5h16 M4 9h16 M4 13h10 M4 17h13',
  terminal: 'M4 5h16v14H4z M7 9l3 3-3 3 M12 15h5',
  edit: 'M4 20h4L19 9l-4-4L4 16z M13 7l4 4',
  trash: 'M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13',
  scale: 'M4 12h16 M12 4v16',
  restart: 'M20 12a8 8 0 1 1-2.3-5.7 M20 4v5h-5',
  back: 'M15 5l-7 7 7 7',
  copy: 'M8 8h12v12H8z M4 16V4h12',
  eye: 'M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z',
  forward: 'M5 12h14 M13 6l6 6-6 6',
  refresh: 'M20 12a8 8 0 1 1-2.3-5.7 M20 4v5h-5',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M4 21a8 8 0 0 1 16 0',
  play: 'M7 4l13 8-13 8z',
  record: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z',
};

export function Icon({ name, size = 16 }: { name: string; size?: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width={1.8} stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d={P[name] ?? ''} />
    </svg>
  );
}
