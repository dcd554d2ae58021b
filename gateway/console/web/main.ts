/**
 * The farm console page: a hash router over the views, the login gate, and
 * one EventSource for live updates handed to whichever view is on screen.
 */
import { addDeviceView } from './add-device.js';
import { ApiError, api, setCsrf, type UpEvent } from './client.js';
import { deviceView } from './device.js';
import { devicesView } from './devices.js';
import { h, toast } from './dom.js';
import { evidenceView } from './evidence.js';
import { loginView } from './login.js';
import { overviewView } from './overview.js';
import { plotsView } from './plots.js';
import './style.css';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
let onUp: ((up: UpEvent) => void) | undefined;
let events: EventSource | undefined;
let renderSeq = 0;

function startEvents(): void {
  if (events) return;
  events = new EventSource('/api/events');
  events.addEventListener('up', (e) => onUp?.(JSON.parse((e as MessageEvent).data) as UpEvent));
  events.addEventListener('join', (e) =>
    toast(`Joined: ${(JSON.parse((e as MessageEvent).data) as { devEui: string }).devEui}`),
  );
  events.addEventListener('alarm', (e) => {
    const a = JSON.parse((e as MessageEvent).data) as { kind: string; devEui?: string };
    toast(
      a.kind === 'unknown-join'
        ? `Unknown device ${a.devEui} tried to join: add it under Devices`
        : `Alarm: ${a.kind} ${a.devEui ?? ''}`,
    );
  });
  events.addEventListener('dropped', () => window.dispatchEvent(new HashChangeEvent('hashchange')));
}

function showLogin(): void {
  events?.close();
  events = undefined;
  nav.hidden = true;
  main.replaceChildren(loginView(() => route()));
  main.querySelector('input')?.focus();
}

async function route(): Promise<void> {
  const seq = ++renderSeq;
  const [, view = 'overview', arg] = location.hash.split('/');
  onUp = undefined;
  try {
    let element: HTMLElement;
    if (view === 'devices' && arg === 'add') element = await addDeviceView();
    else if (view === 'devices') {
      const v = await devicesView();
      element = v.element;
      onUp = v.onUp;
    } else if (view === 'device' && arg) {
      const v = await deviceView(arg);
      element = v.element;
      onUp = v.onUp;
    } else if (view === 'plots') element = await plotsView();
    else if (view === 'evidence') element = await evidenceView();
    else element = await overviewView();
    if (seq !== renderSeq) return;
    nav.hidden = false;
    for (const a of nav.querySelectorAll('a')) {
      const current = a.getAttribute('href') === `#/${view === 'device' ? 'devices' : view}`;
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    main.replaceChildren(element);
    main.dataset.view = view;
    startEvents();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin();
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, (err as Error).message));
  }
}

async function start(): Promise<void> {
  document.getElementById('logout')?.addEventListener('click', async () => {
    await api('POST', 'logout').catch(() => undefined);
    showLogin();
  });
  window.addEventListener('hashchange', () => void route());
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => undefined);
  try {
    const { csrf } = await api<{ csrf: string }>('GET', 'session');
    setCsrf(csrf);
    await route();
  } catch {
    showLogin();
  }
}

void start();
