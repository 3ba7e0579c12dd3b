// Entry point: the console in <body>, and any error that escapes shown on the page rather than
// leaving it blank or silently stuck.
import './console.css';
import { ConsoleApp } from './app';

const root = document.createElement('div');
root.id = 'app';
const boot = document.getElementById('boot');
const app = new ConsoleApp(root);

function fatal(message: string): void {
  if (root.isConnected) {
    app.showError(`Console error: ${message}`);
    return;
  }
  if (boot) {
    const p = document.createElement('p');
    p.className = 'boot-error';
    p.setAttribute('role', 'alert');
    p.textContent = `The console could not start: ${message}. Reload the page (F5).`;
    boot.append(p);
  }
}

window.addEventListener('error', (e) => fatal(e.message));
window.addEventListener('unhandledrejection', (e) => fatal(e.reason instanceof Error ? e.reason.message : String(e.reason)));

document.body.append(root);
boot?.remove();
app.start().catch((e) => fatal(e instanceof Error ? e.message : String(e)));
