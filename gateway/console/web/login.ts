import { ApiError, api, setCsrf } from './client.js';
import { errorBox, field, h } from './dom.js';

export function loginView(onDone: () => void): HTMLElement {
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = errorBox();
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        error.textContent = '';
        try {
          const { csrf } = await api<{ csrf: string }>('POST', 'login', { password: password.value });
          setCsrf(csrf);
          onDone();
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : 'the gateway did not answer';
          password.select();
        }
      },
    },
    h('h2', {}, 'Log in'),
    field('Console password', password, 'Printed once by maverick init.'),
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
    error,
  );
  return form;
}
