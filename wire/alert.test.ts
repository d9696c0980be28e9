import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../crypto/bytes.js';
import { AlertLevel, alertMessage, decodeAlert, encodeAlert } from './alert.js';
import { TlsError } from './alerts.js';

describe('Alert (RFC 8446 §6)', () => {
  it('decodes a fatal handshake_failure', () => {
    expect(decodeAlert(fromHex('0228'))).toEqual({ ok: true, value: { level: 2, description: 40 } });
  });

  it('decodes a warning close_notify', () => {
    expect(decodeAlert(fromHex('0100'))).toEqual({ ok: true, value: { level: 1, description: 0 } });
  });

  it('keeps a description RFC 8446 does not define as its number', () => {
    expect(decodeAlert(fromHex('02c8'))).toEqual({ ok: true, value: { level: 2, description: 200 } });
  });

  it('rejects an alert that is not exactly two bytes with decode_error', () => {
    for (const h of ['', '02', '022800']) {
      expect(decodeAlert(fromHex(h))).toMatchObject({ ok: false, error: { alert: 'decode_error', field: 'alert' } });
    }
  });

  it('rejects a level other than warning or fatal with illegal_parameter', () => {
    for (const h of ['0028', '0328', 'ff00']) {
      expect(decodeAlert(fromHex(h))).toMatchObject({ ok: false, error: { alert: 'illegal_parameter', field: 'alert.level' } });
    }
  });

  it('encodes level then description', () => {
    expect(toHex(encodeAlert({ level: AlertLevel.fatal, description: 51 }))).toBe('0233');
    expect(toHex(encodeAlert(alertMessage('close_notify', AlertLevel.warning)))).toBe('0100');
    expect(toHex(encodeAlert(alertMessage('bad_record_mac')))).toBe('0214');
  });

  it('refuses to encode a level other than 1 or 2, or a description above 255', () => {
    expect(() => encodeAlert({ level: 0, description: 0 })).toThrow(TlsError);
    expect(() => encodeAlert({ level: 2, description: 256 })).toThrow(TlsError);
  });
});
