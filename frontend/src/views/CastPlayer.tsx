// asciinema-player (npm) for one recording: its own chunk with its CSS, loaded when the
// first recording is played. The cast text comes from /api/recordings/file via the API client.
import { useEffect, useRef } from 'preact/hooks';
import * as AsciinemaPlayer from 'asciinema-player';
import 'asciinema-player/dist/bundle/asciinema-player.css';

/**
 * A session without a terminal (`kubectl exec` without -t, a command's output) has bare LFs:
 * the user's own terminal turned them into CRLF, a player would draw a staircase. The file
 * keeps the bytes as they came; playback does what that terminal did.
 */
export function forPlayback(cast: string): string {
  const lines = cast.split('\n');
  let header: { kubelantern?: { tty?: boolean } };
  try {
    header = JSON.parse(lines[0]) as typeof header;
  } catch {
    return cast;
  }
  if (header.kubelantern?.tty !== false) return cast;
  return lines
    .map((line, i) => {
      if (i === 0 || !line) return line;
      try {
        const ev = JSON.parse(line) as [number, string, string];
        if (ev[1] === 'o') ev[2] = ev[2].replace(/\r?\n/g, '\r\n');
        return JSON.stringify(ev);
      } catch {
        return line;
      }
    })
    .join('\n');
}

export function CastPlayer({ cast }: { cast: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    // Long idle stretches (someone reading) are cut to 2 s; the file keeps the real times.
    const player = AsciinemaPlayer.create({ data: forPlayback(cast) }, el.current, {
      autoPlay: true,
      idleTimeLimit: 2,
      fit: 'width',
      terminalFontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
    });
    return () => player.dispose();
  }, [cast]);
  return <div class="cast-player" ref={el} data-testid="cast-player" />;
}
