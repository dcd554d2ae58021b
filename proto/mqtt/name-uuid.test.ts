import { describe, expect, it } from 'vitest';
import { nameUuid } from './name-uuid.js';

const DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const URL_NS = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

describe('nameUuid (RFC 9562 version 5)', () => {
  it('matches Python uuid.uuid5 for the DNS and URL namespaces, also when asked again', () => {
    for (let round = 0; round < 2; round++) {
      // Oracle: python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com'))" (and NAMESPACE_URL)
      expect(nameUuid('www.example.com', DNS)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
      expect(nameUuid('www.example.com', URL_NS)).toBe('b63cdfa4-3df9-568e-97ae-006c5b8fd652');
    }
  });

  it('stays right after more names than it remembers', () => {
    const first = nameUuid('application:farm');
    for (let i = 0; i < 5000; i++) nameUuid(`application:${i}`);
    expect(nameUuid('application:farm')).toBe(first);
  });
});
