import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { PROVIDER_CASES } from '../crypto/testing/providers.js';
import { TlsError } from '../wire/alerts.js';
import { MAX_PLAINTEXT_LENGTH, recordHeader } from './framing.js';
import { type RecordItem, RecordLayer } from './layer.js';
import { RecordProtector, recordNonce } from './protection.js';
import * as rfc from './testing/rfc8448.js';
import { counting, drain, handshakeMessage, plaintextRecord, randomKeys, splitAt, suiteNamed, thrown } from './testing/support.js';

describe.each(PROVIDER_CASES)('the record layer on the $name provider', ({ provider }) => {
  const aes128 = suiteNamed('TLS_AES_128_GCM_SHA256');
  const chacha = suiteNamed('TLS_CHACHA20_POLY1305_SHA256');

  function errorOf(item: RecordItem | undefined): TlsError {
    if (item?.kind !== 'error') throw new Error(`expected an error item, got ${item === undefined ? 'undefined' : item.kind}`);
    return item.error;
  }

  function lastError(items: RecordItem[]): TlsError {
    return errorOf(items[items.length - 1]);
  }

  function handshakes(items: RecordItem[]): Uint8Array[] {
    return items.map((i) => {
      if (i.kind !== 'handshake')
        throw new Error(`expected a handshake item, got ${i.kind}${i.kind === 'error' ? ` (${i.error.message})` : ''}`);
      return i.raw;
    });
  }

  /** A layer reading protected records, with a matching protector to write them. */
  function protectedPair(suite = aes128) {
    const keys = randomKeys(suite);
    const reader = new RecordLayer({ provider: provider, role: 'server' });
    reader.setReadKeys(suite, keys, 'client handshake');
    const writer = new RecordLayer({ provider: provider, role: 'client' });
    writer.setWriteKeys(suite, keys, 'client handshake');
    return { keys, reader, writer, protector: () => new RecordProtector(suite, keys, provider) };
  }

  const msgA = handshakeMessage(8, counting(30));
  const msgB = handshakeMessage(11, counting(500, 3));
  const msgC = handshakeMessage(20, counting(32, 9));

  describe('RecordLayer reading plaintext records', () => {
    it('reassembles a handshake message split over three records', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      const [p1, p2, p3] = splitAt(msgB, [2, 300]);
      layer.receive(concat(plaintextRecord(22, p1 as Uint8Array), plaintextRecord(22, p2 as Uint8Array)));
      expect(layer.next()).toBeUndefined();
      layer.receive(plaintextRecord(22, p3 as Uint8Array));
      const items = drain(layer);
      expect(items).toEqual([{ kind: 'handshake', raw: msgB, encrypted: false }]);
    });

    it('returns three messages carried in one record one by one', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.receive(plaintextRecord(22, concat(msgA, msgB, msgC)));
      expect(layer.next()).toEqual({ kind: 'handshake', raw: msgA, encrypted: false });
      expect(layer.next()).toEqual({ kind: 'handshake', raw: msgB, encrypted: false });
      expect(layer.next()).toEqual({ kind: 'handshake', raw: msgC, encrypted: false });
      expect(layer.next()).toBeUndefined();
    });

    it('reassembles messages whose boundaries fall anywhere across records fed one byte at a time', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      const all = concat(msgA, msgB, msgC);
      const wire = concat(...splitAt(all, [1, 37, 38, 400]).map((f) => plaintextRecord(22, f)));
      const items: RecordItem[] = [];
      for (const b of wire) {
        layer.receive(Uint8Array.of(b));
        items.push(...drain(layer));
      }
      expect(handshakes(items)).toEqual([msgA, msgB, msgC]);
    });

    it('returns a plaintext alert', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.receive(plaintextRecord(21, Uint8Array.of(2, 40)));
      expect(layer.next()).toEqual({ kind: 'alert', level: 2, description: 40, encrypted: false });
    });

    it('rejects an alert record that is not exactly two bytes with decode_error', () => {
      for (const body of [Uint8Array.of(2), Uint8Array.of(2, 40, 0)]) {
        const layer = new RecordLayer({ provider: provider, role: 'client' });
        layer.receive(plaintextRecord(21, body));
        const error = errorOf(layer.next());
        expect(error.alert).toBe('decode_error');
        expect(error.reason).toBe('MalformedAlert');
      }
    });

    it('rejects a zero-length handshake record with unexpected_message', () => {
      const layer = new RecordLayer({ provider: provider, role: 'server' });
      layer.receive(plaintextRecord(22, new Uint8Array(0)));
      expect(errorOf(layer.next()).alert).toBe('unexpected_message');
    });

    it('rejects plaintext application data before read keys with unexpected_message', () => {
      const layer = new RecordLayer({ provider: provider, role: 'server' });
      layer.receive(plaintextRecord(23, counting(10)));
      const error = errorOf(layer.next());
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('UnprotectedApplicationData');
    });

    it('rejects a plaintext record over 2^14 bytes with record_overflow', () => {
      const layer = new RecordLayer({ provider: provider, role: 'server' });
      layer.receive(plaintextRecord(22, counting(MAX_PLAINTEXT_LENGTH + 1)).subarray(0, 5));
      expect(errorOf(layer.next()).alert).toBe('record_overflow');
    });

    it('rejects another record type in the middle of a split handshake message with unexpected_message', () => {
      for (const other of [plaintextRecord(21, Uint8Array.of(1, 0)), plaintextRecord(20, Uint8Array.of(1))]) {
        const layer = new RecordLayer({ provider: provider, role: 'client' });
        layer.receive(concat(plaintextRecord(22, msgB.subarray(0, 100)), other, plaintextRecord(22, msgB.subarray(100))));
        const error = lastError(drain(layer));
        expect(error.alert).toBe('unexpected_message');
        expect(error.reason).toBe('InterleavedHandshake');
      }
    });

    it('refuses a handshake message larger than maxHandshakeMessage with decode_error as soon as its header arrives', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client', maxHandshakeMessage: 1000 });
      const header = Uint8Array.of(11, 0x00, 0x03, 0xe5); // a 997-byte Certificate body: 1001 bytes with the header
      layer.receive(plaintextRecord(22, concat(header, counting(10))));
      const error = errorOf(layer.next());
      expect(error.alert).toBe('decode_error');
      expect(error.reason).toBe('HandshakeMessageTooLarge');
    });

    it('accepts a handshake message of exactly maxHandshakeMessage bytes and refuses one byte more', () => {
      const ok = new RecordLayer({ provider: provider, role: 'client', maxHandshakeMessage: 104 });
      const exact = handshakeMessage(11, counting(100));
      ok.receive(plaintextRecord(22, exact));
      expect(handshakes(drain(ok))).toEqual([exact]);
      const tooBig = new RecordLayer({ provider: provider, role: 'client', maxHandshakeMessage: 104 });
      tooBig.receive(plaintextRecord(22, handshakeMessage(11, counting(101))));
      expect(errorOf(tooBig.next()).alert).toBe('decode_error');
    });

    it('accepts a ClientHello of the largest length RFC 8446 §4.1.2 allows (131396-byte body), across 9 plaintext records', () => {
      const layer = new RecordLayer({ provider: provider, role: 'server' });
      const hello = handshakeMessage(1, counting(131396));
      const records = splitAt(
        hello,
        Array.from({ length: 8 }, (_, i) => (i + 1) * MAX_PLAINTEXT_LENGTH),
      ).map((f) => plaintextRecord(22, f));
      expect(records).toHaveLength(9);
      layer.receive(concat(...records));
      expect(handshakes(drain(layer))).toEqual([hello]);
    });

    it('refuses a ClientHello announcing one byte more than any legal ClientHello with decode_error, before its body arrives', () => {
      const layer = new RecordLayer({ provider: provider, role: 'server' });
      layer.receive(plaintextRecord(22, Uint8Array.of(1, 0x02, 0x01, 0x45))); // 131397
      const error = errorOf(layer.next());
      expect(error.alert).toBe('decode_error');
      expect(error.reason).toBe('HandshakeMessageTooLarge');
      expect(error.message).toContain('the limit is 131400');
    });

    it('holds every plaintext handshake message to the largest legal ClientHello, whatever type it claims', () => {
      const layer = new RecordLayer({ provider: provider, role: 'server' });
      layer.receive(plaintextRecord(22, Uint8Array.of(11, 0x03, 0x00, 0x00))); // a 196608-byte "Certificate" before any keys
      expect(errorOf(layer.next())).toMatchObject({ alert: 'decode_error', reason: 'HandshakeMessageTooLarge' });
    });

    it('refuses a KeyUpdate, Finished or EndOfEarlyData longer than its fields allow as soon as its header arrives', () => {
      for (const [type, length] of [
        [24, 2],
        [20, 65],
        [5, 1],
      ] as const) {
        const layer = new RecordLayer({ provider: provider, role: 'server' });
        layer.receive(plaintextRecord(22, Uint8Array.of(type, 0, 0, length)));
        expect(errorOf(layer.next())).toMatchObject({ alert: 'decode_error', reason: 'HandshakeMessageTooLarge' });
      }
    });

    it('accepts a handshake message split across maxHandshakeRecords records and refuses one split across one more', () => {
      const split = (parts: number) =>
        splitAt(
          msgB,
          Array.from({ length: parts - 1 }, (_, i) => (i + 1) * 10),
        ).map((f) => plaintextRecord(22, f));
      const ok = new RecordLayer({ provider: provider, role: 'client', maxHandshakeRecords: 4 });
      ok.receive(concat(...split(4)));
      expect(handshakes(drain(ok))).toEqual([msgB]);
      const tooMany = new RecordLayer({ provider: provider, role: 'client', maxHandshakeRecords: 4 });
      tooMany.receive(concat(...split(5)));
      const error = lastError(drain(tooMany));
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('TooManyHandshakeRecords');
    });

    it('counts records per message: many whole messages, each in one record, are not one message in many records', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client', maxHandshakeRecords: 2 });
      // msgA alone; msgC whole plus the start of msgB; the rest of msgB; msgA again: no message spans more than 2 records.
      const [b1, b2] = splitAt(msgB, [250]);
      layer.receive(
        concat(
          plaintextRecord(22, msgA),
          plaintextRecord(22, concat(msgC, b1 as Uint8Array)),
          plaintextRecord(22, b2 as Uint8Array),
          plaintextRecord(22, msgA),
        ),
      );
      expect(handshakes(drain(layer))).toEqual([msgA, msgC, msgB, msgA]);
    });

    it('by default refuses a 300-byte handshake message sent one byte per record (more than 256 records)', () => {
      const msg = handshakeMessage(8, counting(296));
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.receive(concat(...[...msg].map((b) => plaintextRecord(22, Uint8Array.of(b)))));
      expect(lastError(drain(layer))).toMatchObject({ alert: 'unexpected_message', reason: 'TooManyHandshakeRecords' });
    });

    it('stays dead after an error and returns the same error for every later call', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.receive(plaintextRecord(23, counting(3)));
      const first = errorOf(layer.next());
      layer.receive(plaintextRecord(22, msgA));
      expect(errorOf(layer.next())).toBe(first);
      expect(errorOf(layer.next())).toBe(first);
      expect(layer.error).toBe(first);
    });
  });

  describe('RecordLayer change_cipher_spec handling', () => {
    it('returns a plaintext ChangeCipherSpec before and after read keys', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.receive(Uint8Array.of(20, 3, 3, 0, 1, 1));
      expect(layer.next()).toEqual({ kind: 'change_cipher_spec', encrypted: false });
      layer.setReadKeys(aes128, randomKeys(aes128), 'server handshake');
      layer.receive(new RecordLayer({ provider: provider, role: 'server' }).writeChangeCipherSpec());
      expect(layer.next()).toEqual({ kind: 'change_cipher_spec', encrypted: false });
    });

    it('rejects a ChangeCipherSpec whose body is not the single byte 0x01 with unexpected_message', () => {
      for (const body of [Uint8Array.of(2), Uint8Array.of(1, 1), new Uint8Array(0)]) {
        const layer = new RecordLayer({ provider: provider, role: 'client' });
        layer.receive(plaintextRecord(20, body));
        const error = errorOf(layer.next());
        expect(error.alert).toBe('unexpected_message');
        expect(error.reason).toBe('InvalidChangeCipherSpec');
      }
    });

    it('rejects a protected ChangeCipherSpec with unexpected_message', () => {
      const { reader, protector } = protectedPair();
      reader.receive(protector().protect(20, Uint8Array.of(1)));
      const error = errorOf(reader.next());
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('ProtectedChangeCipherSpec');
    });
  });

  describe('RecordLayer reading protected records', () => {
    it('decrypts handshake messages, alerts and application data and marks them encrypted', () => {
      const { reader, writer } = protectedPair(chacha);
      reader.receive(concat(writer.writeHandshake(msgA), writer.writeApplicationData(counting(70)), writer.writeAlert(1, 0)));
      expect(drain(reader)).toEqual([
        { kind: 'handshake', raw: msgA, encrypted: true },
        { kind: 'application_data', data: counting(70) },
        { kind: 'alert', level: 1, description: 0, encrypted: true },
      ]);
      expect(reader.readSequence).toBe(3n);
    });

    it('reads the RFC 8448 server flight as four handshake messages', () => {
      const client = new RecordLayer({ provider: provider, role: 'client' });
      client.setReadKeys(aes128, rfc.serverHandshakeKeys, 'server handshake');
      for (const chunk of splitAt(rfc.serverHandshakeRecord, [3, 100, 101, 500])) client.receive(chunk);
      expect(handshakes(drain(client))).toEqual([rfc.encryptedExtensions, rfc.certificate, rfc.certificateVerify, rfc.serverFinished]);
    });

    it('reads the RFC 8448 NewSessionTicket then the application data sealed at sequence number 1', () => {
      const client = new RecordLayer({ provider: provider, role: 'client' });
      client.setReadKeys(aes128, rfc.serverApplicationKeys, 'server application 0');
      client.receive(concat(rfc.serverNewSessionTicketRecord, rfc.serverApplicationDataRecord));
      const items = drain(client);
      expect(items.map((i) => i.kind)).toEqual(['handshake', 'application_data']);
      expect(items[1]).toEqual({ kind: 'application_data', data: rfc.applicationPayload });
    });

    it('fails records delivered out of order with bad_record_mac', () => {
      const { reader, writer } = protectedPair();
      const first = writer.writeApplicationData(counting(10, 1));
      const second = writer.writeApplicationData(counting(10, 2));
      reader.receive(concat(second, first));
      const error = errorOf(reader.next());
      expect(error.alert).toBe('bad_record_mac');
    });

    it('rejects a record with a flipped tag bit with bad_record_mac', () => {
      const { reader, writer } = protectedPair();
      const record = writer.writeApplicationData(counting(10));
      record[record.length - 3] = (record[record.length - 3] as number) ^ 0x80;
      reader.receive(record);
      expect(errorOf(reader.next()).alert).toBe('bad_record_mac');
    });

    it('rejects plaintext handshake and alert records after read keys with unexpected_message', () => {
      for (const record of [plaintextRecord(22, msgA), plaintextRecord(21, Uint8Array.of(2, 10))]) {
        const { reader } = protectedPair();
        reader.receive(record);
        const error = errorOf(reader.next());
        expect(error.alert).toBe('unexpected_message');
        expect(error.reason).toBe('UnprotectedRecord');
      }
    });

    it('rejects an inner plaintext that is all zeros with unexpected_message', () => {
      const { reader, keys } = protectedPair();
      // RecordProtector refuses content type 0, so seal the all-zero inner plaintext with the AEAD itself.
      const inner = new Uint8Array(6);
      const header = recordHeader(23, 0x0303, inner.length + 16);
      reader.receive(concat(header, provider.aeadSeal('aes-128-gcm', keys.key, recordNonce(keys.iv, 0n), header, inner)));
      const error = errorOf(reader.next());
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('NoInnerContentType');
    });

    it('rejects a zero-length protected handshake fragment with unexpected_message', () => {
      const { reader, protector } = protectedPair();
      reader.receive(protector().protect(22, new Uint8Array(0)));
      expect(errorOf(reader.next()).alert).toBe('unexpected_message');
    });

    it('rejects a zero-length protected alert with unexpected_message and a 3-byte one with decode_error', () => {
      const empty = protectedPair();
      empty.reader.receive(empty.protector().protect(21, new Uint8Array(0)));
      expect(errorOf(empty.reader.next()).alert).toBe('unexpected_message');
      const long = protectedPair();
      long.reader.receive(long.protector().protect(21, Uint8Array.of(2, 10, 0)));
      expect(errorOf(long.reader.next()).alert).toBe('decode_error');
    });

    it('rejects an unknown inner content type with unexpected_message', () => {
      const { reader, protector } = protectedPair();
      reader.receive(protector().protect(24, Uint8Array.of(1, 2, 3)));
      const error = errorOf(reader.next());
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('UnknownContentType');
    });

    it('returns an empty application_data record as empty data', () => {
      const { reader, writer } = protectedPair();
      const record = writer.writeApplicationData(new Uint8Array(0));
      expect(record.length).toBe(5 + 1 + 16);
      reader.receive(record);
      expect(reader.next()).toEqual({ kind: 'application_data', data: new Uint8Array(0) });
    });

    it('strips padding added by the padding option', () => {
      const keys = randomKeys(aes128);
      const calls: [number, number][] = [];
      const writer = new RecordLayer({
        provider: provider,
        role: 'client',
        padding: (type, length) => {
          calls.push([type, length]);
          return 64;
        },
      });
      writer.setWriteKeys(aes128, keys, 'app');
      const record = writer.writeApplicationData(counting(10));
      expect(record.length).toBe(5 + 10 + 1 + 64 + 16);
      expect(calls).toEqual([[23, 10]]);
      const reader = new RecordLayer({ provider: provider, role: 'server' });
      reader.setReadKeys(aes128, keys, 'app');
      reader.receive(record);
      expect(reader.next()).toEqual({ kind: 'application_data', data: counting(10) });
    });

    it('clamps fixed padding so content and padding stay within 2^14', () => {
      const keys = randomKeys(aes128);
      const writer = new RecordLayer({ provider: provider, role: 'client', padding: 1000 });
      writer.setWriteKeys(aes128, keys, 'app');
      const data = counting(MAX_PLAINTEXT_LENGTH + 10);
      const wire = writer.writeApplicationData(data);
      // first record: 2^14 content, no room for padding; second: 10 bytes + 1000 padding
      expect(wire.length).toBe(5 + MAX_PLAINTEXT_LENGTH + 1 + 16 + (5 + 10 + 1 + 1000 + 16));
      const reader = new RecordLayer({ provider: provider, role: 'server' });
      reader.setReadKeys(aes128, keys, 'app');
      reader.receive(wire);
      const items = drain(reader);
      expect(concat(...items.map((i) => (i.kind === 'application_data' ? i.data : new Uint8Array(0))))).toEqual(data);
    });
  });

  describe('RecordLayer limits on protected records', () => {
    it('accepts a protected Certificate of 256 KiB (the default maxHandshakeMessage) and refuses one announcing a byte more', () => {
      const { reader, writer } = protectedPair();
      const cert = handshakeMessage(11, counting(262144 - 4));
      reader.receive(writer.writeHandshake(cert));
      expect(handshakes(drain(reader))).toEqual([cert]);
      const big = protectedPair();
      big.reader.receive(big.writer.writeHandshake(Uint8Array.of(11, 0x04, 0x00, 0x01)));
      expect(lastError(drain(big.reader))).toMatchObject({ alert: 'decode_error', reason: 'HandshakeMessageTooLarge' });
    });

    it('accepts 32 empty application_data records in a row, refuses the 33rd with unexpected_message', () => {
      const { reader, writer } = protectedPair();
      const empty = () => writer.writeApplicationData(new Uint8Array(0));
      reader.receive(concat(...Array.from({ length: 32 }, empty)));
      const items = drain(reader);
      expect(items).toHaveLength(32);
      expect(items.every((i) => i.kind === 'application_data' && i.data.length === 0)).toBe(true);
      reader.receive(empty());
      const error = lastError(drain(reader));
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('TooManyEmptyRecords');
    });

    it('starts counting empty records again after a record with content', () => {
      const { reader, writer } = protectedPair();
      const empties = (n: number) => concat(...Array.from({ length: n }, () => writer.writeApplicationData(new Uint8Array(0))));
      reader.receive(concat(empties(3), writer.writeApplicationData(Uint8Array.of(7)), empties(3)));
      const items = drain(reader);
      expect(items).toHaveLength(7);
      expect(items.some((i) => i.kind === 'error')).toBe(false);
      const strict = protectedPair();
      const layer = new RecordLayer({ provider: provider, role: 'server', maxEmptyRecords: 3 });
      layer.setReadKeys(aes128, strict.keys, 'application');
      const w = strict.writer;
      const e = () => w.writeApplicationData(new Uint8Array(0));
      layer.receive(concat(e(), e(), e(), w.writeHandshake(msgC), e(), e(), e()));
      expect(drain(layer).some((i) => i.kind === 'error')).toBe(false);
      layer.receive(e());
      expect(lastError(drain(layer))).toMatchObject({ alert: 'unexpected_message', reason: 'TooManyEmptyRecords' });
    });

    it('rejects limits that are not whole numbers in range', () => {
      expect(thrown(() => new RecordLayer({ provider: provider, role: 'client', maxEmptyRecords: -1 }))).toBeInstanceOf(RangeError);
      expect(thrown(() => new RecordLayer({ provider: provider, role: 'client', maxHandshakeRecords: 0 }))).toBeInstanceOf(RangeError);
      expect(thrown(() => new RecordLayer({ provider: provider, role: 'client', maxHandshakeMessage: 2.5 }))).toBeInstanceOf(RangeError);
    });
  });

  describe('RecordLayer key changes', () => {
    it('rejects a handshake message that spans a key change with unexpected_message', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.receive(plaintextRecord(22, concat(msgA, msgB.subarray(0, 10))));
      expect(layer.next()).toEqual({ kind: 'handshake', raw: msgA, encrypted: false });
      expect(layer.next()).toBeUndefined();
      layer.setReadKeys(aes128, randomKeys(aes128), 'server handshake');
      const error = errorOf(layer.next());
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('HandshakeSpansKeyChange');
    });

    it('treats a complete message still waiting in the record as spanning the key change', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.receive(plaintextRecord(22, concat(msgA, msgC)));
      expect(layer.next()).toEqual({ kind: 'handshake', raw: msgA, encrypted: false });
      layer.setReadKeys(aes128, randomKeys(aes128), 'server handshake');
      expect(errorOf(layer.next()).reason).toBe('HandshakeSpansKeyChange');
    });

    it('decrypts the records after a key change aligned on a record boundary, with the sequence number reset', () => {
      const hs = randomKeys(aes128);
      const app = randomKeys(aes128);
      const server = new RecordLayer({ provider: provider, role: 'server' });
      server.setWriteKeys(aes128, hs, 'server handshake');
      const flight1 = server.writeHandshake(msgC);
      server.setWriteKeys(aes128, app, 'server application 0');
      expect(server.writeSequence).toBe(0n);
      const flight2 = concat(server.writeHandshake(msgA), server.writeApplicationData(counting(5)));

      const client = new RecordLayer({ provider: provider, role: 'client' });
      client.setReadKeys(aes128, hs, 'server handshake');
      client.receive(concat(flight1, flight2)); // both flights arrive in one chunk
      expect(client.next()).toEqual({ kind: 'handshake', raw: msgC, encrypted: true });
      client.setReadKeys(aes128, app, 'server application 0');
      expect(client.readEpoch).toBe('server application 0');
      expect(client.readSequence).toBe(0n);
      expect(drain(client)).toEqual([
        { kind: 'handshake', raw: msgA, encrypted: true },
        { kind: 'application_data', data: counting(5) },
      ]);
    });
  });

  describe('RecordLayer writing', () => {
    it('writes the first plaintext ClientHello record with version 0x0301 and later records with 0x0303', () => {
      const client = new RecordLayer({ provider: provider, role: 'client' });
      const first = client.writeHandshake(msgA);
      const second = client.writeHandshake(msgC);
      expect(first).toEqual(plaintextRecord(22, msgA, 0x0301));
      expect(second).toEqual(plaintextRecord(22, msgC, 0x0303));
      expect(client.writeAlert(2, 40)).toEqual(plaintextRecord(21, Uint8Array.of(2, 40), 0x0303));
    });

    it('writes a server first record with 0x0303 and honours an explicit initialRecordVersion', () => {
      expect(new RecordLayer({ provider: provider, role: 'server' }).writeHandshake(msgA)).toEqual(plaintextRecord(22, msgA, 0x0303));
      expect(new RecordLayer({ provider: provider, role: 'client', initialRecordVersion: 0x0303 }).writeHandshake(msgA)).toEqual(
        plaintextRecord(22, msgA, 0x0303),
      );
    });

    it('writes ChangeCipherSpec as the plaintext record 14 03 03 00 01 01 even with write keys', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      layer.setWriteKeys(aes128, randomKeys(aes128), 'client handshake');
      expect(layer.writeChangeCipherSpec()).toEqual(Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x01, 0x01));
      expect(layer.writeSequence).toBe(0n);
    });

    it('fragments a handshake message into records of at most 2^14 bytes', () => {
      const big = handshakeMessage(11, counting(40000));
      const wire = new RecordLayer({ provider: provider, role: 'server' }).writeHandshake(big);
      expect(wire.length).toBe(big.length + 3 * 5);
      expect(wire.subarray(0, 5)).toEqual(Uint8Array.of(22, 3, 3, 0x40, 0x00));
      const reader = new RecordLayer({ provider: provider, role: 'client' });
      reader.receive(wire);
      expect(handshakes(drain(reader))).toEqual([big]);
    });

    it('fragments protected handshake messages and application data and reads them back', () => {
      const { reader, writer } = protectedPair();
      const big = handshakeMessage(11, counting(20000));
      const data = counting(50000, 5);
      reader.receive(concat(writer.writeHandshake(big), writer.writeApplicationData(data)));
      const items = drain(reader);
      expect(items[0]).toEqual({ kind: 'handshake', raw: big, encrypted: true });
      expect(items.slice(1).map((i) => i.kind)).toEqual(['application_data', 'application_data', 'application_data', 'application_data']);
      expect(concat(...items.slice(1).map((i) => (i.kind === 'application_data' ? i.data : new Uint8Array(0))))).toEqual(data);
    });

    it('cuts data given in parts into the records of the joined data: full 2^14-byte records across the parts, consecutive sequence numbers', () => {
      const suite = aes128;
      // Without aeadSealInto too: the layer then joins each record's content itself.
      const { aeadSealInto: _, ...withoutSealInto } = provider;
      for (const sealer of [provider, withoutSealInto]) {
        fc.assert(
          fc.property(
            fc.array(fc.integer({ min: 0, max: 20000 }), { maxLength: 6 }),
            fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
            (lengths, padding) => {
              const keys = randomKeys(suite);
              const parts = lengths.map((n, i) => counting(n, i * 7));
              const joined = concat(...parts);
              const options = { role: 'client' as const, ...(padding === undefined ? {} : { padding }) };
              const whole = new RecordLayer({ ...options, provider });
              whole.setWriteKeys(suite, keys, 'application');
              const inParts = new RecordLayer({ ...options, provider: sealer });
              inParts.setWriteKeys(suite, keys, 'application');
              const wire = inParts.writeApplicationData(parts);
              expect(wire).toEqual(whole.writeApplicationData(joined));
              // Every record but the last carries 2^14 bytes of content (§5.1), none more.
              const records = Math.max(1, Math.ceil(joined.length / MAX_PLAINTEXT_LENGTH));
              expect(inParts.writeSequence).toBe(BigInt(records));
              const reader = new RecordLayer({ provider, role: 'server' });
              reader.setReadKeys(suite, keys, 'application');
              reader.receive(wire);
              const items = drain(reader);
              const sizes = items.map((i) => (i.kind === 'application_data' ? i.data.length : -1));
              expect(sizes).toEqual(
                Array.from({ length: records }, (_, r) => Math.min(MAX_PLAINTEXT_LENGTH, joined.length - r * MAX_PLAINTEXT_LENGTH)),
              );
              expect(reader.readSequence).toBe(BigInt(records));
              expect(concat(...items.map((i) => (i.kind === 'application_data' ? i.data : new Uint8Array(0))))).toEqual(joined);
            },
          ),
          { numRuns: 25 },
        );
      }
    });

    it('writes application data as chunks whose bytes are the records writeApplicationData writes, sealed under consecutive sequence numbers', () => {
      const suite = aes128;
      // Without aeadSealPieces the chunks are one array: writeApplicationData's.
      const { aeadSealPieces: _, ...withoutPieces } = provider;
      for (const sealer of [provider, withoutPieces]) {
        fc.assert(
          fc.property(
            fc.array(fc.array(fc.integer({ min: 0, max: 40000 }), { maxLength: 4 }), { minLength: 1, maxLength: 3 }),
            fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
            (batches, padding) => {
              const keys = randomKeys(suite);
              const options = { role: 'client' as const, ...(padding === undefined ? {} : { padding }) };
              const whole = new RecordLayer({ ...options, provider });
              whole.setWriteKeys(suite, keys, 'application');
              const chunked = new RecordLayer({ ...options, provider: sealer });
              chunked.setWriteKeys(suite, keys, 'application');
              const reader = new RecordLayer({ provider, role: 'server' });
              reader.setReadKeys(suite, keys, 'application');
              let records = 0;
              const sent: Uint8Array[] = [];
              for (const [b, lengths] of batches.entries()) {
                const parts = lengths.map((n, i) => counting(n, b * 31 + i * 7));
                const joined = concat(...parts);
                const chunks = chunked.writeApplicationDataChunks(parts);
                if (sealer === withoutPieces) expect(chunks).toHaveLength(1);
                // The same records, byte for byte, whichever way they are written.
                const wire = concat(...chunks);
                expect(wire).toEqual(whole.writeApplicationData(joined));
                records += Math.max(1, Math.ceil(joined.length / MAX_PLAINTEXT_LENGTH));
                expect(chunked.writeSequence).toBe(BigInt(records));
                reader.receive(wire);
                sent.push(joined);
              }
              const items = drain(reader);
              expect(items.every((i) => i.kind === 'application_data')).toBe(true);
              expect(items).toHaveLength(records);
              expect(reader.readSequence).toBe(BigInt(records));
              expect(concat(...items.map((i) => (i.kind === 'application_data' ? i.data : new Uint8Array(0))))).toEqual(concat(...sent));
            },
          ),
          { numRuns: 20 },
        );
      }
    });

    it('writes each application-data record as its header and ciphertext chunks, none larger than 2^14 + 256 + 5 bytes', () => {
      const { writer } = protectedPair();
      const data = counting(3 * MAX_PLAINTEXT_LENGTH + 100, 3);
      const chunks = writer.writeApplicationDataChunks([data.subarray(0, 70000), data.subarray(70000)]);
      expect(chunks.every((c) => c.length <= MAX_PLAINTEXT_LENGTH + 256 + 5)).toBe(true);
      // Record by record, as the wire carries them: header, then 2^14 + 1 + 16 bytes (the last: 100 + 1 + 16).
      const wire = concat(...chunks);
      const lengths: number[] = [];
      for (let at = 0; at < wire.length; ) {
        const length = ((wire[at + 3] as number) << 8) | (wire[at + 4] as number);
        lengths.push(length);
        at += 5 + length;
      }
      expect(lengths).toEqual([16401, 16401, 16401, 117]);
    });

    it('refuses application data before write keys, as chunks too', () => {
      const error = thrown(() => new RecordLayer({ provider: provider, role: 'client' }).writeApplicationDataChunks([counting(3)]));
      expect(error).toBeInstanceOf(TlsError);
      expect((error as TlsError).reason).toBe('NoWriteKeys');
    });

    it('honours a smaller maxFragment', () => {
      const wire = new RecordLayer({ provider: provider, role: 'server', maxFragment: 100 }).writeHandshake(msgB);
      expect(wire.length).toBe(msgB.length + 6 * 5);
    });

    it('refuses application data before write keys', () => {
      const error = thrown(() => new RecordLayer({ provider: provider, role: 'client' }).writeApplicationData(counting(3)));
      expect(error).toBeInstanceOf(TlsError);
      expect((error as TlsError).reason).toBe('NoWriteKeys');
    });

    it('refuses an empty handshake message and out-of-range alert values', () => {
      const layer = new RecordLayer({ provider: provider, role: 'client' });
      expect(() => layer.writeHandshake(new Uint8Array(0))).toThrow(RangeError);
      expect(() => layer.writeAlert(2, 256)).toThrow(RangeError);
    });
  });

  describe('RecordLayer early-data skipping', () => {
    function earlyRecords(count: number, length: number): Uint8Array[] {
      const early = new RecordProtector(aes128, randomKeys(aes128), provider); // client_early_traffic keys the server refused
      return Array.from({ length: count }, () => early.protect(23, counting(length)));
    }

    it('skips undecryptable records under the limit and stops at the first record that decrypts', () => {
      const { reader, writer } = protectedPair();
      reader.skipEarlyData(1000);
      const early = earlyRecords(3, 100);
      reader.receive(concat(...early, writer.writeHandshake(msgC)));
      expect(drain(reader)).toEqual([
        { kind: 'early_data_skipped', bytes: 117 },
        { kind: 'early_data_skipped', bytes: 117 },
        { kind: 'early_data_skipped', bytes: 117 },
        { kind: 'handshake', raw: msgC, encrypted: true },
      ]);
      expect(reader.isSkippingEarlyData).toBe(false);
      reader.receive(earlyRecords(1, 10)[0] as Uint8Array);
      expect(errorOf(reader.next()).alert).toBe('bad_record_mac');
    });

    it('fails with bad_record_mac once the skipped bytes exceed the limit', () => {
      const { reader } = protectedPair();
      reader.skipEarlyData(300);
      reader.receive(concat(...earlyRecords(3, 100)));
      const items = drain(reader);
      expect(items.slice(0, 2).map((i) => i.kind)).toEqual(['early_data_skipped', 'early_data_skipped']);
      const error = lastError(items);
      expect(error.alert).toBe('bad_record_mac');
      expect(error.reason).toBe('EarlyDataLimitExceeded');
    });

    it('skips application_data records while no read keys are set, until the next plaintext handshake record', () => {
      const server = new RecordLayer({ provider: provider, role: 'server' });
      server.skipEarlyData();
      server.receive(concat(...earlyRecords(2, 50), plaintextRecord(20, Uint8Array.of(1)), plaintextRecord(22, msgA)));
      expect(drain(server)).toEqual([
        { kind: 'early_data_skipped', bytes: 67 },
        { kind: 'early_data_skipped', bytes: 67 },
        { kind: 'change_cipher_spec', encrypted: false },
        { kind: 'handshake', raw: msgA, encrypted: false },
      ]);
      server.receive(earlyRecords(1, 50)[0] as Uint8Array);
      expect(errorOf(server.next()).reason).toBe('UnprotectedApplicationData');
    });

    it('stops skipping when asked', () => {
      const { reader } = protectedPair();
      reader.skipEarlyData();
      reader.stopSkippingEarlyData();
      reader.receive(earlyRecords(1, 10)[0] as Uint8Array);
      expect(errorOf(reader.next()).alert).toBe('bad_record_mac');
    });
  });
});
