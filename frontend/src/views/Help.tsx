// The keyboard-shortcuts dialog.
import { helpOpen, SHORTCUTS } from '../keys';
import { followSystemTheme } from '../state/theme';

export function Help() {
  return (
    <div class="overlay" onClick={() => helpOpen.set(false)}>
      <div class="dialog" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <h3>Keyboard shortcuts</h3>
        <table class="keys">
          {SHORTCUTS.map(([k, d]) => (
            <tr>
              <td>{k.split(' ').map((x) => (x === '/' && k.length > 1 ? ' / ' : <kbd>{x}</kbd>))}</td>
              <td>{d}</td>
            </tr>
          ))}
        </table>
        <div class="dialog-actions">
          <button class="btn" onClick={() => { followSystemTheme(); helpOpen.set(false); }} title="Forget the toggle and follow the system setting">Theme: follow system</button>
          <button class="btn" onClick={() => helpOpen.set(false)}>Close</button>
        </div>
      </div>
    </div>
  );
}
