/** Add a device: typed, from its TR005 QR code (camera or photo), or picked from unknown join attempts. */
import { parseTr005 } from '../../../proto/lorawan/tr005.js';
import { ApiError, api } from './client.js';
import { ago, errorBox, field, h, toast } from './dom.js';
import { readQrFromFile } from './qr.js';

interface Heard {
  devEui: string;
  joinEui?: string;
  lastHeardMs: number;
  attempts: number;
}

export async function addDeviceView(): Promise<HTMLElement> {
  const heard = await api<Heard[]>('GET', 'heard');
  const devEui = h('input', {
    name: 'devEui',
    required: true,
    inputmode: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 16,
  });
  const joinEui = h('input', {
    name: 'joinEui',
    value: '0000000000000000',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 16,
  });
  const appKey = h('input', {
    name: 'appKey',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 32,
  });
  const name = h('input', { name: 'name', required: true, autocomplete: 'off', maxlength: 64 });
  const codec = h(
    'select',
    { name: 'codec' },
    h('option', { value: 'cayenne-lpp' }, 'Cayenne LPP'),
    h('option', { value: 'none' }, 'none (raw bytes)'),
  );
  const qrFile = h('input', { type: 'file', accept: 'image/*', capture: 'environment', name: 'qr' });
  const qrStatus = h('p', { class: 'muted', 'aria-live': 'polite' });
  const error = errorBox();

  qrFile.addEventListener('change', async () => {
    const file = qrFile.files?.[0];
    if (!file) return;
    qrStatus.textContent = 'Reading the QR code…';
    try {
      const code = parseTr005(await readQrFromFile(file));
      devEui.value = code.devEui;
      joinEui.value = code.joinEui;
      if (!name.value)
        name.value = code.serialNumber ? `device ${code.serialNumber}` : `device ${code.devEui.slice(-4)}`;
      qrStatus.textContent = `Read DevEUI ${code.devEui}, JoinEUI ${code.joinEui} (vendor ${code.vendorId}). Now type or paste the AppKey.`;
      appKey.focus();
    } catch (err) {
      qrStatus.textContent = '';
      error.textContent = (err as Error).message;
    }
  });

  const heardList =
    heard.length === 0
      ? h('p', { class: 'muted' }, 'No unknown device has tried to join yet.')
      : h(
          'ul',
          { class: 'heard' },
          ...heard.map((d) =>
            h(
              'li',
              {},
              h('span', { class: 'mono' }, d.devEui),
              ` ${d.attempts}× , ${ago(d.lastHeardMs)} `,
              h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Use ${d.devEui}`,
                  onclick: () => {
                    devEui.value = d.devEui;
                    if (d.joinEui) joinEui.value = d.joinEui;
                    appKey.focus();
                  },
                },
                'Use',
              ),
            ),
          ),
        );

  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        error.textContent = '';
        try {
          await api('POST', 'devices', {
            devEui: devEui.value.trim(),
            name: name.value.trim(),
            codec: codec.value,
            activation: {
              mode: 'otaa',
              joinEui: joinEui.value.trim(),
              appKey: appKey.value.replace(/\s+/g, ''),
            },
          });
          toast(`Device ${name.value.trim()} added`);
          location.hash = '#/devices';
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : String(err);
        }
      },
    },
    h('h2', {}, 'Add a device'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Scan its QR code'),
      field('Photo of the TR005 label', qrFile, 'Opens the camera on a phone.'),
      qrStatus,
    ),
    h('fieldset', {}, h('legend', {}, 'Heard but not registered'), heardList),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Device'),
      field('DevEUI', devEui, '16 hexadecimal characters, on the label'),
      field('JoinEUI', joinEui),
      field('AppKey', appKey, '32 hexadecimal characters'),
      field('Name', name),
      field('Payload codec', codec),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Add device'),
    error,
  );
  return form;
}
